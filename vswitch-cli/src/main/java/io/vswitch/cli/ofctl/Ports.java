package io.vswitch.cli.ofctl;

import org.projectfloodlight.openflow.types.OFPort;

/** OpenFlow port numbers as ovs-ofctl writes them: a number, or LOCAL, IN_PORT, CONTROLLER, ... */
final class Ports {
    private Ports() {}

    static OFPort parse(String s) throws OfctlException {
        return switch (s.toUpperCase()) {
            case "LOCAL" -> OFPort.LOCAL;
            case "IN_PORT" -> OFPort.IN_PORT;
            case "CONTROLLER" -> OFPort.CONTROLLER;
            case "NORMAL" -> OFPort.NORMAL;
            case "FLOOD" -> OFPort.FLOOD;
            case "ALL" -> OFPort.ALL;
            case "TABLE" -> OFPort.TABLE;
            case "ANY", "NONE" -> OFPort.ANY;
            default -> {
                try {
                    yield OFPort.of(Integer.parseInt(s));
                } catch (NumberFormatException e) {
                    throw new OfctlException(s + ": unknown port (a number, LOCAL, IN_PORT, CONTROLLER, NORMAL, FLOOD, ALL, TABLE or ANY)");
                }
            }
        };
    }

    /** How ovs-ofctl prints a port: its number, or the reserved port's name. */
    static String format(OFPort p) {
        if (p.equals(OFPort.LOCAL)) return "LOCAL";
        if (p.equals(OFPort.IN_PORT)) return "IN_PORT";
        if (p.equals(OFPort.CONTROLLER)) return "CONTROLLER";
        if (p.equals(OFPort.NORMAL)) return "NORMAL";
        if (p.equals(OFPort.FLOOD)) return "FLOOD";
        if (p.equals(OFPort.ALL)) return "ALL";
        if (p.equals(OFPort.TABLE)) return "TABLE";
        if (p.equals(OFPort.ANY)) return "ANY";
        return Integer.toUnsignedString(p.getPortNumber());
    }
}
