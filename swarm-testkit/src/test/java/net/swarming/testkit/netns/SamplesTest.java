package net.swarming.testkit.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class SamplesTest {

  @Test
  void whenCountIsOddOrEven_thenTheMedianIsTheMiddleOrTheMeanOfTheTwoMiddles() {
    assertEquals(2.0, Samples.median(List.of(3.0, 1.0, 2.0)));
    assertEquals(2.5, Samples.median(List.of(4.0, 1.0, 3.0, 2.0)));
  }

  @Test
  void whenPercentileIsAsked_thenRanksInterpolate() {
    List<Double> v = List.of(10.0, 20.0, 30.0, 40.0, 50.0);
    assertEquals(10.0, Samples.percentile(v, 0));
    assertEquals(50.0, Samples.percentile(v, 100));
    assertEquals(46.0, Samples.percentile(v, 90), 1e-9);
    assertThrows(IllegalArgumentException.class, () -> Samples.median(List.of()));
  }
}
