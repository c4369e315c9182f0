package io.vswitch.cli.vsctl;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Prints rows for list/find in the --format chosen (list, table, csv, json, html), honouring --bare and -d. */
final class Output {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final Snapshot db;
    private final String format;
    private final boolean bare;
    private final boolean noHeadings;

    Output(Snapshot db, String format, boolean bare, boolean noHeadings) {
        this.db = db;
        this.format = format;
        this.bare = bare;
        this.noHeadings = noHeadings;
    }

    void rows(StringBuilder o, String t, List<String> cols, List<UUID> us) {
        switch (format) {
            case "json" -> json(o, t, cols, us);
            case "csv" -> csv(o, t, cols, us);
            case "table" -> table(o, t, cols, us);
            case "html" -> html(o, t, cols, us);
            default -> list(o, t, cols, us);
        }
    }

    private void json(StringBuilder o, String t, List<String> cols, List<UUID> us) {
        ObjectNode root = F.objectNode();
        ArrayNode data = root.putArray("data");
        for (UUID u : us) {
            ArrayNode r = data.addArray();
            for (String col : cols) r.add(db.json(db.colType(t, col), db.readColumn(u, col)));
        }
        ArrayNode h = root.putArray("headings");
        for (String col : cols) h.add(col);
        o.append(root.toString()).append('\n');
    }

    private void csv(StringBuilder o, String t, List<String> cols, List<UUID> us) {
        if (!noHeadings) o.append(String.join(",", cols)).append('\n');
        for (UUID u : us) {
            List<String> cells = new ArrayList<>();
            for (String col : cols) cells.add(csvQuote(cell(t, col, u)));
            o.append(String.join(",", cells)).append('\n');
        }
    }

    private static String csvQuote(String s) {
        if (s.isEmpty() || s.chars().anyMatch(ch -> ch == ',' || ch == '"' || ch == '\n' || ch == ' ')) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }

    private void table(StringBuilder o, String t, List<String> cols, List<UUID> us) {
        List<List<String>> lines = new ArrayList<>();
        int[] w = new int[cols.size()];
        for (int k = 0; k < cols.size(); k++) w[k] = noHeadings ? 0 : cols.get(k).length();
        for (UUID u : us) {
            List<String> cells = new ArrayList<>();
            for (int k = 0; k < cols.size(); k++) {
                String s = cell(t, cols.get(k), u);
                w[k] = Math.max(w[k], s.length());
                cells.add(s);
            }
            lines.add(cells);
        }
        if (!noHeadings) {
            List<String> dash = new ArrayList<>();
            for (int k = 0; k < cols.size(); k++) dash.add("-".repeat(w[k]));
            lines.add(0, dash);
            lines.add(0, cols);
        }
        for (List<String> l : lines) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < l.size(); k++) {
                if (k > 0) sb.append(' ');
                sb.append(String.format("%-" + Math.max(w[k], 1) + "s", l.get(k)));
            }
            o.append(sb.toString().replaceAll(" +$", "")).append('\n');
        }
    }

    /** ovs-vsctl's HTML: one table, a heading row unless -d, a row per record, cells escaped. */
    private void html(StringBuilder o, String t, List<String> cols, List<UUID> us) {
        o.append("<table border=1>\n");
        if (!noHeadings) {
            o.append("  <tr>\n");
            for (String col : cols) o.append("    <th>").append(escapeHtml(col)).append("</th>\n");
            o.append("  </tr>\n");
        }
        for (UUID u : us) {
            o.append("  <tr>\n");
            for (String col : cols) o.append("    <td>").append(escapeHtml(cell(t, col, u))).append("</td>\n");
            o.append("  </tr>\n");
        }
        o.append("</table>\n");
    }

    private static String escapeHtml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** One "column : value" line per cell, a blank line between records. */
    private void list(StringBuilder o, String t, List<String> cols, List<UUID> us) {
        boolean first = true;
        for (UUID u : us) {
            if (!first) o.append('\n');
            first = false;
            for (String col : cols) {
                if (!noHeadings) o.append(String.format("%-20s: ", col));
                o.append(cell(t, col, u)).append('\n');
            }
        }
    }

    private String cell(String t, String col, UUID u) {
        ColumnType ct = db.colType(t, col);
        Datum d = db.readColumn(u, col);
        return bare ? Values.bare(ct, d) : Values.datum(ct, d);
    }
}
