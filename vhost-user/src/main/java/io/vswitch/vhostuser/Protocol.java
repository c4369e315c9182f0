package io.vswitch.vhostuser;

/**
 * Numbers of the vhost-user protocol (QEMU's docs/interop/vhost-user.rst) and of the virtio-net
 * features we negotiate. A message is a 12-byte header (request u32, flags u32, payload size u32)
 * followed by the payload, with file descriptors riding along as SCM_RIGHTS.
 */
final class Protocol {
    private Protocol() {}

    static final int HEADER = 12;
    /** Largest payload we accept; more means the stream is garbage and the connection is closed. */
    static final int MAX_PAYLOAD = 4096;

    static final int FLAG_VERSION = 0x1;
    static final int FLAG_VERSION_MASK = 0x3;
    static final int FLAG_REPLY = 0x4;
    static final int FLAG_NEED_REPLY = 0x8;

    // Front-end requests.
    static final int GET_FEATURES = 1;
    static final int SET_FEATURES = 2;
    static final int SET_OWNER = 3;
    static final int RESET_OWNER = 4;
    static final int SET_MEM_TABLE = 5;
    static final int SET_LOG_BASE = 6;
    static final int SET_LOG_FD = 7;
    static final int SET_VRING_NUM = 8;
    static final int SET_VRING_ADDR = 9;
    static final int SET_VRING_BASE = 10;
    static final int GET_VRING_BASE = 11;
    static final int SET_VRING_KICK = 12;
    static final int SET_VRING_CALL = 13;
    static final int SET_VRING_ERR = 14;
    static final int GET_PROTOCOL_FEATURES = 15;
    static final int SET_PROTOCOL_FEATURES = 16;
    static final int GET_QUEUE_NUM = 17;
    static final int SET_VRING_ENABLE = 18;
    static final int SEND_RARP = 19;
    static final int NET_SET_MTU = 20;
    static final int SET_BACKEND_REQ_FD = 21;
    static final int RESET_DEVICE = 34;
    static final int SET_STATUS = 39;
    static final int GET_STATUS = 40;

    private static final String[] NAMES = new String[41];

    static {
        String[] n = {"", "GET_FEATURES", "SET_FEATURES", "SET_OWNER", "RESET_OWNER", "SET_MEM_TABLE", "SET_LOG_BASE",
            "SET_LOG_FD", "SET_VRING_NUM", "SET_VRING_ADDR", "SET_VRING_BASE", "GET_VRING_BASE", "SET_VRING_KICK",
            "SET_VRING_CALL", "SET_VRING_ERR", "GET_PROTOCOL_FEATURES", "SET_PROTOCOL_FEATURES", "GET_QUEUE_NUM",
            "SET_VRING_ENABLE", "SEND_RARP", "NET_SET_MTU", "SET_BACKEND_REQ_FD", "IOTLB_MSG", "SET_VRING_ENDIAN",
            "GET_CONFIG", "SET_CONFIG", "CREATE_CRYPTO_SESSION", "CLOSE_CRYPTO_SESSION", "POSTCOPY_ADVISE",
            "POSTCOPY_LISTEN", "POSTCOPY_END", "GET_INFLIGHT_FD", "SET_INFLIGHT_FD", "GPU_SET_SOCKET", "RESET_DEVICE",
            "VRING_KICK", "GET_MAX_MEM_SLOTS", "ADD_MEM_REG", "REM_MEM_REG", "SET_STATUS", "GET_STATUS"};
        System.arraycopy(n, 0, NAMES, 0, n.length);
    }

    static String name(int request) {
        return request > 0 && request < NAMES.length ? NAMES[request] : "request " + request;
    }

    // Protocol features (GET/SET_PROTOCOL_FEATURES).
    static final int PF_MQ = 0;
    static final int PF_LOG_SHMFD = 1;
    static final int PF_RARP = 2;
    static final int PF_REPLY_ACK = 3;
    static final int PF_NET_MTU = 4;
    static final int PF_STATUS = 16;
    static final long PROTOCOL_FEATURES = 1L << PF_MQ | 1L << PF_LOG_SHMFD | 1L << PF_RARP | 1L << PF_REPLY_ACK | 1L << PF_NET_MTU | 1L << PF_STATUS;

    // Virtio feature bits.
    /** The guest may leave TCP/UDP checksums to us (header flag NEEDS_CSUM); we complete them where needed. */
    static final int F_CSUM = 0;
    /** We may give the guest frames with a partial checksum (NEEDS_CSUM), as another guest left it. */
    static final int F_GUEST_CSUM = 1;
    static final int F_MTU = 3;
    /** The guest may hand over TCP frames of up to 64 KiB (gso_type TCPV4/TCPV6) for us to segment. */
    static final int F_HOST_TSO4 = 11;
    static final int F_HOST_TSO6 = 12;
    /** ... with ECN: the CWR flag then belongs on the first segment only (done for every frame anyway). */
    static final int F_HOST_ECN = 13;
    static final int F_MRG_RXBUF = 15;
    static final int F_MQ = 22;
    /** VHOST_F_LOG_ALL: a live migration runs, log every write into guest memory. */
    static final int F_LOG_ALL = 26;
    static final int F_INDIRECT_DESC = 28;
    static final int F_EVENT_IDX = 29;
    static final int F_PROTOCOL_FEATURES = 30;
    static final int F_VERSION_1 = 32;
    /** The packed virtqueue layout (virtio 1.1 section 2.8). */
    static final int F_RING_PACKED = 34;
    /** Buffers are used in the order they were made available (we always do), so drivers may take a simpler path. */
    static final int F_IN_ORDER = 35;
    static final long FEATURES = 1L << F_CSUM | 1L << F_GUEST_CSUM | 1L << F_MTU | 1L << F_HOST_TSO4 | 1L << F_HOST_TSO6 | 1L << F_HOST_ECN | 1L << F_MRG_RXBUF | 1L << F_MQ | 1L << F_LOG_ALL | 1L << F_INDIRECT_DESC
            | 1L << F_EVENT_IDX | 1L << F_PROTOCOL_FEATURES | 1L << F_VERSION_1 | 1L << F_RING_PACKED | 1L << F_IN_ORDER;

    /** Queue pairs a frontend may use (GET_QUEUE_NUM). */
    static final int MAX_QUEUE_PAIRS = 16;

    /** VHOST_USER_VRING_NOFD_MASK in SET_VRING_KICK/CALL/ERR: no descriptor, the ring is polled. */
    static final long VRING_NOFD = 1L << 8;
    static final long VRING_INDEX_MASK = 0xff;

    /** virtio_net_hdr.flags: the checksum from csum_start, stored at csum_start + csum_offset, is still to be done. */
    static final int HDR_F_NEEDS_CSUM = 1;
    /** virtio_net_hdr.gso_type values we take (HOST_TSO4/6), and the ECN bit that may come with them. */
    static final int GSO_TCPV4 = 1;
    static final int GSO_TCPV6 = 4;
    static final int GSO_ECN = 0x80;

    /** Device status bit (virtio 2.1): the guest driver is ready. */
    static final int STATUS_DRIVER_OK = 4;
}
