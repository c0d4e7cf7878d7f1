package net.swarming.common.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Default values for a daemon's options, in order of precedence below the command line itself:
 * an environment variable, then a key of the configuration file, then the option's own default.
 *
 * <p>Option {@code --metrics-port} of the agent is read from {@code SWARM_AGENT_METRICS_PORT} and from the file key
 * {@code metrics-port}. A repeatable option takes a comma-separated list from either source.
 */
public final class SwarmDefaults implements CommandLine.IDefaultValueProvider {

    private final String envPrefix;
    private final Map<String, String> env;
    private final Properties file;

    /**
     * @param envPrefix such as {@code SWARM_AGENT_}
     * @param env the process environment (injected so tests need not set real variables)
     * @param file the configuration file's keys, possibly empty
     */
    public SwarmDefaults(String envPrefix, Map<String, String> env, Properties file) {
        this.envPrefix = envPrefix;
        this.env = Map.copyOf(env);
        this.file = (Properties) file.clone();
    }

    /**
     * Finds the configuration file named by {@code --config FILE} or {@code --config=FILE} among the raw arguments,
     * else by the environment variable {@code <prefix>CONFIG}, and loads it. No file named: no keys.
     *
     * @throws IllegalArgumentException naming the file when it does not exist or cannot be read
     */
    public static SwarmDefaults fromArgs(String envPrefix, Map<String, String> env, String[] args) {
        String path = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                path = args[i + 1];
            } else if (args[i].startsWith("--config=")) {
                path = args[i].substring("--config=".length());
            }
        }
        if (path == null) {
            path = env.get(envPrefix + "CONFIG");
        }
        Properties props = new Properties();
        if (path != null && !path.isBlank()) {
            Path file = Path.of(path);
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException("configuration file " + file + " does not exist or is not readable");
            }
            try (InputStream in = Files.newInputStream(file)) {
                props.load(in);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read configuration file " + file + ": " + e.getMessage(), e);
            }
        }
        return new SwarmDefaults(envPrefix, env, props);
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        if (!(argSpec instanceof OptionSpec option)) {
            return null;
        }
        String key = option.longestName().replaceFirst("^-+", "");
        if (key.equals("config") || key.equals("help") || key.equals("version")) {
            return null;
        }
        String envName = envPrefix + key.toUpperCase(Locale.ROOT).replace('-', '_');
        String fromEnv = env.get(envName);
        if (fromEnv != null) {
            return fromEnv;
        }
        return file.getProperty(key);
    }

    /** The environment variable that feeds an option, for help texts and docs. */
    public String envName(String longOption) {
        return envPrefix + longOption.replaceFirst("^-+", "").toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** Keys of the configuration file that match no option: reported so a typo is not silently ignored. */
    public List<String> unknownKeys(CommandLine.Model.CommandSpec spec) {
        List<String> unknown = new ArrayList<>();
        for (String k : file.stringPropertyNames()) {
            if (spec.findOption("--" + k) == null) {
                unknown.add(k);
            }
        }
        Collections.sort(unknown);
        return unknown;
    }
}
