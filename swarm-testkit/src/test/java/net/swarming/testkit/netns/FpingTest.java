package net.swarming.testkit.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FpingTest {

  @Test
  void whenFpingSummarizes_thenLostProbesAreNullAndOrderIsKept() {
    List<InetAddress> targets = List.of(NetnsTestbed.target(0), NetnsTestbed.target(1));
    String stderr = "169.254.128.1 : duplicate for [0], 84 bytes, 50.3 ms\n"
        + "169.254.128.1 : 50.1 - 49.8\n169.254.128.2 : - - 51.0\n";
    Map<InetAddress, List<Double>> rtts = Fping.parse(stderr, targets, 3);
    assertEquals(Arrays.asList(50.1, null, 49.8), rtts.get(targets.get(0)));
    assertEquals(Arrays.asList(null, null, 51.0), rtts.get(targets.get(1)));
    Fping.Result r = new Fping.Result(List.of("fping"), rtts);
    assertEquals(6, r.sent());
    assertEquals(3, r.received());
    assertEquals(50.0, r.lossPercent(), 1e-9);
    assertEquals(50.1, r.medianMillis(), 1e-9);
  }

  @Test
  void whenATargetIsMissingOrShort_thenParsingFails() {
    List<InetAddress> targets = List.of(NetnsTestbed.target(0), NetnsTestbed.target(1));
    assertThrows(IllegalStateException.class, () -> Fping.parse("169.254.128.1 : 1.0 2.0\n", targets, 2));
    assertThrows(IllegalStateException.class,
        () -> Fping.parse("169.254.128.1 : 1.0\n169.254.128.2 : 1.0 2.0\n", targets, 2));
  }
}
