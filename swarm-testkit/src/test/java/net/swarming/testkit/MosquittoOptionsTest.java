package net.swarming.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class MosquittoOptionsTest {

  @Test
  void whenDefaults_thenPersistenceOnAndNoExtraLines() {
    assertTrue(MosquittoOptions.defaults().persistence());
    assertEquals(List.of(), MosquittoOptions.defaults().extraConfigLines());
  }

  @Test
  void whenLinesAdded_thenAppendedInOrderAndOriginalUnchanged() {
    MosquittoOptions base = MosquittoOptions.defaults().withExtraConfig("a 1");
    MosquittoOptions more = base.withExtraConfig("b 2", "c 3").withPersistence(false);
    assertEquals(List.of("a 1"), base.extraConfigLines());
    assertEquals(List.of("a 1", "b 2", "c 3"), more.extraConfigLines());
    assertFalse(more.persistence());
  }

  @Test
  void whenLineHasLineBreak_thenRejectedNamingTheLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MosquittoOptions(List.of("a 1\nlistener 1883"), true));
    assertTrue(e.getMessage().contains("listener 1883"), e.getMessage());
  }

  @Test
  void whenNullLines_thenEmpty() {
    assertEquals(List.of(), new MosquittoOptions(null, true).extraConfigLines());
  }
}
