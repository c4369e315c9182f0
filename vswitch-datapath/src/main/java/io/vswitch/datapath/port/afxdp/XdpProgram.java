package io.vswitch.datapath.port.afxdp;

import io.vswitch.datapath.sys.Bpf;
import io.vswitch.datapath.sys.Libc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The XDP program an {@code afxdp} port attaches to its interface, and its XSKMAP.
 *
 * <p>The whole program, five instructions assembled here (no compiler, no ELF, no libbpf):
 * <pre>
 *   r2 = *(u32 *)(r1 + 16)        ; ctx->rx_queue_index
 *   r1 = map_fd(xskmap)           ; 64-bit immediate load, patched by the kernel to the map
 *   r3 = XDP_PASS                 ; what to do if no socket is bound for this queue
 *   call bpf_redirect_map         ; to the AF_XDP socket of that queue
 *   exit
 * </pre>
 * So every frame of a queue with a socket goes to the switch; a queue without one keeps reaching the
 * kernel stack. It is attached through a BPF link ({@code BPF_LINK_CREATE}): the link — and so the
 * program — goes away when its file descriptor is closed, which also happens when the dataplane is
 * killed; a restarted dataplane finds the interface clean.
 */
final class XdpProgram implements AutoCloseable {
    private static final int XDP_PASS = 2;
    private static final int BPF_FUNC_REDIRECT_MAP = 51;

    final int mapFd;
    private final int progFd;
    private final int linkFd;
    /** "native" or "generic": where the kernel runs the program. */
    final String mode;

    private XdpProgram(int mapFd, int progFd, int linkFd, String mode) {
        this.mapFd = mapFd;
        this.progFd = progFd;
        this.linkFd = linkFd;
        this.mode = mode;
    }

    /**
     * Loads the program with an XSKMAP of {@code queues} entries and attaches it to {@code ifindex} in
     * {@code mode}: "native" (driver), "generic" (skb), or "best-effort" (native, else generic).
     */
    static XdpProgram attach(String ifname, int ifindex, int queues, String mode) {
        int map = Bpf.createMap(Bpf.BPF_MAP_TYPE_XSKMAP, 4, 4, queues, "vsw_xsks");
        int prog = -1;
        try {
            prog = Bpf.loadProgram(Bpf.BPF_PROG_TYPE_XDP, Bpf.BPF_XDP, program(map), "Dual MIT/GPL", "vsw_xsk_redir");
            int link;
            String used;
            if (mode.equals("generic")) {
                link = Bpf.attachXdp(prog, ifindex, Bpf.XDP_FLAGS_SKB_MODE);
                used = "generic";
            } else {
                try {
                    link = Bpf.attachXdp(prog, ifindex, Bpf.XDP_FLAGS_DRV_MODE);
                    used = "native";
                } catch (RuntimeException e) {
                    if (!mode.equals("best-effort")) throw e;
                    System.getLogger(XdpProgram.class.getName()).log(System.Logger.Level.INFO,
                            ifname + ": native XDP refused (" + e.getMessage() + "), using generic mode");
                    link = Bpf.attachXdp(prog, ifindex, Bpf.XDP_FLAGS_SKB_MODE);
                    used = "generic";
                }
            }
            return new XdpProgram(map, prog, link, used);
        } catch (RuntimeException e) {
            if (prog >= 0) Libc.close(prog);
            Libc.close(map);
            throw e;
        }
    }

    /** Binds queue {@code queue}'s socket: frames of that queue go to it from now on. */
    void register(int queue, int xskFd) {
        Bpf.updateElement(mapFd, queue, xskFd);
    }

    static byte[] program(int mapFd) {
        ByteBuffer b = ByteBuffer.allocate(6 * 8).order(ByteOrder.LITTLE_ENDIAN);
        insn(b, 0x61, 2, 1, 16, 0);                 // BPF_LDX | BPF_MEM | BPF_W
        insn(b, 0x18, 1, 1, 0, mapFd);              // BPF_LD | BPF_DW | BPF_IMM, src = BPF_PSEUDO_MAP_FD
        insn(b, 0x00, 0, 0, 0, 0);                  //   (upper half of the 64-bit immediate)
        insn(b, 0xb7, 3, 0, 0, XDP_PASS);           // BPF_ALU64 | BPF_MOV | BPF_K
        insn(b, 0x85, 0, 0, 0, BPF_FUNC_REDIRECT_MAP); // BPF_JMP | BPF_CALL
        insn(b, 0x95, 0, 0, 0, 0);                  // BPF_JMP | BPF_EXIT
        return b.array();
    }

    private static void insn(ByteBuffer b, int code, int dst, int src, int off, int imm) {
        b.put((byte) code).put((byte) ((src << 4) | dst)).putShort((short) off).putInt(imm);
    }

    /** Detaches the program (closing the link) and frees program and map. */
    @Override
    public void close() {
        Libc.close(linkFd);
        Libc.close(progFd);
        Libc.close(mapFd);
    }
}
