package dev.vnetd.dataplane.path;

import dev.vnetd.crypto.esp.EspResult;

/** Maps every {@link EspResult} but {@code OK} one-to-one onto its {@link DropReason}. */
final class EspDrops {
    private static final DropReason[] BY_RESULT = new DropReason[EspResult.values().length];

    static {
        for (EspResult result : EspResult.values()) {
            BY_RESULT[result.ordinal()] = switch (result) {
                case OK -> null;
                case NON_ESP_MARKER -> DropReason.ESP_IKE_MESSAGE;
                case UNKNOWN_SPI -> DropReason.ESP_UNKNOWN_SPI;
                case TRUNCATED -> DropReason.ESP_TRUNCATED;
                case MALFORMED -> DropReason.ESP_MALFORMED;
                case REPLAYED -> DropReason.ESP_REPLAYED;
                case OUTSIDE_WINDOW -> DropReason.ESP_OUTSIDE_WINDOW;
                case ICV_FAILED -> DropReason.ESP_ICV_FAILED;
                case BAD_PADDING -> DropReason.ESP_BAD_PADDING;
                case DUMMY_PACKET -> DropReason.ESP_DUMMY_PACKET;
                case SEQ_EXHAUSTED -> DropReason.ESP_SEQ_EXHAUSTED;
                case LIFETIME_EXPIRED -> DropReason.ESP_LIFETIME_EXPIRED;
                case NO_ROOM -> DropReason.ESP_NO_ROOM;
            };
        }
    }

    private EspDrops() {
    }

    /** The drop reason of a result other than OK. */
    static DropReason of(EspResult result) {
        return BY_RESULT[result.ordinal()];
    }
}
