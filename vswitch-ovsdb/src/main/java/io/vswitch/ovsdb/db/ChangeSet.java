package io.vswitch.ovsdb.db;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * What a committed transaction changed: per table, per row, the old and new row (old null for an
 * insert, new null for a delete). Monitors, the durable log and the bridge reconciler consume it.
 */
public record ChangeSet(UUID txnId, Map<String, Map<UUID, Change>> tables, String comment) {
    public record Change(Row old, Row now) {}

    public boolean isEmpty() {
        return tables.values().stream().allMatch(Map::isEmpty);
    }

    static ChangeSet empty(UUID txnId) {
        return new ChangeSet(txnId, new LinkedHashMap<>(), null);
    }
}
