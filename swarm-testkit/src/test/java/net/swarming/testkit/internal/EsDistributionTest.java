package net.swarming.testkit.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EsDistributionTest {

  @Test
  void whenLauncherScriptOrNativeLibrary_thenExecutableBitRestored() {
    assertTrue(EsDistribution.needsExecBit("elasticsearch-8.19.21/bin/elasticsearch"));
    assertTrue(EsDistribution.needsExecBit("elasticsearch-8.19.21/bin/elasticsearch-env"));
    assertTrue(EsDistribution.needsExecBit("elasticsearch-8.19.21/jdk/bin/java"));
    assertTrue(EsDistribution.needsExecBit("elasticsearch-8.19.21/jdk/lib/jspawnhelper"));
    assertTrue(EsDistribution.needsExecBit("elasticsearch-8.19.21/lib/platform/linux-x64/libvec.so"));
  }

  @Test
  void whenJarOrConfig_thenNotExecutable() {
    assertFalse(EsDistribution.needsExecBit("elasticsearch-8.19.21/lib/elasticsearch-8.19.21.jar"));
    assertFalse(EsDistribution.needsExecBit("elasticsearch-8.19.21/config/jvm.options"));
    assertFalse(EsDistribution.needsExecBit("elasticsearch-8.19.21/NOTICE.txt"));
  }
}
