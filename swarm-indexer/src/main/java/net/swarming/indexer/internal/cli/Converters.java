package net.swarming.indexer.internal.cli;

import java.net.URI;
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

    /** A byte size: {@code 1048576}, {@code 512k}, {@code 100m}, {@code 2g} (powers of 1024). */
    public static final class ByteSize implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parseBytes(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Parses {@code 123}, {@code 64k}, {@code 100m}, {@code 2g}, {@code 1t} (case-insensitive, powers of 1024). */
    public static long parseBytes(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = 1;
        if (v.endsWith("b")) {
            v = v.substring(0, v.length() - 1);
        }
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> unit = 1;
            }
            if (unit > 1) {
                v = v.substring(0, v.length() - 1);
            }
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0 || n > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
            return n * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not a size; use bytes or a number with k, m, g or "
                    + "t, e.g. 512m or 2g");
        }
    }
}
