package dev.vnetd.dataplane.masque;

import java.util.ArrayList;
import java.util.List;

/**
 * The path part of a CONNECT-IP URI template (RFC 9484 section 3, RFC 6570 level 1): literal text with the
 * variables {@code {target}} and {@code {ipproto}}, such as the default
 * {@code /.well-known/masque/ip/{target}/{ipproto}/}. vnetd tunnels whole IP networks, so its client asks for
 * target {@code *} and protocol {@code *} (section 3: "*" means any), and the server accepts any value of the
 * variables in a path that matches the template's literal text. Immutable.
 */
public final class MasqueUriTemplate {
    /** The default template (RFC 9484 section 3's well-known location). */
    public static final String DEFAULT = "/.well-known/masque/ip/{target}/{ipproto}/";
    /** What the client puts in both variables: every target, every protocol. */
    public static final String ANY = "*";

    private static final String TARGET = "{target}";
    private static final String IPPROTO = "{ipproto}";

    private final String template;
    private final List<String> literals;

    private MasqueUriTemplate(String template, List<String> literals) {
        this.template = template;
        this.literals = literals;
    }

    /**
     * Parses a template; it must start with {@code /} and contain {@code {target}} and {@code {ipproto}} once each,
     * and no other braces.
     */
    public static MasqueUriTemplate parse(String template) {
        if (!template.startsWith("/")) {
            throw new IllegalArgumentException("a URI template path must start with '/': " + template);
        }
        int t = template.indexOf(TARGET);
        int p = template.indexOf(IPPROTO);
        if (t < 0 || p < 0 || template.indexOf(TARGET, t + 1) >= 0 || template.indexOf(IPPROTO, p + 1) >= 0) {
            throw new IllegalArgumentException("a URI template needs {target} and {ipproto} once each: " + template);
        }
        String rest = template.replace(TARGET, "").replace(IPPROTO, "");
        if (rest.indexOf('{') >= 0 || rest.indexOf('}') >= 0) {
            throw new IllegalArgumentException("a URI template may use only {target} and {ipproto}: " + template);
        }
        int first = Math.min(t, p);
        int second = Math.max(t, p);
        String firstVar = first == t ? TARGET : IPPROTO;
        String secondVar = second == t ? TARGET : IPPROTO;
        List<String> literals = new ArrayList<>();
        literals.add(template.substring(0, first));
        literals.add(template.substring(first + firstVar.length(), second));
        literals.add(template.substring(second + secondVar.length()));
        if (literals.get(1).isEmpty()) {
            throw new IllegalArgumentException("{target} and {ipproto} must be separated: " + template);
        }
        return new MasqueUriTemplate(template, List.copyOf(literals));
    }

    /** The path a client requests: both variables {@code *}. */
    public String anyTargetPath() {
        return template.replace(TARGET, ANY).replace(IPPROTO, ANY);
    }

    /** Whether {@code path} (query ignored) is the template with some non-empty value, without '/', per variable. */
    public boolean matches(CharSequence path) {
        String p = path.toString();
        int query = p.indexOf('?');
        if (query >= 0) {
            p = p.substring(0, query);
        }
        String head = literals.get(0);
        String middle = literals.get(1);
        String tail = literals.get(2);
        if (!p.startsWith(head) || !p.endsWith(tail) || p.length() < head.length() + tail.length()) {
            return false;
        }
        String variables = p.substring(head.length(), p.length() - tail.length());
        int split = variables.indexOf(middle);
        if (split <= 0 || split + middle.length() >= variables.length()) {
            return false;
        }
        String a = variables.substring(0, split);
        String b = variables.substring(split + middle.length());
        return a.indexOf('/') < 0 && b.indexOf('/') < 0;
    }

    @Override
    public String toString() {
        return template;
    }
}
