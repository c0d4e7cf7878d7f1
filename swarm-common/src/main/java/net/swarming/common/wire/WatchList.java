package net.swarming.common.wire;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A complete target list, as carried by one {@code watch} message: it replaces the previous list entirely.
 * Empty means "probe nothing".
 *
 * @param targets the entries in message order; an immutable copy in which a target named again is dropped (the
 *     first entry wins, compared by exact string because the string is the result topic)
 * @param format the form the list arrived in
 */
public record WatchList(List<WatchTarget> targets, Format format) {

    /** The two forms of a {@code watch} payload. */
    public enum Format {
        /** Whitespace-separated names, as published by the original operators' {@code mosquitto_pub}. */
        TEXT,
        /** The versioned JSON document, which can carry per-target options. */
        JSON
    }

    private static final WatchList EMPTY = new WatchList(List.of(), Format.TEXT);

    public WatchList {
        Objects.requireNonNull(targets, "targets");
        Objects.requireNonNull(format, "format");
        Set<String> seen = new HashSet<>(Math.max(16, targets.size() * 2));
        List<WatchTarget> unique = new ArrayList<>(targets.size());
        for (WatchTarget target : targets) {
            Objects.requireNonNull(target, "a target of the list is null");
            if (seen.add(target.target())) {
                unique.add(target);
            }
        }
        targets = List.copyOf(unique);
    }

    /** The list that means "no targets". */
    public static WatchList empty() {
        return EMPTY;
    }

    public boolean isEmpty() {
        return targets.isEmpty();
    }

    /** The target names, in order. */
    public List<String> names() {
        return targets.stream().map(WatchTarget::target).toList();
    }
}
