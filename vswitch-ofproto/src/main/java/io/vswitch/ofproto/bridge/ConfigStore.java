package io.vswitch.ofproto.bridge;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Keeps {@link SwitchConfig} durable in the run dir's database file ({@code conf.db}): every change is
 * written to a temporary file, fsync'ed and renamed over the old one, so a crash leaves either the old
 * or the new configuration, never a torn one. (The OVSDB issue replaces this with an RFC 7047 log.)
 */
public final class ConfigStore {
    public static final String FILE_NAME = "conf.db";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path file;

    public ConfigStore(Path runDir) {
        this.file = runDir.resolve(FILE_NAME);
    }

    public Path file() {
        return file;
    }

    /** Loads the configuration, creating an empty database file on first start. */
    public SwitchConfig load() throws IOException {
        if (!Files.exists(file)) {
            SwitchConfig empty = new SwitchConfig();
            save(empty);
            return empty;
        }
        SwitchConfig c;
        try {
            c = JSON.readValue(file.toFile(), SwitchConfig.class);
        } catch (IOException e) {
            throw new IOException(file + " is not a readable vswitch database: " + e.getMessage()
                    + " (move it away to start with an empty configuration)");
        }
        if (!SwitchConfig.FORMAT.equals(c.format)) {
            throw new IOException(file + " has format '" + c.format + "', expected " + SwitchConfig.FORMAT);
        }
        return c;
    }

    public void save(SwitchConfig c) throws IOException {
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        byte[] bytes = JSON.writeValueAsBytes(c);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A deep copy (so a failed change can be rolled back). */
    public static SwitchConfig copy(SwitchConfig c) {
        return JSON.convertValue(c, SwitchConfig.class);
    }
}
