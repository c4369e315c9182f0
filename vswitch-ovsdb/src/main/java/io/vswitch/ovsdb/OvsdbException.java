package io.vswitch.ovsdb;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An RFC 7047 error: a short {@code error} string from the RFC's list ("syntax error", "constraint
 * violation", "referential integrity violation", "resources exhausted", "not owner", "timed out",
 * "aborted", "unknown database", ...) and human-readable {@code details}.
 */
public final class OvsdbException extends Exception {
    private final String error;

    public OvsdbException(String error, String details) {
        super(details);
        this.error = error;
    }

    public static OvsdbException syntax(String details) {
        return new OvsdbException("syntax error", details);
    }

    public static OvsdbException constraint(String details) {
        return new OvsdbException("constraint violation", details);
    }

    public String error() {
        return error;
    }

    /** {"error": ..., "details": ...}, as the RFC's error objects. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("error", error);
        o.put("details", getMessage());
        return o;
    }
}
