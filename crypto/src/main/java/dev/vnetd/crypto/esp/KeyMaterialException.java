package dev.vnetd.crypto.esp;

/**
 * Keying material that cannot be used, with the 1-based line and column in the key file where the problem lies so
 * the config layer can report {@code file:line:column: message}. The message never contains key bytes.
 */
public final class KeyMaterialException extends Exception {
    private final int line;
    private final int column;

    /** A problem at this 1-based line and column of the key text. */
    public KeyMaterialException(int line, int column, String message) {
        super(message);
        this.line = line;
        this.column = column;
    }

    /** 1-based line in the key text. */
    public int line() {
        return line;
    }

    /** 1-based column in the key text. */
    public int column() {
        return column;
    }
}
