package net.swarming.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Options for a {@link MosquittoBroker}.
 *
 * @param extraConfigLines lines appended to the generated mosquitto.conf (after the defaults, so they win where
 *     mosquitto lets a later line override an earlier one); one setting per element, no line breaks
 * @param persistence whether retained messages and persistent sessions are saved to disk on stop (default true)
 */
public record MosquittoOptions(List<String> extraConfigLines, boolean persistence) {

  /** Default: no extra lines, persistence on. */
  public static final MosquittoOptions DEFAULTS = new MosquittoOptions(List.of(), true);

  public MosquittoOptions {
    extraConfigLines = extraConfigLines == null ? List.of() : List.copyOf(extraConfigLines);
    for (String line : extraConfigLines) {
      if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
        throw new IllegalArgumentException(
            "extraConfigLines: one mosquitto.conf line per element, but got a line break in '" + line + "'");
      }
    }
  }

  /** The defaults: no extra lines, persistence on. */
  public static MosquittoOptions defaults() {
    return DEFAULTS;
  }

  /** A copy with {@code lines} appended to the extra config lines. */
  public MosquittoOptions withExtraConfig(String... lines) {
    List<String> all = new ArrayList<>(extraConfigLines);
    all.addAll(Arrays.asList(lines));
    return new MosquittoOptions(all, persistence);
  }

  /** A copy with persistence switched on or off. */
  public MosquittoOptions withPersistence(boolean enabled) {
    return new MosquittoOptions(extraConfigLines, enabled);
  }
}
