package io.vswitch.datapath.port;

import io.vswitch.datapath.ipc.CountersFile;
import io.vswitch.datapath.packet.Batch;
import io.vswitch.datapath.packet.PacketPool;
import io.vswitch.datapath.pmd.PmdIo;
import io.vswitch.datapath.sys.NetDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real TAP device: an idle one stops being read, and the kernel's next frame on it wakes it. */
class TapPortTest {
    private final Arena arena = Arena.ofShared();
    private final CountersFile file = CountersFile.anonymous();
    private final Batch batch = new Batch(new PacketPool(arena, 256));
    private final PmdIo io = new PmdIo(0, arena);
    private TapPort port;

    @AfterEach
    void close() {
        if (port != null) port.close();     // the TAP is not persistent: closing its fd deletes it
        file.close();
        arena.close();
    }

    @Test
    void anIdleTapSleepsUntilTheKernelSendsItAFrame() throws Exception {
        String name = "vswtw" + ProcessHandle.current().pid() % 100_000;
        port = new TapPort(name, "tap", NetDevice.openTap(name), new PortCounters(file.manager(), "br0", name, 0));
        // No IPv6 on it, so that the kernel sends nothing on its own (router solicitations, MLD).
        Files.writeString(Path.of("/proc/sys/net/ipv6/conf", name, "disable_ipv6"), "1");
        run("ip", "addr", "add", "10.254.77.1/30", "dev", name);
        NetDevice.setUp(name, true);

        for (int i = 0; i < TapPort.IDLE_POLLS; i++) assertEquals(0, port.rxBurst(0, batch, io));
        assertTrue(port.asleep(), "asleep after " + TapPort.IDLE_POLLS + " empty reads");
        assertEquals(1L, port.customStats().get("rx_idle_sleeps"));
        assertEquals(0, port.rxBurst(0, batch, io));

        // A datagram to the other end of the /30: the kernel first asks for its MAC, an ARP request on the TAP.
        try (DatagramSocket s = new DatagramSocket()) {
            s.send(new DatagramPacket(new byte[1], 1, InetAddress.getByName("10.254.77.2"), 9));
        }
        int n = 0;
        for (long deadline = System.nanoTime() + 5_000_000_000L; n == 0 && System.nanoTime() < deadline; ) {
            n = port.rxBurst(0, batch, io);
            if (n == 0) Thread.sleep(1);
        }
        assertEquals(1, n, "the ARP request, read once the watch woke the port");
        short etherType = batch.memory().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), batch.offset[0] + 12);
        assertEquals(0x0806, etherType);
        assertEquals(1L, port.customStats().get("rx_wakeups"));
        assertTrue(!port.asleep());
    }

    @Test
    void closingASleepingTapFreesItsDeviceAtOnce() {
        String name = "vswtc" + ProcessHandle.current().pid() % 100_000;
        port = new TapPort(name, "tap", NetDevice.openTap(name), new PortCounters(file.manager(), "br0", name, 0));
        for (int i = 0; i < TapPort.IDLE_POLLS; i++) port.rxBurst(0, batch, io);
        assertTrue(port.asleep());
        port.close();
        // The watch's poll(2) held the fd; the name is free again only once it let go.
        port = new TapPort(name, "tap", NetDevice.openTap(name), new PortCounters(file.manager(), "br0", name, 0));
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }
}
