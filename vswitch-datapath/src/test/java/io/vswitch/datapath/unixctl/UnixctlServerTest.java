package io.vswitch.datapath.unixctl;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The unixctl server against well-formed, malformed and hostile requests. */
class UnixctlServerTest {
    @TempDir
    Path dir;
    private UnixctlServer server;
    private Path socket;

    @BeforeEach
    void setUp() throws IOException {
        socket = dir.resolve("test.ctl");
        server = new UnixctlServer(socket, "test 1.0");
        server.register("echo", "ARG...", 0, 3, args -> String.join(" ", args) + "\n");
        server.register("fail", "", 0, 0, args -> {
            throw new UnixctlException("it failed");
        });
        server.register("bug", "", 0, 0, args -> {
            throw new IllegalStateException("bad state");
        });
        server.start();
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    @Test
    void commandsAnswerWithTextOrError() throws Exception {
        assertEquals("a b\n", UnixctlClient.call(socket, "echo", List.of("a", "b")));
        assertEquals("test 1.0\n", UnixctlClient.call(socket, "version", List.of()));
        assertTrue(UnixctlClient.call(socket, "list-commands", List.of()).contains("echo"));
        assertEquals("it failed\n", assertThrows(UnixctlException.class, () -> UnixctlClient.call(socket, "fail", List.of())).getMessage());
        assertEquals("bad state\n", assertThrows(UnixctlException.class, () -> UnixctlClient.call(socket, "bug", List.of())).getMessage());
        assertTrue(assertThrows(UnixctlException.class, () -> UnixctlClient.call(socket, "echo", List.of("1", "2", "3", "4")))
                .getMessage().contains("\"echo\" command takes from 0 to 3 argument(s)"));
        assertTrue(assertThrows(UnixctlException.class, () -> UnixctlClient.call(socket, "nope", List.of()))
                .getMessage().contains("\"nope\" is not a valid command"));
    }

    /**
     * Sends raw bytes and returns what the server answers until it closes; "" if it reset the
     * connection (what it does to input that is not JSON).
     */
    private String raw(byte[] request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(request));
            ch.shutdownOutput();
            InputStream in = Channels.newInputStream(ch);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.net.SocketException reset) {
            return "";
        }
    }

    @Test
    void wellFormedJsonOfTheWrongShapeGetsAnErrorReply() throws Exception {
        assertTrue(raw("{\"id\":1,\"method\":7,\"params\":[]}".getBytes()).contains("invalid request"));
        assertTrue(raw("{\"id\":1,\"method\":\"echo\",\"params\":{}}".getBytes()).contains("invalid request"));
        assertTrue(raw("{\"id\":1,\"method\":\"echo\",\"params\":[1,2]}".getBytes()).contains("params must be strings"));
        String two = raw("{\"id\":1,\"method\":\"echo\",\"params\":[\"x\"]}{\"id\":2,\"method\":\"echo\",\"params\":[\"y\"]}".getBytes());
        assertTrue(two.contains("\"x\\n\"") && two.contains("\"y\\n\""), "two requests on one connection: " + two);
    }

    @Test
    void garbageAndHugeRequestsNeverHurtOtherClients() throws Exception {
        Random r = new Random(11);
        for (int i = 0; i < 300; i++) {
            byte[] junk = new byte[r.nextInt(400)];
            r.nextBytes(junk);
            if (i % 3 == 0) junk = ("{\"id\":" + i + ",\"method\":\"echo\",\"params\":[" + "\"" + "[".repeat(r.nextInt(50))).getBytes();
            raw(junk);
        }
        byte[] huge = ("{\"id\":1,\"method\":\"echo\",\"params\":[\"" + "x".repeat(3 << 20) + "\"]}").getBytes();
        assertEquals("", raw(huge), "over the 1 MiB request limit: no answer, connection closed");
        byte[] deep = ("{\"id\":1,\"method\":\"echo\",\"params\":" + "[".repeat(10_000)).getBytes();
        raw(deep);
        assertEquals("still here\n", UnixctlClient.call(socket, "echo", List.of("still", "here")));
    }
}
