package io.vswitch.datapath.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The kernel's IPv4 addresses ({@code getifaddrs(3)}) and IPv4 routes ({@code /proc/net/route}) in
 * this process's network namespace: what the switch copies into its tunnel routing table.
 */
public final class IfAddrs {
    private IfAddrs() {}

    /** One IPv4 address of a device (host order). */
    public record Address(String device, int ip, int plen) {}

    /** One kernel route: destination prefix, gateway (0 for on-link) and the device, host order. */
    public record KernelRoute(String device, int prefix, int plen, int gateway) {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETIFADDRS = LINKER.downcallHandle(LINKER.defaultLookup().find("getifaddrs").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FREEIFADDRS = LINKER.downcallHandle(LINKER.defaultLookup().find("freeifaddrs").orElseThrow(),
            FunctionDescriptor.ofVoid(ADDRESS));
    private static final int AF_INET = 2;
    /** struct ifaddrs on LP64: ifa_next, ifa_name, ifa_flags (+pad), ifa_addr, ifa_netmask, ... */
    private static final long NEXT = 0, NAME = 8, ADDR = 24, NETMASK = 32, SIZE = 56;

    public static List<Address> ipv4() {
        List<Address> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment head = a.allocate(ADDRESS);
            if ((int) GETIFADDRS.invokeExact(head) != 0) return out;
            MemorySegment first = head.get(ADDRESS, 0);
            try {
                for (MemorySegment p = first; p.address() != 0; p = p.reinterpret(SIZE).get(ADDRESS, NEXT)) {
                    MemorySegment ifa = p.reinterpret(SIZE);
                    MemorySegment addr = ifa.get(ADDRESS, ADDR), mask = ifa.get(ADDRESS, NETMASK);
                    if (addr.address() == 0 || addr.reinterpret(8).get(JAVA_SHORT, 0) != AF_INET) continue;
                    String name = ifa.get(ADDRESS, NAME).reinterpret(64).getString(0);
                    int ip = ipAt(addr.reinterpret(8));
                    int plen = mask.address() == 0 ? 32 : Integer.bitCount(ipAt(mask.reinterpret(8)));
                    out.add(new Address(name, ip, plen));
                }
            } finally {
                FREEIFADDRS.invokeExact(first);
            }
        } catch (Throwable t) {
            throw new IllegalStateException("getifaddrs failed: " + t, t);
        }
        return out;
    }

    private static int ipAt(MemorySegment sockaddrIn) {
        int v = 0;
        for (int i = 4; i < 8; i++) v = v << 8 | (sockaddrIn.get(JAVA_BYTE, i) & 0xff);
        return v;
    }

    /** The kernel's main IPv4 routing table; empty if it cannot be read. */
    public static List<KernelRoute> routes() {
        List<KernelRoute> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/net/route"));
        } catch (IOException e) {
            return out;
        }
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            try {
                if (f.length < 8 || (Integer.parseInt(f[3], 16) & 1) == 0) continue;       // RTF_UP
                int dst = Integer.reverseBytes(Integer.parseUnsignedInt(f[1], 16));
                int gw = Integer.reverseBytes(Integer.parseUnsignedInt(f[2], 16));
                int mask = Integer.reverseBytes(Integer.parseUnsignedInt(f[7], 16));
                out.add(new KernelRoute(f[0], dst, Integer.bitCount(mask), gw));
            } catch (NumberFormatException e) {
                // a line in a format this code does not know: skip it, keep the others
            }
        }
        return out;
    }
}
