package io.vswitch.datapath.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Network-device ioctls (struct ifreq) and the TAP device: creating or attaching to a TAP with
 * TUNSETIFF, setting it up, reading its MAC. Control path only.
 */
public final class NetDevice {
    private NetDevice() {}

    public static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;
    private static final long TUNSETIFF = 0x400454caL;
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final long SIOCGIFHWADDR = 0x8927;
    private static final long SIOCGIFMTU = 0x8921;
    private static final short IFF_TAP = 0x0002;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_UP = 0x1;
    private static final short IFF_RUNNING = 0x40;

    /** Checks an interface name the way the kernel would, so errors name the real problem. */
    public static void checkName(String name) {
        if (name == null || name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length >= IFNAMSIZ
                || name.equals(".") || name.equals("..") || !name.chars().allMatch(c -> c > 32 && c < 127 && c != '/' && c != ':')) {
            throw new IllegalArgumentException("invalid interface name '" + name
                    + "': use 1-15 printable characters without '/', ':' or spaces");
        }
    }

    private static MemorySegment ifreq(Arena a, String name) {
        checkName(name);
        MemorySegment req = a.allocate(IFREQ_SIZE);
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, req, JAVA_BYTE, 0, b.length);
        return req;
    }

    /**
     * Opens (creating it if it does not exist) the TAP device {@code name} in non-blocking mode
     * without packet info header; returns the fd.
     */
    public static int openTap(String name) {
        if (!new java.io.File("/dev/net/tun").exists()) {
            throw new SysException("open /dev/net/tun (load the tun module: modprobe tun)", 2);
        }
        int fd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = ifreq(a, name);
            req.set(JAVA_SHORT, IFNAMSIZ, (short) (IFF_TAP | IFF_NO_PI));
            Libc.ioctl(fd, TUNSETIFF, req, "TUNSETIFF " + name);
            return fd;
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** Sets IFF_UP on an interface in the caller's network namespace. */
    public static void setUp(String name, boolean up) {
        int sock = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = ifreq(a, name);
            Libc.ioctl(sock, SIOCGIFFLAGS, req, "SIOCGIFFLAGS " + name);
            short flags = req.get(JAVA_SHORT, IFNAMSIZ);
            flags = (short) (up ? flags | IFF_UP : flags & ~IFF_UP);
            req.set(JAVA_SHORT, IFNAMSIZ, flags);
            Libc.ioctl(sock, SIOCSIFFLAGS, req, "SIOCSIFFLAGS " + name);
        } finally {
            Libc.close(sock);
        }
    }

    /** {@link #setUp}, reporting failure (the device is gone or in another namespace) as false. */
    public static boolean trySetUp(String name, boolean up) {
        try {
            setUp(name, up);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** IFF_UP (administratively up) and IFF_RUNNING (operationally up: carrier) of the interface, or null if it cannot be read (e.g. it moved to another namespace). */
    public static boolean[] upAndRunning(String name) {
        int sock = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = ifreq(a, name);
            Libc.ioctl(sock, SIOCGIFFLAGS, req, "SIOCGIFFLAGS " + name);
            short flags = req.get(JAVA_SHORT, IFNAMSIZ);
            return new boolean[] {(flags & IFF_UP) != 0, (flags & IFF_RUNNING) != 0};
        } catch (SysException e) {
            return null;
        } finally {
            Libc.close(sock);
        }
    }

    /**
     * Adds what the kernel says of a port's device to its status: {@code mac}, {@code mtu}, and
     * {@code admin_state}/{@code link_state} (up/down, OVS's Interface columns) — each only if the
     * device is visible in this namespace.
     */
    public static void putDeviceStatus(String name, java.util.Map<String, String> status) {
        long mac = macAddress(name);
        if (mac >= 0) status.put("mac", String.format("%012x", mac).replaceAll("(..)(?!$)", "$1:"));
        int mtu = mtu(name);
        if (mtu > 0) status.put("mtu", Integer.toString(mtu));
        boolean[] f = upAndRunning(name);
        if (f == null) return;
        status.put("admin_state", f[0] ? "up" : "down");
        status.put("link_state", f[0] && f[1] ? "up" : "down");
    }

    /** The interface's MTU, or -1 if it cannot be read. */
    public static int mtu(String name) {
        int sock = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = ifreq(a, name);
            Libc.ioctl(sock, SIOCGIFMTU, req, "SIOCGIFMTU " + name);
            return req.get(JAVA_INT, IFNAMSIZ);
        } catch (SysException e) {
            return -1;
        } finally {
            Libc.close(sock);
        }
    }

    /** The interface's Ethernet address as a 48-bit number, or -1 if it cannot be read. */
    public static long macAddress(String name) {
        int sock = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = ifreq(a, name);
            Libc.ioctl(sock, SIOCGIFHWADDR, req, "SIOCGIFHWADDR " + name);
            long mac = 0;
            for (int i = 0; i < 6; i++) mac = (mac << 8) | (req.get(JAVA_BYTE, IFNAMSIZ + 2 + i) & 0xff);
            return mac;
        } catch (SysException e) {
            return -1;
        } finally {
            Libc.close(sock);
        }
    }

}
