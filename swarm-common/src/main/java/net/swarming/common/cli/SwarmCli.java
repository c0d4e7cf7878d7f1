package net.swarming.common.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * Runs a daemon's picocli command with Swarming's conventions: defaults from environment and configuration file
 * ({@link SwarmDefaults}), unknown file keys refused, and the exit codes of {@link ExitCodes}.
 */
public final class SwarmCli {

    private SwarmCli() {}

    /**
     * Parses and executes {@code command}; returns the exit code instead of exiting so tests can call it.
     *
     * @param envPrefix such as {@code SWARM_AGENT_}
     */
    public static int run(Object command, String envPrefix, Map<String, String> env, String[] args,
                          PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(command);
        cli.setOut(out);
        cli.setErr(err);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setUsageHelpAutoWidth(true);
        SwarmDefaults defaults;
        try {
            defaults = SwarmDefaults.fromArgs(envPrefix, env, args);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return ExitCodes.USAGE;
        }
        cli.setDefaultValueProvider(defaults);
        List<String> unknown = defaults.unknownKeys(cli.getCommandSpec());
        if (!unknown.isEmpty()) {
            err.println("error: unknown key(s) in configuration file: " + String.join(", ", unknown)
                    + " (keys are long option names without dashes; see --help)");
            err.flush();
            return ExitCodes.USAGE;
        }
        cli.setExecutionExceptionHandler((ex, line, parseResult) -> {
            if (ex instanceof StartupException) {
                line.getErr().println("error: " + ex.getMessage());
                line.getErr().flush();
                return ExitCodes.STARTUP;
            }
            if (ex instanceof IllegalArgumentException) {
                line.getErr().println("error: " + ex.getMessage());
                line.getErr().flush();
                return ExitCodes.USAGE;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    /** Convenience for {@code main}: the process environment and standard streams. */
    public static int run(Object command, String envPrefix, String[] args) {
        return run(command, envPrefix, System.getenv(), args,
                new PrintWriter(System.out, true), new PrintWriter(System.err, true));
    }
}
