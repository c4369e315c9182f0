package io.vswitch.datapath.unixctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;

/** Calls one unixctl command on a server socket (used by {@code appctl} and by vswitchd to reach vswitch-dp). */
public final class UnixctlClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private UnixctlClient() {}

    /** Returns the command's text; throws {@link UnixctlException} with the server's error text. */
    public static String call(Path socket, String method, List<String> args) throws IOException, UnixctlException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ObjectNode req = JSON.createObjectNode();
            req.put("id", 0);
            req.put("method", method);
            ArrayNode params = req.putArray("params");
            args.forEach(params::add);
            ch.write(ByteBuffer.wrap(JSON.writeValueAsBytes(req)));
            InputStream in = Channels.newInputStream(ch);
            MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(in);
            if (!it.hasNextValue()) throw new IOException(socket + ": connection closed without a reply");
            JsonNode reply = it.nextValue();
            JsonNode error = reply.get("error");
            if (error != null && !error.isNull()) throw new UnixctlException(error.asText());
            JsonNode result = reply.get("result");
            return result == null || result.isNull() ? "" : result.asText();
        }
    }
}
