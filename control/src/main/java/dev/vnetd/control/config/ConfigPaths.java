package dev.vnetd.control.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Paths named in a configuration, resolved against the directory of the file that names them. */
final class ConfigPaths {
    private ConfigPaths() {
    }

    /**
     * {@code text} resolved against {@code dir} (or as is when {@code dir} is null) and normalised; null when the
     * text cannot be a path at all (a NUL byte, say), so the caller reports it where it was written.
     */
    static Path resolve(Path dir, String text) {
        try {
            return dir == null ? Path.of(text).normalize() : dir.resolve(text).normalize();
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
