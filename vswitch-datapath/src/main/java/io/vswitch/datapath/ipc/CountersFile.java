package io.vswitch.datapath.ipc;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The dataplane's statistics as an Agrona counters file ({@code vswitch-dp.counters} in the run dir):
 * a 4 KiB header, the counters' metadata (labels, type ids, keys) and their values. PMDs write values
 * with plain/release stores; any process maps the file and reads with a {@link CountersReader},
 * touching no PMD.
 */
public final class CountersFile implements AutoCloseable {
    public static final String FILE_NAME = "vswitch-dp.counters";
    private static final long MAGIC = 0x5653574443545253L; // "VSWDCTRS"
    private static final int HEADER = 4096;
    static final int COUNTERS = 16 * 1024;
    static final int VALUES = COUNTERS * CountersReader.COUNTER_LENGTH;
    static final int METADATA = COUNTERS * CountersReader.METADATA_LENGTH;
    static final long SIZE = HEADER + (long) METADATA + VALUES;

    private final SharedFile file;
    private final UnsafeBuffer metadata;
    private final UnsafeBuffer values;

    private CountersFile(SharedFile file) {
        this.file = file;
        this.metadata = file.buffer(HEADER, METADATA);
        this.values = file.buffer(HEADER + (long) METADATA, VALUES);
    }

    public static CountersFile create(Path runDir) throws IOException {
        CountersFile f = new CountersFile(SharedFile.create(runDir.resolve(FILE_NAME), SIZE));
        f.file.buffer(0, HEADER).putLongVolatile(0, MAGIC);
        return f;
    }

    public static CountersFile anonymous() {
        return new CountersFile(SharedFile.anonymous(SIZE));
    }

    public static CountersFile open(Path runDir) throws IOException {
        SharedFile sf = SharedFile.map(runDir.resolve(FILE_NAME));
        if (sf.size() != SIZE || sf.buffer(0, HEADER).getLongVolatile(0) != MAGIC) {
            sf.close();
            throw new IOException(runDir.resolve(FILE_NAME) + " is not a vswitch counters file of this version");
        }
        return new CountersFile(sf);
    }

    /** The writer's view (dataplane only). */
    public CountersManager manager() {
        return new CountersManager(metadata, values);
    }

    public CountersReader reader() {
        return new CountersReader(metadata, values);
    }

    @Override
    public void close() {
        file.close();
    }
}
