package io.vswitch.perf;

import io.vswitch.datapath.sys.Libc;
import io.vswitch.datapath.sys.NetDevice;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * The system-call cost a TAP port pays per packet, through the same FFM downcalls the port uses
 * ({@link Libc#readFast}, {@link Libc#writeFast}). The tun driver takes one frame per call and has no
 * batch call, so these are per-packet costs:
 * <ul>
 *   <li>{@code writeFrame}: write(2) of a 64-byte frame into an up TAP (the host stack receives and
 *       drops it: its destination MAC is not the device's);</li>
 *   <li>{@code readEmpty}: the non-blocking read(2) that finds no frame (EAGAIN), paid by a PMD for
 *       every TAP rx queue on every idle poll.</li>
 * </ul>
 * Needs root (creates TAP device {@code vswbench0}).
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp "perf/target/classes:perf/target/lib/*" \
 *     org.openjdk.jmh.Main TapSyscallBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TapSyscallBenchmark {
    private Arena arena;
    private int fd;
    private MemorySegment errno;
    private MemorySegment buffer;
    private long address;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        fd = NetDevice.openTap("vswbench0");
        NetDevice.setUp("vswbench0", true);
        errno = Libc.newErrnoSlot(arena);
        buffer = arena.allocate(2048, 64);
        byte[] frame = ParseBenchmark.udp4(18);
        frame[0] = 0x02;                                   // a unicast MAC that is not the TAP's
        MemorySegment.copy(frame, 0, buffer, ValueLayout.JAVA_BYTE, 0, frame.length);
        address = buffer.address();
    }

    @TearDown
    public void tearDown() {
        Libc.close(fd);
        arena.close();
    }

    @Benchmark
    public long writeFrame() {
        return Libc.writeFast(errno, fd, address, 60);
    }

    @Benchmark
    public long readEmpty() {
        // Drain whatever the host stack queued (IPv6 DAD, router solicitations), so reads hit EAGAIN.
        return Libc.readFast(errno, fd, address + 1024, 1024);
    }
}
