package io.vswitch.ovsdb.data;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Random (version 4) UUIDs for rows, row versions and transactions. {@link UUID#randomUUID} asks the
 * platform's SecureRandom each time (on Linux NativePRNG: a read of /dev/urandom mixed through SHA-1),
 * several times per transaction; these identifiers only need to be unique, not secret, so each thread
 * draws them from a generator seeded once from SecureRandom (OVS does the same with a seeded
 * AES-128 counter).
 */
public final class Uuids {
    private static final ThreadLocal<SplittableRandom> RANDOM =
            ThreadLocal.withInitial(() -> new SplittableRandom(new SecureRandom().nextLong()));

    private Uuids() {
    }

    public static UUID random() {
        SplittableRandom r = RANDOM.get();
        long hi = (r.nextLong() & ~0xf000L) | 0x4000L;                 // version 4
        long lo = (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;   // IETF variant
        return new UUID(hi, lo);
    }
}
