package io.vswitch.datapath.pipeline;

/**
 * One OpenFlow group as a PMD runs it: its type and buckets, each with its actions, its weight
 * (select) and whether it is live (its watch port is up: vswitchd decides and re-sends the tables
 * when that changes). Counters: the group's at {@link #counterId}, bucket k's at
 * {@code counterId + 1 + k}, in its pipeline's counter array.
 *
 * <p>Text form (one line in the tables vswitchd sends; numbers hex):
 * <pre>
 *   g ID all|select|indirect|ff ; LIVE WEIGHT ACTION ... ; LIVE WEIGHT ACTION ...
 * </pre>
 * with {@code LIVE} 1 or 0 and the actions of {@link OfRule#parseActions}.
 */
public final class OfGroup {
    public enum Type { ALL, SELECT, INDIRECT, FF }

    final long id;
    final Type type;
    final long[][] actions;
    final boolean[] live;
    final int[] weight;
    /** Sum of the weights of the live buckets (select). */
    final int liveWeight;
    final int counterId;

    private OfGroup(long id, Type type, long[][] actions, boolean[] live, int[] weight, int counterId) {
        this.id = id;
        this.type = type;
        this.actions = actions;
        this.live = live;
        this.weight = weight;
        this.counterId = counterId;
        int w = 0;
        for (int k = 0; k < live.length; k++) if (live[k]) w += weight[k];
        this.liveWeight = w;
    }

    int buckets() {
        return actions.length;
    }

    /** Parses a group line; {@code counterId} is its first counter. Throws IllegalArgumentException naming what is wrong. */
    static OfGroup parse(String line, int counterId) {
        String[] parts = line.split(";", -1);
        String[] head = OfRule.SPACES.split(parts[0].trim());
        if (head.length != 3 || !head[0].equals("g")) throw new IllegalArgumentException("group line needs 'g ID TYPE': " + parts[0]);
        long id = Long.parseUnsignedLong(head[1], 16);
        Type type = switch (head[2]) {
            case "all" -> Type.ALL;
            case "select" -> Type.SELECT;
            case "indirect" -> Type.INDIRECT;
            case "ff" -> Type.FF;
            default -> throw new IllegalArgumentException("unknown group type " + head[2]);
        };
        int n = parts.length - 1;
        long[][] actions = new long[n][];
        boolean[] live = new boolean[n];
        int[] weight = new int[n];
        for (int k = 0; k < n; k++) {
            String[] b = OfRule.SPACES.split(parts[k + 1].trim(), 3);
            if (b.length < 2) throw new IllegalArgumentException("bucket needs 'LIVE WEIGHT ACTIONS': " + parts[k + 1]);
            live[k] = b[0].equals("1");
            weight[k] = Integer.parseInt(b[1], 16);
            actions[k] = OfRule.parseActions(b.length == 3 ? b[2] : "");
            for (int j = 0; j < actions[k].length; j += 2) {
                long op = actions[k][j];
                if (op == OfRule.TABLE || op == OfRule.METER || op == OfRule.CLEAR_ACTIONS || op >= OfRule.WRITE) {
                    throw new IllegalArgumentException("group " + id + ": a bucket cannot go to a meter, the tables or the action set");
                }
            }
        }
        return new OfGroup(id, type, actions, live, weight, counterId);
    }

    /**
     * The bucket a select group takes for a packet of hash {@code h} (weighted, live buckets only),
     * or -1 if none is live.
     */
    int select(int h) {
        if (liveWeight == 0) return -1;
        int point = Integer.remainderUnsigned(h, liveWeight);
        for (int k = 0; k < weight.length; k++) {
            if (!live[k]) continue;
            point -= weight[k];
            if (point < 0) return k;
        }
        return -1;
    }

    /** The first live bucket (fast failover), or -1. */
    int firstLive() {
        for (int k = 0; k < live.length; k++) if (live[k]) return k;
        return -1;
    }
}
