package io.vswitch.datapath.sys;

/** A failed system call: says which call and errno's text, e.g. "open /dev/net/tun: No such file or directory". */
public final class SysException extends RuntimeException {
    private final int errno;

    public SysException(String call, int errno) {
        super(call + ": " + Libc.strerror(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
