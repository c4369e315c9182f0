package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.qos.TokenBucket;

/**
 * One OpenFlow meter as a PMD runs it (OpenFlow 1.3 section 5.7): a token bucket per band, shared
 * by every PMD. A packet takes tokens from each band's bucket that has room; the bands whose buckets
 * had none are the ones its rate exceeds, and the one of those with the highest rate applies: drop,
 * or remark DSCP (raise the drop precedence of an assured-forwarding codepoint). Buckets carry over
 * to the next tables while the meter's configuration is unchanged ({@link #adopt}), so a flow-mod
 * elsewhere does not refill them.
 *
 * <p>Text form (numbers hex; rates and bursts in the meter's unit, kbit or packets; burst 0 =
 * a tenth of a second at the rate):
 * <pre>
 *   m ID kbps|pktps ; drop RATE BURST ; dscp_remark RATE BURST PREC_LEVEL ...
 * </pre>
 * Counters: the meter's (packets and bytes in) at {@link #counterId}, band k's at {@code counterId + 1 + k}.
 */
public final class OfMeter {
    static final int DROP = 1, DSCP_REMARK = 2;

    final long id;
    final String spec;
    final boolean kbps;
    final int[] type;
    final long[] rate;
    final int[] precLevel;
    private TokenBucket[] buckets;
    final int counterId;

    private OfMeter(long id, String spec, boolean kbps, int[] type, long[] rate, long[] burst, int[] precLevel, int counterId) {
        this.id = id;
        this.spec = spec;
        this.kbps = kbps;
        this.type = type;
        this.rate = rate;
        this.precLevel = precLevel;
        this.counterId = counterId;
        this.buckets = new TokenBucket[type.length];
        for (int k = 0; k < type.length; k++) {
            long unitsPerSecond = kbps ? rate[k] * 1000 : rate[k];
            long b = burst[k] > 0 ? (kbps ? burst[k] * 1000 : burst[k]) : Math.max(unitsPerSecond / 10, kbps ? 1514 * 8 : 1);
            buckets[k] = new TokenBucket(unitsPerSecond, b);
        }
    }

    int bands() {
        return type.length;
    }

    /** Keeps {@code old}'s buckets (their fill) if it is the same meter with the same configuration. */
    void adopt(OfMeter old) {
        if (old.id == id && old.spec.equals(spec)) buckets = old.buckets;
    }

    /** The band a packet of {@code bytes} at {@code nowNanos} falls into, or -1 if it is within every band's rate. */
    int band(long nowNanos, int bytes) {
        long units = kbps ? 8L * bytes : 1;
        int applied = -1;
        for (int k = 0; k < buckets.length; k++) {
            if (!buckets[k].tryTake(nowNanos, units) && (applied < 0 || rate[k] > rate[applied])) applied = k;
        }
        return applied;
    }

    /**
     * A DSCP with its drop precedence raised by {@code levels} (AF codepoints only: AFxy is
     * {@code 8x + 2y}, y from 1 to 3); other codepoints stay as they are.
     */
    static int remark(int dscp, int levels) {
        int x = dscp >>> 3, y = (dscp >>> 1) & 3;
        if ((dscp & 1) != 0 || x < 1 || x > 4 || y < 1) return dscp;
        return 8 * x + 2 * Math.min(3, y + levels);
    }

    /** Parses a meter line; {@code counterId} is its first counter. Throws IllegalArgumentException naming what is wrong. */
    static OfMeter parse(String line, int counterId) {
        String[] parts = line.split(";", -1);
        String[] head = OfRule.SPACES.split(parts[0].trim());
        if (head.length != 3 || !head[0].equals("m")) throw new IllegalArgumentException("meter line needs 'm ID UNIT': " + parts[0]);
        long id = Long.parseUnsignedLong(head[1], 16);
        boolean kbps = switch (head[2]) {
            case "kbps" -> true;
            case "pktps" -> false;
            default -> throw new IllegalArgumentException("meter unit is kbps or pktps, not " + head[2]);
        };
        int n = parts.length - 1;
        if (n == 0) throw new IllegalArgumentException("meter " + id + " has no bands");
        int[] type = new int[n];
        long[] rate = new long[n], burst = new long[n];
        int[] prec = new int[n];
        for (int k = 0; k < n; k++) {
            String[] b = OfRule.SPACES.split(parts[k + 1].trim());
            type[k] = switch (b[0]) {
                case "drop" -> DROP;
                case "dscp_remark" -> DSCP_REMARK;
                default -> throw new IllegalArgumentException("unknown meter band " + b[0]);
            };
            if (b.length != (type[k] == DROP ? 3 : 4)) throw new IllegalArgumentException("bad meter band: " + parts[k + 1]);
            rate[k] = Long.parseUnsignedLong(b[1], 16);
            burst[k] = Long.parseUnsignedLong(b[2], 16);
            if (rate[k] <= 0) throw new IllegalArgumentException("meter " + id + ": band rate 0");
            if (type[k] == DSCP_REMARK) prec[k] = Integer.parseInt(b[3], 16);
        }
        return new OfMeter(id, line.trim(), kbps, type, rate, burst, prec, counterId);
    }
}
