package net.swarming.testkit.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EchoBehaviorTest {

  @Test
  void whenUniformJitter_thenDelaysStayWithinTheBandAndCenterOnTheDelay() {
    EchoBehavior b = EchoBehavior.uniform(Duration.ofMillis(50), Duration.ofMillis(5), 0);
    SplittableRandom random = new SplittableRandom(3);
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      long d = b.nextDelayNanos(random);
      assertTrue(d >= 45_000_000 && d <= 55_000_000, "delay " + d);
      ms.add(d / 1e6);
    }
    assertEquals(50, Samples.median(ms), 0.2);
  }

  @Test
  void whenLossIsTenPercent_thenAboutOneInTenIsDropped() {
    EchoBehavior b = EchoBehavior.uniform(Duration.ZERO, Duration.ZERO, 0.1);
    SplittableRandom random = new SplittableRandom(5);
    int dropped = 0;
    for (int i = 0; i < 100_000; i++) {
      dropped += b.drops(random) ? 1 : 0;
    }
    assertEquals(10_000, dropped, 400);
  }

  @Test
  void whenNormalJitter_thenDelaysAreNeverNegative() {
    EchoBehavior b = EchoBehavior.normal(Duration.ofMillis(1), Duration.ofMillis(5), 0);
    SplittableRandom random = new SplittableRandom(9);
    for (int i = 0; i < 10_000; i++) {
      assertTrue(b.nextDelayNanos(random) >= 0);
    }
  }

  @Test
  void whenValuesAreNonsense_thenEveryProblemIsNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new EchoBehavior(Duration.ofMillis(-1), Duration.ofMillis(-1), null, 1.0));
    assertTrue(e.getMessage().contains("delay"), e.getMessage());
    assertTrue(e.getMessage().contains("jitter"), e.getMessage());
    assertTrue(e.getMessage().contains("shape"), e.getMessage());
    assertTrue(e.getMessage().contains("loss"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> EchoBehavior.uniform(Duration.ofMillis(5), Duration.ofMillis(6), 0));
  }
}
