package net.swarming.broker;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads one series from a real scrape of a broker's {@code /metrics}, as an operator's Prometheus would. */
final class MetricsScrape {

    private MetricsScrape() {}

    /** The value of the unlabelled series {@code name}; fails naming the swarm series the scrape had. */
    static double value(SwarmBroker broker, String name) throws IOException, InterruptedException {
        HttpRequest scrape = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + broker.metricsPort() + "/metrics")).build();
        String body = HttpClient.newHttpClient().send(scrape, HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(body);
        if (!m.find()) {
            throw new AssertionError(name + " not in the scrape: "
                    + Arrays.toString(body.lines().filter(l -> l.startsWith("swarm_")).toArray()));
        }
        return Double.parseDouble(m.group(1));
    }
}
