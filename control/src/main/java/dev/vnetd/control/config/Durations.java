package dev.vnetd.control.config;

import java.time.Duration;

/** Durations as operators write them: a whole number and a unit, {@code ms}, {@code s}, {@code m}, {@code h} or {@code d}. */
public final class Durations {
    private Durations() {
    }

    /** Parses {@code 500ms}, {@code 30s}, {@code 5m}, {@code 6h} or {@code 2d}; null when it is none of these. */
    public static Duration parse(String text) {
        int unitAt = 0;
        while (unitAt < text.length() && Character.isDigit(text.charAt(unitAt))) {
            unitAt++;
        }
        if (unitAt == 0 || unitAt > 12) {
            return null;
        }
        long amount = Long.parseLong(text.substring(0, unitAt));
        return switch (text.substring(unitAt)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            default -> null;
        };
    }
}
