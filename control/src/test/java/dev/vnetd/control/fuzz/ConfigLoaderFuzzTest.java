package dev.vnetd.control.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vnetd.control.config.ConfigError;
import dev.vnetd.control.config.ConfigException;
import dev.vnetd.control.config.ConfigLoader;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * YAML configuration text for {@link ConfigLoader#parse}: it returns a configuration or throws
 * {@link ConfigException} listing errors that each name the file and a line and column; any other exception is a bug.
 * Includes resolve against an empty directory. Corpus: {@code ConfigLoaderFuzzTestInputs/}, seeded with the shipped
 * configurations and the loader tests' cases.
 */
class ConfigLoaderFuzzTest {
    private static final String NAME = "fuzz.yaml";

    @TempDir
    static Path dir;

    @FuzzTest(maxDuration = "10s")
    void shouldLoadOrReportLocatedErrors(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        try {
            assertNotNull(ConfigLoader.parse(NAME, text, dir));
        } catch (ConfigException e) {
            assertFalse(e.errors().isEmpty(), "a refused configuration says why");
            for (ConfigError error : e.errors()) {
                assertNotNull(error.file(), "error names its file: " + error);
                assertTrue(error.line() >= 1 && error.column() >= 1, "error has a line and column: " + error);
            }
        }
    }
}
