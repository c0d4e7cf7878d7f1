package net.swarming.agent.probe;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import net.swarming.agent.probe.dns.DnsProbe;
import net.swarming.agent.probe.http.HttpProbe;
import net.swarming.agent.probe.icmp.IcmpProbe;
import net.swarming.agent.probe.tcp.TcpConnectProbe;
import net.swarming.common.wire.ProbeType;

/**
 * The probes an agent can run, by type. Immutable; {@link #with} returns a copy, so the in-process ICMP engine (or a test
 * double) is one {@code with(ProbeType.ICMP, IcmpProbe::new)} away.
 */
public final class ProbeRegistry {

    /** Creates a probe for one agent. */
    @FunctionalInterface
    public interface Factory {
        Probe create(ProbeContext context);
    }

    private final Map<ProbeType, Factory> factories;

    private ProbeRegistry(Map<ProbeType, Factory> factories) {
        this.factories = Collections.unmodifiableMap(factories);
    }

    /**
     * The probes this build has: in-process ICMP echo (default {@link net.swarming.agent.probe.icmp.IcmpOptions}; when
     * the process may not open ICMP sockets, its rounds are errors naming the remedies), TCP connect, HTTP(S) with phase
     * timings and DNS resolution timing.
     */
    public static ProbeRegistry builtIn() {
        return empty().with(ProbeType.ICMP, IcmpProbe::new).with(ProbeType.TCP, TcpConnectProbe::new)
                .with(ProbeType.HTTP, HttpProbe::new).with(ProbeType.DNS, DnsProbe::new);
    }

    /** No probe at all. */
    public static ProbeRegistry empty() {
        return new ProbeRegistry(new EnumMap<>(ProbeType.class));
    }

    /** A copy that creates {@code type} probes with {@code factory} (replacing any earlier one). */
    public ProbeRegistry with(ProbeType type, Factory factory) {
        EnumMap<ProbeType, Factory> copy = new EnumMap<>(ProbeType.class);
        copy.putAll(factories);
        copy.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(factory, "factory"));
        return new ProbeRegistry(copy);
    }

    /** Whether {@code type} is available. */
    public boolean supports(ProbeType type) {
        return factories.containsKey(type);
    }

    /** The available types, in declaration order. */
    public Set<ProbeType> types() {
        return factories.keySet();
    }

    /** Creates every available probe. */
    public Map<ProbeType, Probe> createAll(ProbeContext context) {
        EnumMap<ProbeType, Probe> probes = new EnumMap<>(ProbeType.class);
        try {
            for (Map.Entry<ProbeType, Factory> e : factories.entrySet()) {
                probes.put(e.getKey(), Objects.requireNonNull(e.getValue().create(context), "probe factory result"));
            }
        } catch (RuntimeException e) {
            probes.values().forEach(Probe::close);
            throw e;
        }
        return probes;
    }
}
