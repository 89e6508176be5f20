package dev.vnetd.crypto.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LibCryptoTest {
    @Test
    void shouldLoadTheSystemLibcrypto() {
        assertEquals(null, LibCrypto.failure());
    }

    @Test
    void shouldFallBackToTheJdkAndRefuseAForcedOpenSslWhenLibcryptoIsMissing()
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-D" + LibCrypto.LIBRARY_PROPERTY + "=libcrypto-missing.so.3",
                "-cp", System.getProperty("java.class.path"), MissingLibrary.class.getName())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(30, TimeUnit.SECONDS);

        List<String> lines = output.lines().filter(line -> line.startsWith("probe ")).toList();
        assertEquals(List.of("probe available=false",
                "probe auto=JDK",
                "probe icv8=BOUNCY_CASTLE",
                "probe forced=vnetd.esp.provider=openssl, but OpenSSL is unavailable: libcrypto-missing.so.3 cannot be"
                        + " loaded: Cannot open library: libcrypto-missing.so.3 (install libssl3t64 or libssl3, or"
                        + " choose auto, jdk or bc)"), lines, output);
    }

    /** Runs in a JVM told to load a library that does not exist. */
    static final class MissingLibrary {
        public static void main(String[] args) {
            System.out.println("probe available=" + EspProvider.openSslAvailable());
            System.out.println("probe auto=" + EspProvider.resolve("auto", EspTransform.AES_GCM_128));
            System.out.println("probe icv8=" + EspProvider.fastest(EspTransform.AES_GCM_128_ICV8));
            try {
                new EspContext("openssl");
                System.out.println("probe forced=accepted");
            } catch (IllegalStateException e) {
                System.out.println("probe forced=" + e.getMessage());
            }
        }
    }
}
