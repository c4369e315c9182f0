package io.vswitch.cli.vsctl;

import io.vswitch.ovsdb.client.OvsdbClient;

import io.vswitch.ovsdb.OvsdbException;
import io.vswitch.ovsdb.data.Datum;
import io.vswitch.ovsdb.schema.AtomicType;
import io.vswitch.ovsdb.schema.BaseType;
import io.vswitch.ovsdb.schema.ColumnType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** ovs-vsctl's textual syntax for atoms and values: parsing ("[a,b]", "{k=v}") and printing. */
final class Values {
    private Values() {}

    static final String DELIMS = ":=, []{}!<>";

    /** Orders atoms as OVS does (UUIDs by their unsigned 32-bit words, i.e. by hex text). */
    static Comparator<Object> order(AtomicType t) {
        if (t == AtomicType.UUID_) return Comparator.comparing(Object::toString);
        return t::compare;
    }

    static boolean needsQuotes(String s) {
        if (s.isEmpty()) return true;
        char c = s.charAt(0);
        if (!isAlpha(c) && c != '_') return true;
        for (int i = 1; i < s.length(); i++) {
            c = s.charAt(i);
            if (!isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '.') return true;
        }
        if (s.equals("true") || s.equals("false")) return true;
        return isUuid(s);
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    static boolean isUuid(String s) {
        return s.matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    }

    static String quote(String s) {
        try {
            return OvsdbClient.MAPPER.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String atom(Object a) {
        if (a instanceof String s) return needsQuotes(s) ? quote(s) : s;
        if (a instanceof Double d) return formatReal(d);
        return String.valueOf(a);
    }

    static String bareAtom(Object a) {
        if (a instanceof Double d) return formatReal(d);
        return String.valueOf(a);
    }

    static String formatReal(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) return String.valueOf((long) d);
        String s = String.format("%.15g", d);
        if (s.contains("e")) return s;
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    static List<Object[]> sortedEntries(ColumnType t, Datum d) {
        List<Object[]> es = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) es.add(new Object[] {d.key(i), d.isMap() ? d.value(i) : null});
        Comparator<Object> c = order(t.key().type());
        es.sort((x, y) -> c.compare(x[0], y[0]));
        return es;
    }

    /** ovsdb_datum_to_string: atom for scalars, [a, b] for sets, {k=v} for maps. */
    static String datum(ColumnType t, Datum d) {
        List<Object[]> es = sortedEntries(t, d);
        StringBuilder sb = new StringBuilder();
        boolean scalar = !t.isMap() && t.max() == 1;
        if (scalar && es.size() == 1) return atom(es.get(0)[0]);
        sb.append(t.isMap() ? '{' : '[');
        for (int i = 0; i < es.size(); i++) {
            if (i > 0) sb.append(", ");
            sb.append(atom(es.get(i)[0]));
            if (t.isMap()) sb.append('=').append(atom(es.get(i)[1]));
        }
        return sb.append(t.isMap() ? '}' : ']').toString();
    }

    /** ovsdb_datum_to_bare: space-separated, unquoted. */
    static String bare(ColumnType t, Datum d) {
        StringBuilder sb = new StringBuilder();
        for (Object[] e : sortedEntries(t, d)) {
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(bareAtom(e[0]));
            if (t.isMap()) sb.append('=').append(bareAtom(e[1]));
        }
        return sb.toString();
    }

    // ---- parsing ----

    /** A cursor over a string, splitting ovsdb tokens. */
    static final class Lexer {
        final String s;
        int pos;

        Lexer(String s) {
            this.s = s;
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }

        boolean atEnd() {
            return pos >= s.length();
        }

        char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        /** ovsdb_token_parse: a quoted JSON string or a run of non-delimiters. */
        String token() throws VsctlException {
            if (peek() == '"') {
                StringBuilder sb = new StringBuilder();
                int i = pos + 1;
                while (true) {
                    if (i >= s.length()) throw new VsctlException(s + ": missing quote at end of quoted string");
                    char c = s.charAt(i);
                    if (c == '"') break;
                    if (c == '\\' && i + 1 < s.length()) i++;
                    i++;
                }
                String lit = s.substring(pos, i + 1);
                pos = i + 1;
                try {
                    return OvsdbClient.MAPPER.readValue(lit, String.class);
                } catch (Exception e) {
                    throw new VsctlException(s + ": error parsing quoted string");
                }
            }
            int start = pos;
            while (pos < s.length() && DELIMS.indexOf(s.charAt(pos)) < 0 && !Character.isWhitespace(s.charAt(pos))) pos++;
            return s.substring(start, pos);
        }
    }

    static Object parseAtom(BaseType bt, String tok, Map<String, UUID> symbols) throws VsctlException {
        Object a;
        switch (bt.type()) {
            case INTEGER -> {
                try {
                    a = Long.parseLong(tok);
                } catch (NumberFormatException e) {
                    throw new VsctlException("\"" + tok + "\" is not a valid integer or range");
                }
            }
            case REAL -> {
                try {
                    a = Double.parseDouble(tok);
                } catch (NumberFormatException e) {
                    throw new VsctlException("\"" + tok + "\" is not a valid real number");
                }
            }
            case BOOLEAN -> {
                if (tok.equals("true")) a = true;
                else if (tok.equals("false")) a = false;
                else throw new VsctlException("\"" + tok + "\" is not a valid boolean (use \"true\" or \"false\")");
            }
            case STRING -> a = tok;
            default -> {
                if (tok.startsWith("@")) {
                    // As ovs-vsctl: a row id may be used before the command that creates it ("set Port p qos=@q -- --id=@q create QoS ...").
                    if (symbols == null) throw new VsctlException("row id \"" + tok + "\" cannot be used here");
                    a = symbols.computeIfAbsent(tok, x -> UUID.randomUUID());
                } else if (isUuid(tok)) {
                    a = UUID.fromString(tok);
                } else {
                    throw new VsctlException("\"" + tok + "\" is not a valid UUID");
                }
            }
        }
        try {
            bt.check(a);
        } catch (OvsdbException e) {
            String msg = e.getMessage();
            if (bt.enumValues() != null && !bt.enumValues().contains(a)) {
                List<Object> allowed = new ArrayList<>(bt.enumValues());
                allowed.sort(order(bt.type()));
                StringBuilder sb = new StringBuilder("[");
                for (int i = 0; i < allowed.size(); i++) sb.append(i > 0 ? ", " : "").append(atom(allowed.get(i)));
                msg = atom(a) + " is not one of the allowed values (" + sb.append("])");
            }
            throw new VsctlException("constraint violation: " + msg);
        }
        return a;
    }

    /** Parses one atom-token at the lexer position, refusing a trailing delimiter. */
    private static Object atomAt(Lexer lx, BaseType bt, Map<String, UUID> symbols) throws VsctlException {
        String tok = lx.token();
        if (tok.isEmpty() && lx.peek() != '"') {
            char c = lx.peek();
            throw new VsctlException(lx.s + ": " + (c == '\0' ? "missing value" : "unexpected \"" + c + "\" parsing " + bt.type().jsonName));
        }
        return parseAtom(bt, tok, symbols);
    }

    private static final java.util.regex.Pattern RANGE = java.util.regex.Pattern.compile("(-?\\d+)-(-?\\d+)");

    /** A key, or for integer keys also a range "START-END" (ovs-vsctl's trunks=1-5), as the keys it stands for. */
    private static List<Object> keysAt(Lexer lx, BaseType bt, Map<String, UUID> symbols) throws VsctlException {
        int start = lx.pos;
        if (bt.type() == AtomicType.INTEGER) {
            String tok = lx.token();
            java.util.regex.Matcher m = RANGE.matcher(tok);
            if (m.matches()) {
                long first = (Long) parseAtom(bt, m.group(1), symbols);
                long last = (Long) parseAtom(bt, m.group(2), symbols);
                if (last < first) throw new VsctlException("\"" + tok + "\" is not a valid range. Range end cannot be before start.");
                if (last - first >= 4096) throw new VsctlException("\"" + tok + "\" is not a valid range. Range can't have more than 4096 elements.");
                List<Object> keys = new ArrayList<>();
                for (long i = first; i <= last; i++) keys.add(i);
                return keys;
            }
            lx.pos = start;
        }
        return List.of(atomAt(lx, bt, symbols));
    }

    /** ovsdb_datum_from_string. */
    static Datum parseDatum(ColumnType t, String s, Map<String, UUID> symbols) throws VsctlException {
        Lexer lx = new Lexer(s);
        lx.skipSpace();
        boolean scalar = !t.isMap() && t.min() == 1 && t.max() == 1;
        Map<Object, Object> entries = new LinkedHashMap<>();
        char open = t.isMap() ? '{' : '[';
        char close = t.isMap() ? '}' : ']';
        boolean bracketed = false;
        if (lx.peek() == open) {
            bracketed = true;
            lx.pos++;
        }
        lx.skipSpace();
        while (!lx.atEnd() && lx.peek() != close) {
            List<Object> ks = keysAt(lx, t.key(), symbols);
            Object k = ks.get(0);
            Object v = null;
            if (ks.size() > 1) {
                if (t.isMap()) throw new VsctlException(s + ": a range is not allowed as a map key");
                for (Object more : ks.subList(1, ks.size())) entries.put(more, null);
            }
            if (t.isMap()) {
                lx.skipSpace();
                if (lx.peek() != '=') throw new VsctlException(s + ": syntax error at \"" + lx.s.substring(lx.pos) + "\"");
                lx.pos++;
                lx.skipSpace();
                v = atomAt(lx, t.value(), symbols);
            }
            if (entries.containsKey(k)) {
                if (t.isMap()) throw new VsctlException("map contains duplicate key");
            }
            entries.put(k, v);
            lx.skipSpace();
            if (lx.peek() == ',') {
                lx.pos++;
                lx.skipSpace();
            } else if (!lx.atEnd() && lx.peek() != close) {
                char c = lx.peek();
                if (DELIMS.indexOf(c) >= 0 && c != '[' && c != '{') {
                    throw new VsctlException(s + ": unexpected \"" + c + "\" parsing " + t.key().type().jsonName);
                }
            }
            if (scalar && !bracketed) break;
        }
        if (bracketed) {
            if (lx.peek() != close) throw new VsctlException(s + ": missing \"" + close + "\" at end of data");
            lx.pos++;
            lx.skipSpace();
            if (!lx.atEnd()) throw new VsctlException(s + ": trailing garbage after \"" + close + "\"");
        }
        lx.skipSpace();
        if (!lx.atEnd()) {
            throw new VsctlException(s + ": trailing garbage after value");
        }
        String what = t.isMap() ? "pair(s)" : "value(s)";
        if (entries.size() < t.min()) {
            throw new VsctlException(s + ": " + entries.size() + " " + what + " specified but the minimum number is " + t.min());
        }
        if (entries.size() > t.max()) {
            throw new VsctlException(s + ": " + entries.size() + " " + what + " specified but the maximum number is " + t.max());
        }
        return Datum.of(t, entries);
    }
}
