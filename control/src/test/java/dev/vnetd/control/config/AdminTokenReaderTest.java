package dev.vnetd.control.config;

import dev.vnetd.control.admin.AdminToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminTokenReaderTest {
    private static final String SECRET = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c";

    @TempDir
    Path dir;

    private Path config(String admin) throws Exception {
        Path file = dir.resolve("vnetd.yaml");
        Files.writeString(file, admin + "\n");
        return file;
    }

    private Path tokenFile(String content, String mode) throws Exception {
        Path file = dir.resolve("admin.token");
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    private List<String> errors(String admin) throws Exception {
        Path file = config(admin);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
        return e.errors().stream().map(err -> err.line() + ":" + err.column() + ": " + err.message()).toList();
    }

    @Test
    void shouldStayOnLoopbackWithoutAToken() throws Exception {
        assertNull(ConfigLoader.load(config("admin: {listen: 127.0.0.1:9400}")).admin().token());
        assertNull(ConfigLoader.load(config("admin: {listen: '[::1]:9400'}")).admin().token());
    }

    @Test
    void shouldRefuseAnotherAddressWithoutAToken() throws Exception {
        assertEquals(List.of("1:17: 'listen' 0.0.0.0:9400 is not a loopback address: the admin API may listen "
                + "elsewhere only with a bearer token ('token_file')"), errors("admin: {listen: 0.0.0.0:9400}"));
    }

    @Test
    void shouldReadTheTokenFileNextToTheConfiguration() throws Exception {
        tokenFile(SECRET + "\n", "rw-------");

        VnetdConfig config = ConfigLoader.load(config("admin: {listen: 0.0.0.0:9400, token_file: admin.token}"));

        AdminToken token = config.admin().token();
        assertTrue(token.matchesAuthorization("Bearer " + SECRET), "the trailing newline is not part of it");
        assertFalse(config.toString().contains(SECRET), "the configuration never prints the token");
    }

    @Test
    void shouldRefuseATokenFileOthersCanRead() throws Exception {
        tokenFile(SECRET, "rw-r--r--");
        List<String> errors = errors("admin: {listen: 0.0.0.0:9400, token_file: admin.token}");
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.getFirst().startsWith("1:43: token file "), errors.toString());
        assertTrue(errors.getFirst().endsWith("is accessible to group or others; chmod 600 it"), errors.toString());
    }

    @Test
    void shouldRefuseAShortTokenWithoutQuotingIt() throws Exception {
        tokenFile("hunter2", "rw-------");
        List<String> errors = errors("admin: {listen: 0.0.0.0:9400, token_file: admin.token}");
        assertTrue(errors.getFirst().contains("at least 16 visible ASCII characters"), errors.toString());
        assertFalse(errors.getFirst().contains("hunter2"));
    }

    @Test
    void shouldReportAMissingTokenFile() throws Exception {
        assertTrue(errors("admin: {listen: 0.0.0.0:9400, token_file: nope.token}").getFirst()
                .contains("does not exist"));
    }
}
