package io.vswitch.vhostuser;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Signals an eventfd (a virtqueue's call notifier) without allocating: one write(2) of the value 1,
 * linked critical and without errno capture (the capture allocated whenever escape analysis missed
 * it). A failed signal needs no handling: the counter is saturated or the frontend closed the fd, and
 * the driver sees the used entries the next time it looks.
 */
final class Notifier {
    private Notifier() {}

    private static final MethodHandle WRITE = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("write").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.critical(false));
    private static final long ONE;

    static {
        MemorySegment one = Arena.global().allocate(8, 8);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
        ONE = one.address();
    }

    static void signal(int eventFd) {
        try {
            long ignored = (long) WRITE.invokeExact(eventFd, ONE, 8L);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
