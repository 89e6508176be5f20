package dev.vnetd.control.config;

import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A YAML mapping read as a configuration section: typed getters that record a located error for every wrong type,
 * missing required key, unknown key or duplicate key, and return null so that reading goes on and all errors are
 * reported at once.
 */
final class YamlSection {
    private static final Pattern HEX = Pattern.compile("0[xX][0-9a-fA-F_]+");
    private final String file;
    private final Node node;
    private final String what;
    private final List<ConfigError> errors;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    private YamlSection(String file, Node node, String what, Set<String> allowed, List<ConfigError> errors) {
        this.file = file;
        this.node = node;
        this.what = what;
        this.errors = errors;
        if (!(node instanceof MappingNode mapping)) {
            errors.add(where(file, node).error(what + " must be a mapping of keys to values"));
            return;
        }
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (!(keyNode instanceof ScalarNode scalar)) {
                errors.add(where(file, keyNode).error("keys of " + what + " must be plain words"));
                continue;
            }
            String key = scalar.getValue();
            if (!allowed.contains(key)) {
                errors.add(where(file, keyNode).error("unknown key '" + key + "' in " + what + suggest(key, allowed)));
            } else if (entries.containsKey(key)) {
                errors.add(where(file, keyNode).error("duplicate key '" + key + "' in " + what));
            } else {
                entries.put(key, tuple);
            }
        }
    }

    /** Reads {@code node} as the section {@code what} with the given allowed keys. */
    static YamlSection of(String file, Node node, String what, Set<String> allowed, List<ConfigError> errors) {
        return new YamlSection(file, node, what, allowed, errors);
    }

    /** The location of a node. */
    static Where where(String file, Node node) {
        return node.getStartMark()
                .map(m -> new Where(file, m.getLine() + 1, m.getColumn() + 1))
                .orElse(new Where(file, 1, 1));
    }

    /** Where this section starts. */
    Where where() {
        return where(file, node);
    }

    /** Where the value of {@code key} is, or where the section is when the key is absent. */
    Where where(String key) {
        NodeTuple tuple = entries.get(key);
        return tuple == null ? where() : where(file, tuple.getValueNode());
    }

    /** Whether {@code key} is present. */
    boolean has(String key) {
        return entries.containsKey(key);
    }

    /** The raw value node of {@code key}, or null. */
    Node node(String key) {
        NodeTuple tuple = entries.get(key);
        return tuple == null ? null : tuple.getValueNode();
    }

    /** Records an error at the value of {@code key}. */
    void error(String key, String message) {
        errors.add(where(key).error(message));
    }

    /** A string value; null (and an error when {@code required}) when absent or not a scalar. */
    String string(String key, boolean required) {
        Node value = node(key);
        if (value == null) {
            if (required) {
                errors.add(where().error("missing required key '" + key + "' in " + what));
            }
            return null;
        }
        if (!(value instanceof ScalarNode scalar) || scalar.getTag().equals(Tag.NULL)) {
            errors.add(where(file, value).error("'" + key + "' must be a single value, not " + describe(value)));
            return null;
        }
        return scalar.getValue();
    }

    /** An integer in [min, max]; {@code fallback} when absent; null after an error. */
    Long integer(String key, long fallback, long min, long max) {
        Node value = node(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof ScalarNode scalar) || !(scalar.getTag().equals(Tag.INT) || isPlainHex(scalar))) {
            errors.add(where(file, value).error("'" + key + "' must be an integer, not " + describe(value)));
            return null;
        }
        BigInteger parsed = parseInteger(scalar.getValue());
        if (parsed == null || parsed.compareTo(BigInteger.valueOf(min)) < 0
                || parsed.compareTo(BigInteger.valueOf(max)) > 0) {
            errors.add(where(file, value).error("'" + key + "' must be between " + min + " and " + max + ", not "
                    + scalar.getValue()));
            return null;
        }
        return parsed.longValue();
    }

    /** A boolean; {@code fallback} when absent; null after an error. */
    Boolean bool(String key, boolean fallback) {
        Node value = node(key);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof ScalarNode scalar) || !scalar.getTag().equals(Tag.BOOL)) {
            errors.add(where(file, value).error("'" + key + "' must be true or false, not " + describe(value)));
            return null;
        }
        return Boolean.parseBoolean(scalar.getValue().toLowerCase(java.util.Locale.ROOT));
    }

    /** The items of a sequence value (a single scalar counts as a sequence of one); empty when absent. */
    List<Node> list(String key) {
        Node value = node(key);
        if (value == null) {
            return List.of();
        }
        if (value instanceof SequenceNode sequence) {
            return sequence.getValue();
        }
        if (value instanceof ScalarNode) {
            return List.of(value);
        }
        errors.add(where(file, value).error("'" + key + "' must be a list, not " + describe(value)));
        return List.of();
    }

    /** The string items of a sequence (or single scalar) value; errors for non-scalar items. */
    List<ScalarNode> scalars(String key) {
        List<ScalarNode> out = new ArrayList<>();
        for (Node item : list(key)) {
            if (item instanceof ScalarNode scalar && !scalar.getTag().equals(Tag.NULL)) {
                out.add(scalar);
            } else {
                errors.add(where(file, item).error("items of '" + key + "' must be single values, not "
                        + describe(item)));
            }
        }
        return out;
    }

    /**
     * Whether an unquoted scalar is a hex number like {@code 0x00001001}: the YAML 1.2 core schema of the loader
     * reads it as a string, but SPIs and GRE keys are written in hex by habit.
     */
    private static boolean isPlainHex(ScalarNode scalar) {
        return scalar.isPlain() && HEX.matcher(scalar.getValue()).matches();
    }

    private static BigInteger parseInteger(String text) {
        String t = text.replace("_", "");
        try {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return new BigInteger(t.substring(2), 16);
            }
            if (t.startsWith("0o")) {
                return new BigInteger(t.substring(2), 8);
            }
            return new BigInteger(t);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        ScalarNode scalar = (ScalarNode) node;
        if (scalar.getTag().equals(Tag.NULL)) {
            return "an empty value";
        }
        return "'" + scalar.getValue() + "'";
    }

    private static String suggest(String key, Set<String> allowed) {
        String best = null;
        int bestDistance = 3;
        for (String candidate : allowed) {
            int d = distance(key, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best != null ? " (did you mean '" + best + "'?)" : " (allowed: " + String.join(", ",
                allowed.stream().sorted().toList()) + ")";
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }
}
