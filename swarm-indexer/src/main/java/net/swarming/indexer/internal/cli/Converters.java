package net.swarming.indexer.internal.cli;

import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.swarming.common.mqtt.BrokerAddress;
import net.swarming.indexer.IndexerConfig;
import picocli.CommandLine;

/** Typed picocli converters whose messages say what was expected. */
public final class Converters {

    private Converters() {}

    /** {@code host[:port]} and the other forms of {@link BrokerAddress#parse}. */
    public static final class Broker implements CommandLine.ITypeConverter<BrokerAddress> {
        @Override
        public BrokerAddress convert(String value) {
            try {
                return BrokerAddress.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** An Elasticsearch base URL such as {@code http://localhost:9200}. */
    public static final class ElasticsearchUrl implements CommandLine.ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            try {
                return IndexerConfig.parseElasticsearchUrl(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code 500ms}, {@code 1s}, {@code 2m}, {@code 1h}, or ISO-8601 such as {@code PT1.5S}. */
    public static final class Time implements CommandLine.ITypeConverter<Duration> {
        private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");

        @Override
        public Duration convert(String value) {
            return parse(value);
        }

        /** @throws CommandLine.TypeConversionException naming the value and the accepted forms */
        public static Duration parse(String value) {
            String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
            Matcher m = SIMPLE.matcher(v);
            if (m.matches()) {
                double amount = Double.parseDouble(m.group(1));
                double millis = switch (m.group(2)) {
                    case "ms" -> amount;
                    case "s" -> amount * 1_000;
                    case "m" -> amount * 60_000;
                    default -> amount * 3_600_000;
                };
                if (millis > Long.MAX_VALUE / 2) {
                    throw new CommandLine.TypeConversionException("'" + value + "' is too long a duration");
                }
                return Duration.ofNanos(Math.round(millis * 1_000_000));
            }
            if (v.startsWith("pt") || v.startsWith("p")) {
                try {
                    return Duration.parse(v.toUpperCase(Locale.ROOT));
                } catch (DateTimeParseException e) {
                    // fall through to the message below
                }
            }
            throw new CommandLine.TypeConversionException("'" + value
                    + "' is not a duration; use e.g. 500ms, 1s, 2m, 1h or PT1S");
        }
    }
}
