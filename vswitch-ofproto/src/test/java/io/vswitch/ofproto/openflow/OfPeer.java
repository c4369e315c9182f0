package io.vswitch.ofproto.openflow;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.types.U32;

import java.util.ArrayList;
import java.util.List;

/** A test's end of one OpenFlow connection to a switch, over an embedded channel, in one version. */
final class OfPeer {
    final EmbeddedChannel channel = new EmbeddedChannel();
    private final OFFactory f;

    /** Connects and negotiates {@code f}'s version (our HELLO, in our highest version, is read and dropped). */
    OfPeer(OfSwitch sw, OfConnection.Kind kind, OFFactory f) {
        this.f = f;
        OfTransport.pipeline(channel, new OfConnection(sw, kind, "test"), 0);
        channel.pipeline().fireChannelActive();
        send(f.buildHello().setXid(1).setElements(List.of(
                f.buildHelloElemVersionbitmap().setBitmaps(List.of(U32.of(1 << f.getVersion().getWireVersion()))).build())).build());
        ((ByteBuf) channel.readOutbound()).release();
    }

    static ByteBuf bytes(OFMessage m) {
        ByteBuf b = Unpooled.buffer();
        m.writeTo(b);
        return b;
    }

    void send(OFMessage m) {
        channel.writeInbound(bytes(m));
    }

    /** What the switch has sent since the last call, decoded. */
    List<OFMessage> received() {
        List<OFMessage> out = new ArrayList<>();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            try {
                out.add(f.getReader().readFrom(b));
            } catch (Exception e) {
                throw new AssertionError(e);
            } finally {
                b.release();
            }
        }
        return out;
    }
}
