package io.vswitch.datapath.ipc;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The control&lt;-&gt;dataplane channel: one shared file holding a header and two Agrona ring buffers.
 *
 * <pre>
 *   0      header (4 KiB): magic, layout version, dataplane pid, epoch, heartbeat (ms);
 *          at 64 and 128 (lines of their own) the commands' and the events' {@link Doorbell}s
 *   4 KiB  commands ring  (vswitchd -> vswitch-dp), ManyToOneRingBuffer
 *   ...    replies ring   (vswitch-dp -> vswitchd): replies to commands and state dumps
 *   ...    events ring    (vswitch-dp -> vswitchd): packet-ins, written by the PMDs themselves
 * </pre>
 * The dataplane creates the file at start with a fresh random epoch; the control process maps it and
 * notices a restarted dataplane by a changed epoch or a stale heartbeat. ManyToOne rings are used in
 * both directions because they can be {@link RingBuffer#unblock() unblocked} when a writer dies in
 * the middle of a message (e.g. vswitchd killed with -9). Events have their own ring, read by a
 * thread of their own in vswitchd: they come at any time, replies only to the one waiting request.
 * The readers of the commands and the events sleep on their rings' doorbells when idle; the replies'
 * reader polls, but only while a request waits.
 */
public final class IpcChannel implements AutoCloseable {
    public static final long MAGIC = 0x5653574450495043L; // "VSWDPIPC"
    public static final int LAYOUT_VERSION = 3;
    public static final String FILE_NAME = "vswitch-dp.ipc";
    static final int HEADER = 4096;
    static final int RING = 1 << 20;
    /** Room for about 2000 full-size packet-ins, or 50000 of 64-byte frames. */
    static final int EVENTS_RING = 4 << 20;
    static final long SIZE = HEADER + 2L * (RING + RingBufferDescriptor.TRAILER_LENGTH) + EVENTS_RING + RingBufferDescriptor.TRAILER_LENGTH;
    private static final int OFF_MAGIC = 0;
    private static final int OFF_VERSION = 8;
    private static final int OFF_PID = 16;
    private static final int OFF_EPOCH = 24;
    private static final int OFF_HEARTBEAT = 32;
    private static final int OFF_COMMANDS_BELL = 64;
    private static final int OFF_EVENTS_BELL = 128;

    private final SharedFile file;
    private final UnsafeBuffer header;
    public final RingBuffer commands;
    public final RingBuffer replies;
    public final RingBuffer events;
    /** Rung by every writer of {@link #commands}; the dataplane's control thread sleeps on it. */
    public final Doorbell commandsBell;
    /** Rung by the PMDs after a packet-in; vswitchd's packet-in reader sleeps on it. */
    public final Doorbell eventsBell;

    private IpcChannel(SharedFile file) {
        this.file = file;
        this.header = file.buffer(0, HEADER);
        int ringLen = RING + RingBufferDescriptor.TRAILER_LENGTH;
        this.commands = new ManyToOneRingBuffer(file.buffer(HEADER, ringLen));
        this.replies = new ManyToOneRingBuffer(file.buffer(HEADER + (long) ringLen, ringLen));
        this.events = new ManyToOneRingBuffer(file.buffer(HEADER + 2L * ringLen, EVENTS_RING + RingBufferDescriptor.TRAILER_LENGTH));
        this.commandsBell = new Doorbell(header, OFF_COMMANDS_BELL);
        this.eventsBell = new Doorbell(header, OFF_EVENTS_BELL);
    }

    /** Dataplane side: creates the channel file with a new epoch. */
    public static IpcChannel create(Path runDir, long pid, long epoch) throws IOException {
        return init(SharedFile.create(runDir.resolve(FILE_NAME), SIZE), pid, epoch);
    }

    /** Both ends in one process (tests): an anonymous region. */
    public static IpcChannel anonymous(long pid, long epoch) {
        return init(SharedFile.anonymous(SIZE), pid, epoch);
    }

    private static IpcChannel init(SharedFile f, long pid, long epoch) {
        IpcChannel c = new IpcChannel(f);
        c.header.putLong(OFF_PID, pid);
        c.header.putLong(OFF_EPOCH, epoch);
        c.header.putIntVolatile(OFF_VERSION, LAYOUT_VERSION);
        c.header.putLongVolatile(OFF_MAGIC, MAGIC);
        c.heartbeat();
        return c;
    }

    /** Control side: maps the dataplane's channel file and checks its layout. */
    public static IpcChannel open(Path runDir) throws IOException {
        SharedFile f = SharedFile.map(runDir.resolve(FILE_NAME));
        if (f.size() != SIZE) {
            f.close();
            throw new IOException(runDir.resolve(FILE_NAME) + " has an unexpected size; is vswitch-dp of the same version running?");
        }
        IpcChannel c = new IpcChannel(f);
        if (c.header.getLongVolatile(OFF_MAGIC) != MAGIC || c.header.getIntVolatile(OFF_VERSION) != LAYOUT_VERSION) {
            f.close();
            throw new IOException(runDir.resolve(FILE_NAME) + ": not a vswitch IPC file of layout version " + LAYOUT_VERSION);
        }
        return c;
    }

    /**
     * The epoch in {@code runDir}'s channel file, read with one 32-byte read instead of mapping the
     * file (what a control process polling for a restarted dataplane needs); 0 if there is no file or
     * it is not (yet) a complete channel of this layout.
     */
    public static long readEpoch(Path runDir) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(runDir.resolve(FILE_NAME))) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(OFF_HEARTBEAT).order(java.nio.ByteOrder.nativeOrder());
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // a short read only happens on a file still being created
            }
            if (b.hasRemaining() || b.getLong(OFF_MAGIC) != MAGIC || b.getInt(OFF_VERSION) != LAYOUT_VERSION) return 0;
            return b.getLong(OFF_EPOCH);
        } catch (IOException e) {
            return 0;
        }
    }

    public long pid() {
        return header.getLong(OFF_PID);
    }

    public long epoch() {
        return header.getLongVolatile(OFF_EPOCH);
    }

    /** Dataplane: called periodically so the control process can tell it is alive. */
    public void heartbeat() {
        header.putLongVolatile(OFF_HEARTBEAT, System.currentTimeMillis());
    }

    public long lastHeartbeat() {
        return header.getLongVolatile(OFF_HEARTBEAT);
    }

    @Override
    public void close() {
        file.close();
    }
}
