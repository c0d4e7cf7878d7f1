package net.swarming.agent;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/** An {@link AgentConfig} with one or more bad values; {@link #problems()} lists them all. */
public final class AgentConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * One bad value.
     *
     * @param key the setting, spelled as its command-line option without dashes ({@code step}, {@code ping-interval});
     *     {@code brokers} for the positional broker list
     * @param message what is wrong and what would be right, including the bad value
     */
    public record Problem(String key, String message) {
        public Problem {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(message, "message");
        }

        @Override
        public String toString() {
            return key + ": " + message;
        }
    }

    private final transient List<Problem> problems;

    public AgentConfigException(List<Problem> problems) {
        super("invalid agent configuration: "
                + problems.stream().map(Problem::toString).collect(Collectors.joining("; ")));
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, in the order of the settings. */
    public List<Problem> problems() {
        return problems;
    }
}
