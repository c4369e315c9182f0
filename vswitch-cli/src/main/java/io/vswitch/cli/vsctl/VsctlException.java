package io.vswitch.cli.vsctl;

/** A command failure: "vsctl: MESSAGE" on stderr and exit status {@link #status}. */
class VsctlException extends Exception {
    final int status;

    VsctlException(String message) {
        this(message, 1);
    }

    VsctlException(String message, int status) {
        super(message);
        this.status = status;
    }
}
