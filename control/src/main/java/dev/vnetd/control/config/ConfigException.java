package dev.vnetd.control.config;

import java.util.List;

/** A configuration that failed to load or validate, with every error found. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<ConfigError> errors;

    /** An exception listing {@code errors} (at least one). */
    public ConfigException(List<ConfigError> errors) {
        super(errors.size() + " configuration error(s):\n" + String.join("\n",
                errors.stream().map(ConfigError::toString).toList()));
        this.errors = List.copyOf(errors);
    }

    /** Every error, in file and line order. */
    public List<ConfigError> errors() {
        return errors;
    }
}
