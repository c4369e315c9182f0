package io.vswitch.ofproto.openflow;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import org.projectfloodlight.openflow.exceptions.OFParseError;
import org.projectfloodlight.openflow.protocol.OFBadRequestCode;
import org.projectfloodlight.openflow.protocol.OFControllerRole;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFMessageReader;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.types.U32;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One OpenFlow connection to a bridge (OVS: {@code ofconn}). It sends its HELLO at once, negotiates
 * the version from the peer's HELLO, then decodes each message and hands it to the bridge's
 * {@link OfSwitch}. All on the OpenFlow event loop, like the switch state it touches.
 *
 * <p>A message that cannot be decoded gets an ERROR naming the problem and the connection carries
 * on; only a stream that has lost its framing (a length below the 8-byte header) is closed.
 */
public final class OfConnection extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(OfConnection.class.getName());
    private static final OFMessageReader<OFMessage> READER = OFFactories.getGenericReader();

    /** Controllers (Controller table) get packet-ins by default; service connections (ovs-ofctl via .mgmt) do not. */
    public enum Kind { PRIMARY, SERVICE }

    private final OfSwitch sw;
    private final Kind kind;
    private final String remote;
    private Channel channel;
    private OFFactory factory;
    private int missSendLen;
    private OFControllerRole role = OFControllerRole.ROLE_EQUAL;
    private boolean probeSent;
    private long badMessages;
    private long connectedAtNanos;
    /** Open bundles by id (OpenFlow 1.4+); they go with the connection. */
    final java.util.Map<Integer, OfBundle> bundles = new java.util.HashMap<>();

    public OfConnection(OfSwitch sw, Kind kind, String remote) {
        this.sw = sw;
        this.kind = kind;
        this.remote = remote;
        this.missSendLen = kind == Kind.PRIMARY ? 128 : 0;
    }

    public OFFactory factory() {
        return factory;
    }

    public Kind kind() {
        return kind;
    }

    public String remote() {
        return remote;
    }

    public int missSendLen() {
        return missSendLen;
    }

    public void setMissSendLen(int n) {
        missSendLen = n;
    }

    /** Seconds since the connection was made. */
    public long connectedSeconds() {
        return (System.nanoTime() - connectedAtNanos) / 1_000_000_000L;
    }

    public OFControllerRole role() {
        return role;
    }

    /**
     * The asynchronous-message configuration (SET_ASYNC; OpenFlow 1.3 section 7.3.10, properties
     * since 1.4): for each kind, a bitmap of reasons, [0] when master or equal, [1] when slave.
     * Defaults as OVS's: packet-ins for no-match and action, every port-status, every flow-removed,
     * every role-status (1.4), and a slave only port-status and role-status.
     */
    private final long[] packetInMask = {0x3, 0}, portStatusMask = {0x7, 0x7}, flowRemovedMask = {0xf, 0}, roleStatusMask = {0x7, 0x7};

    public void setAsync(org.projectfloodlight.openflow.protocol.OFAsyncSet a) {
        if (!Versions.hasProperties(a.getVersion())) {
            packetInMask[0] = a.getPacketInMaskEqualMaster();
            packetInMask[1] = a.getPacketInMaskSlave();
            portStatusMask[0] = a.getPortStatusMaskEqualMaster();
            portStatusMask[1] = a.getPortStatusMaskSlave();
            flowRemovedMask[0] = a.getFlowRemovedMaskEqualMaster();
            flowRemovedMask[1] = a.getFlowRemovedMaskSlave();
            return;
        }
        for (var p : a.getProperties()) {                 // only the kinds named change (1.4 section 7.3.10)
            switch (p) {
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropPacketInMaster x -> packetInMask[0] = x.getMask();
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropPacketInSlave x -> packetInMask[1] = x.getMask();
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropPortStatusMaster x -> portStatusMask[0] = x.getMask();
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropPortStatusSlave x -> portStatusMask[1] = x.getMask();
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropFlowRemovedMaster x -> flowRemovedMask[0] = x.getMask();
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropFlowRemovedSlave x -> flowRemovedMask[1] = x.getMask();
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropRoleStatusMaster x -> roleStatusMask[0] = x.getMask();
                case org.projectfloodlight.openflow.protocol.OFAsyncConfigPropRoleStatusSlave x -> roleStatusMask[1] = x.getMask();
                default -> { }                             // table-status, requestforward: never sent
            }
        }
    }

    public OFMessage asyncReply(long xid) {
        if (!Versions.hasProperties(factory.getVersion())) {
            return factory.buildAsyncGetReply().setXid(xid).setPacketInMaskEqualMaster(packetInMask[0]).setPacketInMaskSlave(packetInMask[1])
                    .setPortStatusMaskEqualMaster(portStatusMask[0]).setPortStatusMaskSlave(portStatusMask[1])
                    .setFlowRemovedMaskEqualMaster(flowRemovedMask[0]).setFlowRemovedMaskSlave(flowRemovedMask[1]).build();
        }
        OFFactory f = factory;
        return f.buildAsyncGetReply().setXid(xid).setProperties(List.of(
                f.asyncConfigPropPacketInMaster(packetInMask[0]), f.asyncConfigPropPacketInSlave(packetInMask[1]),
                f.asyncConfigPropPortStatusMaster(portStatusMask[0]), f.asyncConfigPropPortStatusSlave(portStatusMask[1]),
                f.asyncConfigPropFlowRemovedMaster(flowRemovedMask[0]), f.asyncConfigPropFlowRemovedSlave(flowRemovedMask[1]),
                f.asyncConfigPropRoleStatusMaster(roleStatusMask[0]), f.asyncConfigPropRoleStatusSlave(roleStatusMask[1]))).build();
    }

    private int roleIndex() {
        return role == OFControllerRole.ROLE_SLAVE ? 1 : 0;
    }

    /** Whether this connection, in its role, asked for packet-ins of {@code reason}. */
    public boolean wantsPacketIn(int reason) {
        return (packetInMask[roleIndex()] >>> reason & 1) != 0;
    }

    public boolean wantsPortStatus(org.projectfloodlight.openflow.protocol.OFPortReason reason) {
        return (portStatusMask[roleIndex()] >>> reason.ordinal() & 1) != 0;
    }

    /** Whether this connection asked for role-status messages (OpenFlow 1.4+) of {@code reason}. */
    public boolean wantsRoleStatus(int reason) {
        return Versions.hasProperties(factory.getVersion()) && (roleStatusMask[roleIndex()] >>> reason & 1) != 0;
    }

    public boolean wantsFlowRemoved(int reason) {
        return (flowRemovedMask[roleIndex()] >>> reason & 1) != 0;
    }

    public void setRole(OFControllerRole r) {
        role = r;
    }

    /** Whether the version is negotiated (only then may the switch send to it). */
    public boolean ready() {
        return factory != null && channel != null && channel.isActive();
    }

    public void send(OFMessage m) {
        channel.write(m).addListener(f -> {
            // A reply we cannot encode is our bug; the peer waits for it in vain, so say which.
            if (!f.isSuccess() && channel.isActive()) LOG.log(System.Logger.Level.WARNING, sw.name() + ": " + remote + ": could not send " + m.getType(), f.cause());
        });
    }

    /** Sends a message already encoded (one openflowj cannot build). */
    void sendEncoded(ByteBuf message) {
        channel.write(message);
    }

    public void flush() {
        channel.flush();
    }

    public void close() {
        if (channel != null) channel.close();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        connectedAtNanos = System.nanoTime();
        List<Integer> allowed = sw.versions();
        int highest = allowed.isEmpty() ? Versions.SUPPORTED.getLast() : allowed.getLast();   // empty: every HELLO fails
        OFFactory f = OFFactories.getFactory(Versions.of(highest));
        var bitmap = f.buildHelloElemVersionbitmap().setBitmaps(List.of(U32.of(Versions.bitmap(allowed)))).build();
        ctx.writeAndFlush(f.buildHello().setXid(0).setElements(List.of(bitmap)).build());
        sw.connected(this);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        sw.disconnected(this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            probeSent = false;
            if (frame.readableBytes() < 8) {
                LOG.log(System.Logger.Level.WARNING, sw.name() + ": " + remote + ": OpenFlow message shorter than its header; closing");
                ctx.close();
                return;
            }
            byte[] raw = ByteBufUtil.getBytes(frame);
            if (factory == null) {
                hello(ctx, raw);
                return;
            }
            if ((raw[0] & 0xff) != factory.getVersion().getWireVersion()) {
                reply(OfError.badRequest(OFBadRequestCode.BAD_VERSION, "version " + raw[0] + " on a " + factory.getVersion() + " connection"), raw);
                return;
            }
            OFMessage m;
            try {
                m = decode(raw);
            } catch (OfError e) {
                reply(e, raw);
                return;
            } catch (OFParseError | RuntimeException e) {
                if (badMessages++ < 5 || badMessages % 1000 == 0) {          // a broken peer must not flood the log
                    LOG.log(System.Logger.Level.INFO, sw.name() + ": " + remote + ": undecodable message (type " + (raw[1] & 0xff)
                            + ", " + badMessages + " so far): " + e.getMessage());
                }
                reply(OfError.badRequest(OFBadRequestCode.BAD_TYPE, e.getMessage()), raw);
                return;
            }
            if (m == null) {
                reply(OfError.badRequest(OFBadRequestCode.BAD_LEN, "truncated message"), raw);
                return;
            }
            sw.handle(this, m, raw);
        } finally {
            frame.release();
        }
    }

    /** Replies go out once per socket read, not once per message. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    private void hello(ChannelHandlerContext ctx, byte[] raw) {
        int peerVersion = raw[0] & 0xff;
        if ((raw[1] & 0xff) != 0) {
            LOG.log(System.Logger.Level.WARNING, sw.name() + ": " + remote + ": first message is not HELLO; closing");
            ctx.close();
            return;
        }
        int v = Versions.negotiate(sw.versions(), peerVersion, Versions.peerBitmap(raw));
        if (v < 0) {
            String text = "We support " + describe(sw.versions()) + ", you support version 0x" + String.format("%02x", peerVersion) + ", no common versions.";
            LOG.log(System.Logger.Level.INFO, sw.name() + ": " + remote + ": version negotiation failed: " + text);
            ctx.writeAndFlush(ctx.alloc().buffer().writeBytes(helloFailed(peerVersion, text))).addListener(f -> ctx.close());
            return;
        }
        factory = OFFactories.getFactory(Versions.of(v));
    }

    private static String describe(List<Integer> versions) {
        StringBuilder sb = new StringBuilder(versions.size() == 1 ? "version " : "versions ");
        for (int i = 0; i < versions.size(); i++) sb.append(i == 0 ? "" : ", ").append(String.format("0x%02x", versions.get(i)));
        return sb.toString();
    }

    /** ERROR HELLO_FAILED/INCOMPATIBLE in the peer's own version, which it can surely decode. */
    private static byte[] helloFailed(int version, String text) {
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        int len = 12 + t.length;
        byte[] m = new byte[len];
        m[0] = (byte) version;
        m[1] = 1;
        m[2] = (byte) (len >> 8);
        m[3] = (byte) len;
        System.arraycopy(t, 0, m, 12, t.length);
        return m;
    }

    /** Sends the error for request {@code raw}. */
    /** Decodes one message (null if truncated); what openflowj cannot read in 1.5 (group-mods, bundle-adds), {@link Of15} does. */
    static OFMessage decode(byte[] raw) throws OfError, OFParseError {
        if (Of15.isGroupMod(raw)) return Of15.groupModIn(raw);
        if (Of15.isBundleAdd(raw)) {
            // A bundle holds flow-mods and group-mods; a bundle-add inside one is refused before it is
            // decoded, so a message of nested bundle-adds cannot make us copy it again at every level.
            if (raw.length >= 18 && raw[17] == 34) throw OfError.bundleFailed(org.projectfloodlight.openflow.protocol.OFBundleFailedCode.MSG_UNSUP, "a bundle-add inside a bundle-add");
            OFMessage inner = raw.length < 24 ? null : decode(java.util.Arrays.copyOfRange(raw, 16, raw.length));
            return inner == null ? null : Of15.bundleAddIn(raw, inner);
        }
        return READER.readFrom(io.netty.buffer.Unpooled.wrappedBuffer(raw));
    }

    public void reply(OfError e, byte[] raw) {
        long xid = (raw[4] & 0xffL) << 24 | (raw[5] & 0xff) << 16 | (raw[6] & 0xff) << 8 | (raw[7] & 0xff);
        send(e.message(factory, xid, raw));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof IdleStateEvent)) return;
        if (probeSent || factory == null) {
            LOG.log(System.Logger.Level.INFO, sw.name() + ": " + remote + ": no response to inactivity probe; disconnecting");
            ctx.close();
        } else {
            probeSent = true;
            ctx.writeAndFlush(factory.buildEchoRequest().setXid(0).setData(new byte[0]).build());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.INFO, sw.name() + ": " + remote + ": " + cause.getMessage() + "; closing");
        ctx.close();
    }
}
