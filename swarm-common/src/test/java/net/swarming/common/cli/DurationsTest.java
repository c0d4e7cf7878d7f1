package net.swarming.common.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "500ms, PT0.5S",
        "60s, PT60S",
        "1.5s, PT1.5S",
        "2m, PT2M",
        "1h, PT1H",
        "1d, PT24H",
        "' 10 S ', PT10S",
        "PT1M, PT1M",
        "pt0.25s, PT0.25S"
    })
    void parsesOperatorForms(String text, String iso) {
        assertEquals(Duration.parse(iso), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "60", "-1s", "soon", "1 minute", "1.s", "s"})
    void refusesWithAHelpfulMessage(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertTrue(e.getMessage().contains("60s"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"PT0.5S, 500ms", "PT60S, 1m", "PT1.5S, 1.5s", "PT2M, 2m", "PT24H, 1d", "PT0S, 0ms", "PT0.0001S, 0.1ms",
        "PT90S, 90s"})
    void formatsShortestFormThatReadsBack(String iso, String text) {
        String formatted = Durations.format(Duration.parse(iso));

        assertEquals(text, formatted);
        assertEquals(Duration.parse(iso), Durations.parse(formatted));
    }
}
