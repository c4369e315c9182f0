package io.vswitch.datapath.unixctl;

/** A unixctl command failed; the message is shown to the user as the error. */
public final class UnixctlException extends Exception {
    public UnixctlException(String message) {
        super(message);
    }
}
