package io.vswitch.datapath.ipc;

/** The dataplane refused a command (the message is its reason) or did not answer. */
public final class DatapathException extends Exception {
    public DatapathException(String message) {
        super(message);
    }
}
