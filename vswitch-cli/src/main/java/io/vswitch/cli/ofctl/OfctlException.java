package io.vswitch.cli.ofctl;

/**
 * What ofctl prints before exiting 1: "ofctl: why", or, for an ERROR from the switch, the error as
 * ovs-ofctl prints it (verbatim, no prefix).
 */
final class OfctlException extends Exception {
    final boolean verbatim;

    OfctlException(String message) {
        this(message, false);
    }

    OfctlException(String message, boolean verbatim) {
        super(message, null, false, false);
        this.verbatim = verbatim;
    }
}
