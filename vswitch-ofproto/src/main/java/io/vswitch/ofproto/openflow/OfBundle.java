package io.vswitch.ofproto.openflow;

import org.projectfloodlight.openflow.protocol.OFBundleFailedCode;
import org.projectfloodlight.openflow.protocol.OFBundleFlags;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One bundle of a connection (OpenFlow 1.4 section 6.8): flow-mods and group-mods collected between
 * OPEN and COMMIT and then applied all together or not at all. Only the messages' encodings are
 * kept (a 100 000-flow bundle is some 10 MB); they are decoded again at commit.
 */
final class OfBundle {
    /**
     * Bundles one connection may have open at once, and the messages and bytes one bundle may hold
     * (a 100 000-flow bundle is some 10 MB): a peer cannot make vswitchd keep more than 8 × 32 MiB.
     */
    static final int MAX_OPEN = 8, MAX_MESSAGES = 1 << 20, MAX_BYTES = 32 << 20;

    final Set<OFBundleFlags> flags;
    private boolean closed;
    private final List<byte[]> messages = new ArrayList<>();
    private long bytes;

    OfBundle(Set<OFBundleFlags> flags) {
        this.flags = Set.copyOf(flags);
    }

    boolean closed() {
        return closed;
    }

    void close() {
        closed = true;
    }

    /** Adds one message (its whole encoding), or refuses it with the error the specification names. */
    void add(byte[] message, Set<OFBundleFlags> addFlags) throws OfError {
        if (closed) throw OfError.bundleFailed(OFBundleFailedCode.BUNDLE_CLOSED, "the bundle is closed");
        if (!addFlags.equals(flags)) throw OfError.bundleFailed(OFBundleFailedCode.BAD_FLAGS, "flags " + addFlags + " differ from the bundle's " + flags);
        if (messages.size() >= MAX_MESSAGES || bytes + message.length > MAX_BYTES) {
            throw OfError.bundleFailed(OFBundleFailedCode.MSG_TOO_MANY, "a bundle holds at most " + MAX_MESSAGES + " messages and " + (MAX_BYTES >> 20) + " MiB");
        }
        messages.add(message);
        bytes += message.length;
    }

    List<byte[]> messages() {
        return messages;
    }
}
