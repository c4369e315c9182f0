package io.vswitch.cli.ofctl;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.projectfloodlight.openflow.exceptions.OFParseError;
import org.projectfloodlight.openflow.protocol.OFErrorMsg;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFStatsReply;
import org.projectfloodlight.openflow.protocol.OFStatsReplyFlags;
import org.projectfloodlight.openflow.protocol.OFStatsRequest;
import org.projectfloodlight.openflow.protocol.OFType;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.types.U32;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One blocking OpenFlow 1.3 connection to a switch, as ovs-ofctl makes it: HELLO, then requests
 * answered in order. A reply is found by its xid; asynchronous messages in between are skipped.
 */
final class OfClient implements AutoCloseable {
    static final OFFactory OF13 = OFFactories.getFactory(OFVersion.OF_13);

    private final SocketChannel channel;
    private final String name;
    private long nextXid = 1;

    private OfClient(SocketChannel channel, String name) {
        this.channel = channel;
        this.name = name;
    }

    /** Connects to TARGET: a bridge name (its management socket in {@code runDir}), {@code unix:PATH} or {@code tcp:IP[:PORT]}. */
    static OfClient connect(String target, Path runDir) throws OfctlException {
        try {
            SocketChannel ch;
            String name = target;
            if (target.startsWith("tcp:")) {
                String[] hp = target.substring(4).split(":");
                ch = SocketChannel.open(new InetSocketAddress(hp[0], hp.length > 1 ? Integer.parseInt(hp[1]) : 6653));
            } else {
                Path socket = target.startsWith("unix:") ? Path.of(target.substring(5)) : runDir.resolve(target + ".mgmt");
                if (!Files.exists(socket)) {
                    throw new OfctlException(target + " is not a bridge or a socket (no " + socket
                            + "; is the switch running, and VSWITCH_RUNDIR its run dir?)");
                }
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(socket));
                name = "unix:" + socket;                           // what ovs-ofctl calls it in messages
            }
            OfClient c = new OfClient(ch, name);
            c.hello();
            return c;
        } catch (IOException | NumberFormatException e) {
            throw new OfctlException(target + ": connection failed (" + e.getMessage() + ")");
        }
    }

    private void hello() throws IOException, OfctlException {
        send(OF13.buildHello().setXid(nextXid++).setElements(List.of(
                OF13.buildHelloElemVersionbitmap().setBitmaps(List.of(U32.of(1 << 4))).build())).build());
        byte[] raw = readFrame();
        if (raw[1] != 0) throw new OfctlException(name + ": the switch did not start with HELLO");
        int version = raw[0] & 0xff;
        int bitmap = io.vswitch.cli.ofctl.OfClient.bitmap(raw);
        boolean ok = bitmap != 0 ? (bitmap & 1 << 4) != 0 : version >= 4;
        if (!ok) {
            throw new OfctlException(name + ": version negotiation failed (we support version 0x04, peer supports version 0x"
                    + String.format("%02x", version) + ")");
        }
    }

    private static int bitmap(byte[] hello) {
        for (int at = 8; at + 8 <= hello.length; ) {
            int type = (hello[at] & 0xff) << 8 | (hello[at + 1] & 0xff), len = (hello[at + 2] & 0xff) << 8 | (hello[at + 3] & 0xff);
            if (type == 1) return ByteBuffer.wrap(hello, at + 4, 4).getInt();
            if (len < 4) break;
            at += (len + 7) & ~7;
        }
        return 0;
    }

    String name() {
        return name;
    }

    long xid() {
        return nextXid++;
    }

    void send(OFMessage m) throws IOException {
        ByteBuf b = Unpooled.buffer(256);
        m.writeTo(b);
        ByteBuffer out = b.nioBuffer();
        while (out.hasRemaining()) channel.write(out);
    }

    private byte[] readFrame() throws IOException, OfctlException {
        ByteBuffer header = ByteBuffer.allocate(8);
        readFully(header);
        int len = header.getShort(2) & 0xffff;
        if (len < 8) throw new OfctlException(name + ": bad message length " + len);
        ByteBuffer frame = ByteBuffer.allocate(len);
        frame.put(header.array());
        readFully(frame);
        return frame.array();
    }

    private void readFully(ByteBuffer b) throws IOException, OfctlException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) throw new OfctlException(name + ": connection closed by the switch");
        }
    }

    /** Reads messages until the one answering {@code xid}; an ERROR answering it is thrown. */
    OFMessage reply(long xid) throws IOException, OfctlException {
        while (true) {
            byte[] raw = readFrame();
            OFMessage m;
            try {
                m = OF13.getReader().readFrom(Unpooled.wrappedBuffer(raw));
            } catch (OFParseError e) {
                throw new OfctlException(name + ": undecodable reply: " + e.getMessage());
            }
            if (m == null || m.getXid() != xid) continue;                 // asynchronous, or a reply we did not wait for
            if (m instanceof OFErrorMsg e) throw new OfctlException(Errors.describe(e), true);
            return m;
        }
    }

    /** Reads the next message whatever it is (monitor). */
    OFMessage next() throws IOException, OfctlException {
        while (true) {
            try {
                OFMessage m = OF13.getReader().readFrom(Unpooled.wrappedBuffer(readFrame()));
                if (m != null) return m;
            } catch (OFParseError e) {
                // a message we cannot print: skip it
            }
        }
    }

    OFMessage transact(OFMessage request) throws IOException, OfctlException {
        send(request);
        return reply(request.getXid());
    }

    /** Sends a request and a barrier, and returns when the barrier is answered (an error for the request is thrown). */
    void transactNoReply(OFMessage request) throws IOException, OfctlException {
        transactAll(List.of(request));
    }

    /**
     * Sends {@code requests} and a barrier, and reads to the barrier's reply. The first ERROR
     * answering one of them is thrown (after the barrier, so the stream stays in step).
     */
    void transactAll(List<OFMessage> requests) throws IOException, OfctlException {
        java.util.Map<Long, OFMessage> sent = new java.util.HashMap<>();
        for (OFMessage m : requests) {
            send(m);
            sent.put(m.getXid(), m);
        }
        long barrier = xid();
        send(OF13.buildBarrierRequest().setXid(barrier).build());
        OfctlException first = null;
        while (true) {
            OFMessage m;
            try {
                m = OF13.getReader().readFrom(Unpooled.wrappedBuffer(readFrame()));
            } catch (OFParseError e) {
                continue;
            }
            if (m == null) continue;
            if (m instanceof OFErrorMsg e && sent.containsKey(m.getXid()) && first == null) first = Errors.of(e, sent.get(m.getXid()));
            if (m.getXid() == barrier && m.getType() == OFType.BARRIER_REPLY) break;
        }
        if (first != null) throw first;
    }

    /** A multipart request's replies, all parts. */
    <R extends OFStatsReply> List<R> multipart(OFStatsRequest<R> request) throws IOException, OfctlException {
        send(request);
        List<R> parts = new ArrayList<>();
        while (true) {
            @SuppressWarnings("unchecked")
            R part = (R) reply(request.getXid());
            parts.add(part);
            if (!part.getFlags().contains(OFStatsReplyFlags.REPLY_MORE)) return parts;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing: nothing to do
        }
    }
}
