package dev.vnetd.control.config;

/**
 * Where a configuration value was written, for errors found after parsing (duplicates, dangling references).
 *
 * @param file   file name as shown in errors
 * @param line   1-based line
 * @param column 1-based column
 */
public record Where(String file, int line, int column) {
    /** An error at this place. */
    public ConfigError error(String message) {
        return new ConfigError(file, line, column, message);
    }
}
