package net.swarming.testkit.netns;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An nftables rule inside a {@link NetnsTestbed} that drops echo replies at random
 * ({@code numgen random mod 1000 < permille}) and counts them: the count is the ground truth of the loss it caused.
 */
public final class RandomDrop {

  static final String TABLE = "swarmtb";
  static final String CHAIN = "input";

  private final NetnsTestbed testbed;
  private final Path nft;
  private final String comment;
  private final int permille;

  RandomDrop(NetnsTestbed testbed, Path nft, String comment, int permille) {
    this.testbed = testbed;
    this.nft = nft;
    this.comment = comment;
    this.permille = permille;
  }

  /** The configured drop probability in permille. */
  public int permille() {
    return permille;
  }

  /** Replies this rule dropped so far (its nftables counter). */
  public long droppedPackets() {
    String listing = testbed.nft(nft, "list", "chain", "inet", TABLE, CHAIN).stdout();
    Pattern rule = Pattern.compile("counter packets (\\d+) bytes \\d+ drop comment \"" + Pattern.quote(comment) + "\"");
    Matcher m = rule.matcher(listing);
    if (!m.find()) {
      throw new IllegalStateException("nftables rule '" + comment + "' not found in:\n" + listing);
    }
    return Long.parseLong(m.group(1));
  }
}
