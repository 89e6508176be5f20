package dev.vnetd.control.config;

/**
 * One configuration mistake, located in its file. Lines and columns count from 1, as editors show them.
 *
 * @param file    the file as named on the command line or in an include
 * @param line    line of the offending node
 * @param column  column of the offending node
 * @param message what is wrong, in terms of the schema; never a secret's value
 */
public record ConfigError(String file, int line, int column, String message) implements Comparable<ConfigError> {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }

    @Override
    public int compareTo(ConfigError o) {
        int c = file.compareTo(o.file);
        if (c == 0) {
            c = Integer.compare(line, o.line);
        }
        if (c == 0) {
            c = Integer.compare(column, o.column);
        }
        return c == 0 ? message.compareTo(o.message) : c;
    }
}
