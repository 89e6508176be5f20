package dev.vnetd.control.config;

import dev.vnetd.control.admin.AdminToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads {@code admin.token_file}: one line holding the bearer token, readable by the owner only (like ESP key files),
 * at least {@link AdminToken#MIN_LENGTH} visible ASCII characters. Errors are reported at the {@code token_file}
 * value and never quote the file's content.
 */
final class AdminTokenReader {
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private AdminTokenReader() {
    }

    /** The token named by {@code admin}'s {@code token_file}, or null after recording an error. */
    static AdminToken read(YamlSection admin, String tokenFile, Path dir) {
        if (dir == null) {
            admin.error("token_file", "'token_file' cannot be used in the embedded configuration");
            return null;
        }
        Path path = ConfigPaths.resolve(dir, tokenFile);
        if (path == null) {
            admin.error("token_file", "'token_file' is not a valid path");
            return null;
        }
        if (!Files.isRegularFile(path)) {
            admin.error("token_file", "token file " + path + " does not exist");
            return null;
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
            if (permissions.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                admin.error("token_file", "token file " + path + " is accessible to group or others; chmod 600 it");
                return null;
            }
            String token = Files.readString(path, StandardCharsets.US_ASCII).strip();
            if (token.length() < AdminToken.MIN_LENGTH || !token.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
                admin.error("token_file", "token file " + path + " must hold one token of at least "
                        + AdminToken.MIN_LENGTH + " visible ASCII characters (e.g. openssl rand -hex 32)");
                return null;
            }
            return AdminToken.of(token);
        } catch (UnsupportedOperationException | IOException e) {
            admin.error("token_file", "cannot read token file " + path + ": " + e.getClass().getSimpleName());
            return null;
        }
    }
}
