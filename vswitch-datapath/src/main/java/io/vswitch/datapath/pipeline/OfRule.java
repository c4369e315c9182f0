package io.vswitch.datapath.pipeline;

import io.vswitch.datapath.flow.FlowKey;

/**
 * One OpenFlow flow as a PMD runs it: a match over flow-key words (only the words its mask touches),
 * an optional input port (an OpenFlow port number, compared with the input port's), the actions to
 * apply, and what comes next (another table, new metadata).
 *
 * <p>Text form (one line, how vswitchd ships it; all numbers hex):
 * <pre>
 *   TABLE PRIORITY IN_PORT|- GOTO|- META/MASK|- [COOKIE] ; WORD:MASK:VALUE ... ; ACTION[:ARG] ...
 * </pre>
 * Actions: {@code meter:ID output:P in_port normal flood all local controller:MAX_LEN table group:ID push_vlan:TPID
 * pop_vlan set_vlan_vid:VID set_vlan_pcp:PCP set_eth_src:MAC set_eth_dst:MAC set_ipv4_src:IP
 * set_ipv4_dst:IP set_ip_dscp:DSCP set_tp_src:PORT set_tp_dst:PORT dec_ttl clear_actions set_ip_ecn:ECN
 * set_icmp_type:T set_icmp_code:C set_arp_op:OP set_arp_spa:IP set_arp_tpa:IP set_arp_sha:MAC set_arp_tha:MAC
 * set_ipv6_src_hi:HI set_ipv6_src_lo:LO set_ipv6_dst_hi:HI set_ipv6_dst_lo:LO set_ipv6_label:L set_tun_id:ID
 * set_nd_target_hi:HI set_nd_target_lo:LO set_nd_sll:MAC set_nd_tll:MAC set_queue:Q set_tun_src:IP set_tun_dst:IP}; an action
 * written as {@code w/ACTION} goes into the packet's action set (write_actions) instead, which runs
 * when the packet leaves the tables. {@code table} (run the tables from table 0) is for packet-outs
 * only. The cookie goes into the packet-ins a rule sends.
 */
public final class OfRule {
    /** Separates the fields of a line (compiled once: a rule line is parsed per flow of every transfer). */
    static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile(" +");
    /** Opcodes; from PUSH_VLAN on, every one edits the packet (the forwarder relies on the order). */
    public static final int OUTPUT = 1, IN_PORT = 2, NORMAL = 3, FLOOD = 4, ALL = 5, LOCAL = 6, CONTROLLER = 7, TABLE = 8, GROUP = 9,
            METER = 10, PUSH_VLAN = 11, POP_VLAN = 12, SET_VLAN_VID = 13, SET_VLAN_PCP = 14, SET_ETH_SRC = 15, SET_ETH_DST = 16,
            SET_IPV4_SRC = 17, SET_IPV4_DST = 18, SET_IP_DSCP = 19, SET_TP_SRC = 20, SET_TP_DST = 21, DEC_TTL = 22;
    /** Empties the packet's action set (clear_actions). */
    public static final int CLEAR_ACTIONS = 23;
    /** More edits (after CLEAR_ACTIONS, which the forwarder handles before any edit). An IPv6 address is two, high and low half. */
    public static final int SET_IP_ECN = 24, SET_ICMP_TYPE = 25, SET_ICMP_CODE = 26, SET_ARP_OP = 27, SET_ARP_SPA = 28, SET_ARP_TPA = 29,
            SET_ARP_SHA = 30, SET_ARP_THA = 31, SET_IPV6_SRC_HI = 32, SET_IPV6_SRC_LO = 33, SET_IPV6_DST_HI = 34, SET_IPV6_DST_LO = 35,
            SET_IPV6_LABEL = 36, SET_TUN_ID = 37, SET_ND_TARGET_HI = 38, SET_ND_TARGET_LO = 39, SET_ND_SLL = 40, SET_ND_TLL = 41,
            SET_QUEUE = 42, SET_TUN_SRC = 43, SET_TUN_DST = 44;
    /** Added to an action's opcode: write it into the action set instead of applying it (write_actions). */
    public static final int WRITE = 0x100;

    final int table;
    final int priority;
    /** OpenFlow input port to match, or -1. */
    final int inPort;
    /** Table to continue in, or -1. */
    final int gotoTable;
    final boolean writeMetadata;
    final long metadata;
    final long metadataMask;
    final long cookie;
    /** The match: terms of (flow-key word, mask, value), value already masked. */
    final int[] words;
    final long[] masks;
    final long[] values;
    /** Pairs: opcode, argument. */
    final long[] actions;
    /** Index of this rule's packet/byte counters in its pipeline. */
    final int id;

    OfRule(int id, int table, int priority, int inPort, int gotoTable, boolean writeMetadata, long metadata, long metadataMask,
           long cookie, int[] words, long[] masks, long[] values, long[] actions) {
        this.id = id;
        this.table = table;
        this.priority = priority;
        this.inPort = inPort;
        this.gotoTable = gotoTable;
        this.writeMetadata = writeMetadata;
        this.metadata = metadata;
        this.metadataMask = metadataMask;
        this.cookie = cookie;
        this.words = words;
        this.masks = masks;
        this.values = values;
        this.actions = actions;
    }

    /** The same rule with counter index {@code newId} (the arrays are shared: they are never changed). */
    OfRule withId(int newId) {
        return new OfRule(newId, table, priority, inPort, gotoTable, writeMetadata, metadata, metadataMask, cookie, words, masks, values, actions);
    }

    /** Whether an action (applied or written) has opcode {@code op}. */
    boolean refersTo(int op) {
        for (int j = 0; j < actions.length; j += 2) if ((actions[j] & ~WRITE) == op) return true;
        return false;
    }

    /** Matches everything and does nothing but NORMAL. */
    boolean isPlainNormal() {
        return inPort < 0 && words.length == 0 && gotoTable < 0 && !writeMetadata && actions.length == 2 && actions[0] == NORMAL;
    }

    /**
     * Whether the packet matches this rule: the definition. PMDs look rules up through
     * {@link FlowTable}, which must agree with it ({@code FlowTableTest} checks that on random tables).
     */
    boolean matches(long[] keys, int base, int inOfport) {
        if (inPort >= 0 && inPort != inOfport) return false;
        for (int j = 0; j < words.length; j++) {
            if ((keys[base + words[j]] & masks[j]) != values[j]) return false;
        }
        return true;
    }

    /** Parses one rule line; throws IllegalArgumentException naming what is wrong. */
    static OfRule parse(int id, String line) {
        String[] parts = line.split(";", -1);
        if (parts.length != 3) throw new IllegalArgumentException("flow rule needs 3 ';'-separated parts: " + line);
        String[] head = SPACES.split(parts[0].trim());
        if (head.length != 5 && head.length != 6) throw new IllegalArgumentException("flow rule head needs 5 or 6 fields: " + parts[0]);
        int table = hexInt(head[0]);
        if (table < 0 || table >= OfPipeline.TABLES) throw new IllegalArgumentException("no table " + table);
        int priority = hexInt(head[1]);
        int inPort = head[2].equals("-") ? -1 : hexInt(head[2]);
        int gotoTable = head[3].equals("-") ? -1 : hexInt(head[3]);
        if (gotoTable >= 0 && (gotoTable <= table || gotoTable >= OfPipeline.TABLES)) {
            throw new IllegalArgumentException("goto_table " + gotoTable + " from table " + table);
        }
        boolean writeMeta = !head[4].equals("-");
        long meta = 0, metaMask = 0;
        if (writeMeta) {
            String[] mm = head[4].split("/");
            if (mm.length != 2) throw new IllegalArgumentException("metadata needs VALUE/MASK: " + head[4]);
            meta = Long.parseUnsignedLong(mm[0], 16);
            metaMask = Long.parseUnsignedLong(mm[1], 16);
        }
        long cookie = head.length == 6 ? Long.parseUnsignedLong(head[5], 16) : 0;
        String[] match = parts[1].trim().isEmpty() ? new String[0] : SPACES.split(parts[1].trim());
        int[] words = new int[match.length];
        long[] masks = new long[match.length];
        long[] values = new long[match.length];
        for (int j = 0; j < match.length; j++) {
            String[] f = match[j].split(":");
            if (f.length != 3) throw new IllegalArgumentException("match term needs WORD:MASK:VALUE: " + match[j]);
            words[j] = hexInt(f[0]);
            if (words[j] < 0 || words[j] >= FlowKey.WORDS) throw new IllegalArgumentException("no flow key word " + words[j]);
            masks[j] = Long.parseUnsignedLong(f[1], 16);
            values[j] = Long.parseUnsignedLong(f[2], 16) & masks[j];
        }
        long[] actions = parseActions(parts[2]);
        for (int j = 0; j < actions.length; j += 2) {
            if (actions[j] == TABLE) throw new IllegalArgumentException("action table is for packet-outs only");
        }
        return new OfRule(id, table, priority, inPort, gotoTable, writeMeta, meta, metaMask, cookie, words, masks, values, actions);
    }

    /** Action names by opcode (as vswitchd writes them in rule lines); null where no action has that code. */
    private static final String[] ACTION_NAMES = new String[SET_TUN_DST + 1];
    static {
        ACTION_NAMES[OUTPUT] = "output";
        ACTION_NAMES[IN_PORT] = "in_port";
        ACTION_NAMES[NORMAL] = "normal";
        ACTION_NAMES[FLOOD] = "flood";
        ACTION_NAMES[ALL] = "all";
        ACTION_NAMES[LOCAL] = "local";
        ACTION_NAMES[CONTROLLER] = "controller";
        ACTION_NAMES[TABLE] = "table";
        ACTION_NAMES[GROUP] = "group";
        ACTION_NAMES[METER] = "meter";
        ACTION_NAMES[PUSH_VLAN] = "push_vlan";
        ACTION_NAMES[POP_VLAN] = "pop_vlan";
        ACTION_NAMES[SET_VLAN_VID] = "set_vlan_vid";
        ACTION_NAMES[SET_VLAN_PCP] = "set_vlan_pcp";
        ACTION_NAMES[SET_ETH_SRC] = "set_eth_src";
        ACTION_NAMES[SET_ETH_DST] = "set_eth_dst";
        ACTION_NAMES[SET_IPV4_SRC] = "set_ipv4_src";
        ACTION_NAMES[SET_IPV4_DST] = "set_ipv4_dst";
        ACTION_NAMES[SET_IP_DSCP] = "set_ip_dscp";
        ACTION_NAMES[SET_TP_SRC] = "set_tp_src";
        ACTION_NAMES[SET_TP_DST] = "set_tp_dst";
        ACTION_NAMES[DEC_TTL] = "dec_ttl";
        ACTION_NAMES[CLEAR_ACTIONS] = "clear_actions";
        ACTION_NAMES[SET_IP_ECN] = "set_ip_ecn";
        ACTION_NAMES[SET_ICMP_TYPE] = "set_icmp_type";
        ACTION_NAMES[SET_ICMP_CODE] = "set_icmp_code";
        ACTION_NAMES[SET_ARP_OP] = "set_arp_op";
        ACTION_NAMES[SET_ARP_SPA] = "set_arp_spa";
        ACTION_NAMES[SET_ARP_TPA] = "set_arp_tpa";
        ACTION_NAMES[SET_ARP_SHA] = "set_arp_sha";
        ACTION_NAMES[SET_ARP_THA] = "set_arp_tha";
        ACTION_NAMES[SET_IPV6_SRC_HI] = "set_ipv6_src_hi";
        ACTION_NAMES[SET_IPV6_SRC_LO] = "set_ipv6_src_lo";
        ACTION_NAMES[SET_IPV6_DST_HI] = "set_ipv6_dst_hi";
        ACTION_NAMES[SET_IPV6_DST_LO] = "set_ipv6_dst_lo";
        ACTION_NAMES[SET_IPV6_LABEL] = "set_ipv6_label";
        ACTION_NAMES[SET_TUN_ID] = "set_tun_id";
        ACTION_NAMES[SET_ND_TARGET_HI] = "set_nd_target_hi";
        ACTION_NAMES[SET_ND_TARGET_LO] = "set_nd_target_lo";
        ACTION_NAMES[SET_ND_SLL] = "set_nd_sll";
        ACTION_NAMES[SET_ND_TLL] = "set_nd_tll";
        ACTION_NAMES[SET_QUEUE] = "set_queue";
        ACTION_NAMES[SET_TUN_SRC] = "set_tun_src";
        ACTION_NAMES[SET_TUN_DST] = "set_tun_dst";
    }

    /** The opcode of action {@code name}; throws IllegalArgumentException if there is none. */
    private static int opcode(String name) {
        for (int op = 0; op < ACTION_NAMES.length; op++) if (name.equals(ACTION_NAMES[op])) return op;
        throw new IllegalArgumentException("unknown action " + name);
    }

    /** The name of action {@code op} (as in rule lines). */
    public static String actionName(int op) {
        return ACTION_NAMES[op];
    }

    /** Parses space-separated actions into (opcode, argument) pairs; throws IllegalArgumentException naming what is wrong. */
    public static long[] parseActions(String text) {
        String[] acts = text.trim().isEmpty() ? new String[0] : SPACES.split(text.trim());
        long[] actions = new long[2 * acts.length];
        for (int j = 0; j < acts.length; j++) {
            boolean write = acts[j].startsWith("w/");
            String[] a = (write ? acts[j].substring(2) : acts[j]).split(":", 2);
            int op = opcode(a[0]);
            boolean needsArg = op == OUTPUT || op == CONTROLLER || op == GROUP || op == METER || op == PUSH_VLAN || (op >= SET_VLAN_VID && op <= SET_TP_DST)
                    || op >= SET_IP_ECN;
            if (needsArg != (a.length == 2)) throw new IllegalArgumentException("action " + a[0] + (needsArg ? " needs" : " takes no") + " argument");
            if (write && (op == CLEAR_ACTIONS || op == METER || op == TABLE)) throw new IllegalArgumentException(a[0] + " cannot be written into the action set");
            actions[2 * j] = write ? op | WRITE : op;
            actions[2 * j + 1] = needsArg ? Long.parseUnsignedLong(a[1], 16) : 0;
        }
        return actions;
    }

    private static int hexInt(String s) {
        return Integer.parseUnsignedInt(s, 16);
    }
}
