package dev.vnetd.control.config;

import dev.vnetd.control.config.VnetdConfig.SaConfig;
import dev.vnetd.crypto.esp.EspSa;
import dev.vnetd.crypto.esp.EspTransform;
import dev.vnetd.crypto.esp.KeyMaterial;
import dev.vnetd.crypto.esp.KeyMaterialException;
import dev.vnetd.crypto.esp.ReplayWindow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the {@code sa:} block of an ESP tunnel: transform, inbound and outbound {@code {spi, key_file}},
 * {@code replay_window}, {@code esn}. Key files are read here, relative to the directory of the file that names
 * them, and every problem with one (missing, readable by group or others, not hex, wrong length) is reported at
 * the {@code key_file} value, with the position inside the key file but never its content.
 */
final class SaConfigReader {
    /**
     * Default anti-replay window: 1024 packets, the default of strongSwan's {@code replay_window} and Linux xfrm's
     * usual setting for ESN SAs; wide enough that reordering across a few ECMP paths at line rate is not mistaken
     * for replay, small enough to cost 128 bytes of bitmap per SA.
     */
    static final int DEFAULT_REPLAY_WINDOW = 1024;
    /**
     * Extended sequence numbers by default: a 32-bit counter lasts 20 minutes at 3.5 Mpps, after which the SA must
     * be rekeyed; IKEv2 peers (strongSwan, Linux, most routers) offer ESN, and both ends must agree.
     */
    static final boolean DEFAULT_ESN = true;

    private static final Set<String> SA_KEYS = Set.of("transform", "inbound", "outbound", "replay_window", "esn");
    private static final Set<String> DIRECTION_KEYS = Set.of("spi", "key_file");
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final String file;
    private final Path dir;
    private final List<ConfigError> errors;

    /**
     * A reader for tunnels of {@code file}.
     *
     * @param dir directory key files resolve against; null for the embedded configuration, which cannot name any
     */
    SaConfigReader(String file, Path dir, List<ConfigError> errors) {
        this.file = file;
        this.dir = dir;
        this.errors = errors;
    }

    /** The SA block at {@code tunnel}'s {@code sa} key, or null after recording its errors. */
    SaConfig read(YamlSection tunnel) {
        YamlSection s = YamlSection.of(file, tunnel.node("sa"), "an sa block", SA_KEYS, errors);
        String transformName = s.string("transform", true);
        EspTransform transform = null;
        if (transformName != null) {
            try {
                transform = EspTransform.fromConfigName(transformName);
            } catch (IllegalArgumentException e) {
                s.error("transform", "'transform' must be one of " + String.join(", ",
                        Arrays.stream(EspTransform.values()).map(EspTransform::configName).toList()) + ", not '"
                        + transformName + "'");
            }
        }
        Direction inbound = direction(s, "inbound", transform);
        Direction outbound = direction(s, "outbound", transform);
        Long window = s.integer("replay_window", DEFAULT_REPLAY_WINDOW, 0, ReplayWindow.MAX_SIZE);
        Boolean esn = s.bool("esn", DEFAULT_ESN);
        if (transform == null || inbound == null || outbound == null || window == null || esn == null
                || inbound.key == null || outbound.key == null) {
            return null;
        }
        return new SaConfig(transform, inbound.spi, inbound.spiWhere, inbound.key, outbound.spi, outbound.key,
                window.intValue(), esn);
    }

    private record Direction(int spi, Where spiWhere, KeyMaterial key) {
    }

    private Direction direction(YamlSection sa, String name, EspTransform transform) {
        if (!sa.has(name)) {
            sa.string(name, true);
            return null;
        }
        YamlSection s = YamlSection.of(file, sa.node(name), "'" + name + "'", DIRECTION_KEYS, errors);
        Long spi = s.integer("spi", -1, 0, 0xFFFF_FFFFL);
        if (spi != null && spi == -1) {
            s.string("spi", true);
            spi = null;
        } else if (spi != null && spi < EspSa.MIN_SPI) {
            s.error("spi", "'spi' must be at least " + EspSa.MIN_SPI + ": 1-255 are reserved by IANA and 0 marks"
                    + " IKE messages (RFC 4303 2.1), not " + spi);
            spi = null;
        }
        String keyFile = s.string("key_file", true);
        KeyMaterial key = keyFile == null || transform == null ? null : readKey(s, keyFile, transform);
        return spi == null ? null : new Direction(spi.intValue(), s.where("spi"), key);
    }

    private KeyMaterial readKey(YamlSection s, String keyFile, EspTransform transform) {
        if (dir == null) {
            s.error("key_file", "'key_file' cannot be used in the embedded configuration");
            return null;
        }
        Path path = ConfigPaths.resolve(dir, keyFile);
        if (path == null) {
            s.error("key_file", "'key_file' is not a valid path");
            return null;
        }
        if (!Files.isRegularFile(path)) {
            s.error("key_file", "key file " + path + " does not exist");
            return null;
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
            if (permissions.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                s.error("key_file", "key file " + path + " is accessible to group or others (mode "
                        + mode(permissions) + "); chmod 600 it");
                return null;
            }
        } catch (UnsupportedOperationException | IOException e) {
            s.error("key_file", "cannot check the permissions of key file " + path + ": " + e.getMessage());
            return null;
        }
        String text;
        try {
            text = Files.readString(path, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            s.error("key_file", "cannot read key file " + path + " (it must hold hex digits only)");
            return null;
        }
        try {
            return KeyMaterial.parseHex(text, transform);
        } catch (KeyMaterialException e) {
            s.error("key_file", "key file " + path + " line " + e.line() + " column " + e.column() + ": "
                    + e.getMessage());
            return null;
        }
    }

    private static String mode(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (PosixFilePermission p : permissions) {
            mode |= 1 << (8 - p.ordinal());
        }
        return String.format("%04o", mode);
    }
}
