package io.vswitch.datapath.port.afxdp;

import io.vswitch.datapath.port.Port;
import io.vswitch.datapath.port.PortContext;
import io.vswitch.datapath.port.PortCounters;
import io.vswitch.datapath.port.PortProvider;
import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.NetDevice;
import io.vswitch.datapath.sys.SysException;

import java.util.Map;
import java.util.Set;

/**
 * Opens {@code afxdp} ports on existing Linux interfaces, with OVS's options:
 * {@code xdp-mode} = {@code best-effort} (default: native XDP if the driver has it, else generic; the
 * kernel picks zero-copy where the driver supports it and hugepages hold the UMEM, see {@link Umem}),
 * {@code native-with-zerocopy} (needs 2 MiB hugepages), {@code native},
 * {@code generic}; {@code n_rxq} (default 1: one socket per rx queue, each polled by a PMD);
 * {@code use-need-wakeup} (default true: the kernel says when it needs a kick, saving system calls).
 */
public final class AfXdpPortProvider implements PortProvider {
    private static final int EAFNOSUPPORT = 97;
    private static final int EPERM = 1;
    private static final int EINVAL = 22;
    private static final int EOPNOTSUPP = 95;

    @Override
    public Set<String> types() {
        return Set.of("afxdp");
    }

    @Override
    public Port open(String name, String type, Map<String, String> options, PortCounters counters, PortContext context) {
        NetDevice.checkName(name);
        String mode = options.getOrDefault("xdp-mode", "best-effort");
        if (!Set.of("best-effort", "native-with-zerocopy", "native", "generic").contains(mode)) {
            throw new IllegalArgumentException("invalid xdp-mode '" + mode + "': use best-effort, native-with-zerocopy, native or generic");
        }
        int queues = parseQueues(options.getOrDefault("n_rxq", "1"));
        boolean needWakeup = !"false".equals(options.getOrDefault("use-need-wakeup", "true"));
        int ifindex = Libc.ifNameToIndex(name);
        if (ifindex == 0) {
            throw new IllegalStateException("no interface named " + name + " (an afxdp port attaches to an existing Linux interface)");
        }
        int wakeupFlag = needWakeup ? XskSocket.XDP_USE_NEED_WAKEUP : 0;
        XdpProgram program;
        try {
            program = XdpProgram.attach(name, ifindex, queues, mode.startsWith("native") ? "native" : mode);
        } catch (SysException e) {
            throw new IllegalStateException(name + ": cannot attach the XDP program: " + e.getMessage() + hint(e.errno()));
        }
        XskSocket[] sockets = new XskSocket[queues];
        int copyFlag = XskSocket.XDP_COPY;
        try {
            for (int q = 0; q < queues; q++) {
                Umem umem = umemFor(name, mode);
                copyFlag = umem.hugepages ? (mode.equals("best-effort") ? 0 : mode.equals("native-with-zerocopy") ? XskSocket.XDP_ZEROCOPY : XskSocket.XDP_COPY)
                        : XskSocket.XDP_COPY;
                sockets[q] = new XskSocket(ifindex, q, copyFlag | wakeupFlag, umem);
                program.register(q, sockets[q].fd);
            }
        } catch (RuntimeException e) {
            for (XskSocket x : sockets) if (x != null) x.close();
            program.close();
            if (!(e instanceof SysException se)) throw e;
            String why = !se.getMessage().startsWith("bind") ? hint(se.errno())
                    : se.errno() == EINVAL ? " (does " + name + " have " + queues + " rx queue(s)? is " + mode + " mode supported by its driver?)"
                    : se.errno() == EOPNOTSUPP ? " (the driver of " + name + " has no zero-copy AF_XDP; use xdp-mode=native)"
                    : hint(se.errno());
            throw new IllegalStateException(name + ": cannot open AF_XDP socket: " + se.getMessage() + why);
        }
        String bound = copyFlag == XskSocket.XDP_ZEROCOPY ? "zerocopy" : copyFlag == XskSocket.XDP_COPY ? "copy" : "";
        return new AfXdpPort(name, program, sockets, txQueueCount(name), bound, counters);
    }

    /**
     * Zero-copy needs a UMEM on hugepages (see {@link Umem}); best-effort takes them if reserved and
     * otherwise stays in copy mode; native and generic copy anyway and leave hugepages to others.
     */
    private static Umem umemFor(String name, String mode) {
        Umem umem = mode.equals("best-effort") || mode.equals("native-with-zerocopy") ? Umem.onHugepages() : null;
        if (umem != null) return umem;
        if (mode.equals("native-with-zerocopy")) {
            throw new IllegalStateException(name + ": xdp-mode=native-with-zerocopy needs " + (Umem.hugepageBytes() >> 20)
                    + " MiB of free 2 MiB hugepages per queue (echo N > /proc/sys/vm/nr_hugepages), or use xdp-mode=native");
        }
        return Umem.onPages();
    }

    /** The device's tx queues (sysfs), at least 1. */
    private static int txQueueCount(String name) {
        try (var entries = java.nio.file.Files.list(java.nio.file.Path.of("/sys/class/net", name, "queues"))) {
            return (int) Math.max(1, entries.filter(q -> q.getFileName().toString().startsWith("tx-")).count());
        } catch (java.io.IOException | RuntimeException e) {
            return 1;
        }
    }

    private static int parseQueues(String s) {
        try {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= 64) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("invalid n_rxq '" + s + "': use 1 to 64");
    }

    private static String hint(int errno) {
        return switch (errno) {
            case EAFNOSUPPORT -> " (this kernel has no AF_XDP sockets: CONFIG_XDP_SOCKETS)";
            case EPERM -> " (run the dataplane as root, or with CAP_NET_ADMIN and CAP_BPF)";
            default -> "";
        };
    }
}
