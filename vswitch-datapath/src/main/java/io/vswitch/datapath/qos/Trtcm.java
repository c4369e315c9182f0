package io.vswitch.datapath.qos;

/**
 * RFC 4115's two-rate three-color marker, in bytes: a committed bucket (cir bytes/s, cbs bytes) and
 * an excess one (eir, ebs), each filling at its own rate. A packet that fits the committed bucket is
 * green, else one that fits the excess bucket is yellow, else red. Color-aware, a yellow packet may
 * only use the excess bucket and a red one stays red. With no excess rate it is the single-rate
 * policer of OVS's {@code egress-policer}. Shared by PMDs without a lock (see {@link TokenBucket}).
 */
final class Trtcm {
    static final int GREEN = 0, YELLOW = 1, RED = 2;

    /** null where the rate or the size is 0: that bucket never passes a packet. */
    private final TokenBucket committed, excess;

    Trtcm(QosSpec.Meter m) {
        committed = m.cir() > 0 && m.cbs() > 0 ? new TokenBucket(m.cir(), m.cbs()) : null;
        excess = m.eir() > 0 && m.ebs() > 0 ? new TokenBucket(m.eir(), m.ebs()) : null;
    }

    int colorBlind(long now, int bytes) {
        if (committed != null && committed.tryTake(now, bytes)) return GREEN;
        if (excess != null && excess.tryTake(now, bytes)) return YELLOW;
        return RED;
    }

    int colorAware(long now, int bytes, int color) {
        if (color == GREEN) return colorBlind(now, bytes);
        if (color == YELLOW && excess != null && excess.tryTake(now, bytes)) return YELLOW;
        return RED;
    }
}
