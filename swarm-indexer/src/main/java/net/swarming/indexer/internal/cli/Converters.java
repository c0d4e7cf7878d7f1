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

}
