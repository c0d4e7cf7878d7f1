package net.swarming.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RttStatsTest {

    private static final double EPS = 1e-9;

    @Test
    void whenOddCount_thenMiddleValueAndPopulationStddev() {
        RttStats s = RttStats.of(Arrays.asList(3.0, null, 1.0, 2.0, null));
        assertEquals(1.0, s.min(), EPS);
        assertEquals(2.0, s.avg(), EPS);
        assertEquals(3.0, s.max(), EPS);
        assertEquals(Math.sqrt(2.0 / 3.0), s.stddev(), EPS);
        assertEquals(2.0, s.median(), EPS);
        assertEquals(3.0, s.p95(), EPS);
    }

    @Test
    void whenEvenCount_thenMedianIsMeanOfTheTwoMiddles() {
        RttStats s = RttStats.of(List.of(4.0, 1.0, 3.0, 2.0));
        assertEquals(2.5, s.median(), EPS);
        assertEquals(2.5, s.avg(), EPS);
        assertEquals(Math.sqrt(1.25), s.stddev(), EPS);
    }

    @Test
    void whenTwentyValues_thenP95IsTheNineteenthByNearestRank() {
        List<Double> rtts = new ArrayList<>();
        for (int i = 20; i >= 1; i--) {
            rtts.add((double) i);
        }
        assertEquals(19.0, RttStats.of(rtts).p95(), EPS);
        // ceil(0.95 n): 95 of 100, 95 of 99 (94.05 rounds up), 10 of 10 (9.5 rounds up).
        assertEquals(95.0, RttStats.of(rangeTo(100)).p95(), EPS);
        assertEquals(95.0, RttStats.of(rangeTo(99)).p95(), EPS);
        assertEquals(10.0, RttStats.of(rangeTo(10)).p95(), EPS);
    }

    @Test
    void whenOneValue_thenEverythingIsThatValue() {
        assertEquals(new RttStats(7.5, 7.5, 7.5, 0.0, 7.5, 7.5), RttStats.of(List.of(7.5)));
    }

    @Test
    void whenNothingCameBack_thenOfRefusesAndOfRoundIsEmpty() {
        assertThrows(IllegalArgumentException.class, () -> RttStats.of(Arrays.asList(null, null)));
        assertEquals(Optional.empty(), RttStats.ofRound(Arrays.asList(null, null)));
        assertEquals(Optional.empty(), RttStats.ofRound(List.of()));
    }

    @Test
    void whenNegativeOrNotFinite_thenRejected() {
        assertThrows(IllegalArgumentException.class, () -> RttStats.of(List.of(-1.0)));
        assertThrows(IllegalArgumentException.class, () -> RttStats.of(List.of(Double.NaN)));
        assertThrows(IllegalArgumentException.class, () -> new RttStats(1, 1, Double.POSITIVE_INFINITY, 0, null, null));
        assertThrows(IllegalArgumentException.class, () -> new RttStats(1, 1, 1, 0, -2.0, null));
    }

    @Test
    void whenEqualValues_thenAverageStaysWithinMinAndMax() {
        List<Double> same = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            same.add(0.1);
        }
        RttStats s = RttStats.of(same);
        assertTrue(s.min() <= s.avg() && s.avg() <= s.max(), s.toString());
    }

    private static List<Double> rangeTo(int n) {
        List<Double> values = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            values.add((double) i);
        }
        return values;
    }
}
