package net.swarming.agent.probe.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import net.swarming.agent.AgentMain;
import net.swarming.common.cli.ExitCodes;
import net.swarming.common.cli.SwarmCli;
import org.junit.jupiter.api.Test;

/** The agent's ICMP options on its command line (checked before anything starts). */
class IcmpCliTest {

    private static String run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = SwarmCli.run(new AgentMain(), "SWARM_AGENT_", env, args, new PrintWriter(out), new PrintWriter(err));
        return code + "\n" + out + err;
    }

    @Test
    void whenMaxPpsIsZeroOrNotANumber_thenUsageErrorNamesTheOption() {
        String zero = run(Map.of(), "--max-pps", "0");
        assertTrue(zero.startsWith(ExitCodes.USAGE + "\n"), zero);
        assertTrue(zero.contains("error: --max-pps: must be at least 1, got 0"), zero);

        String text = run(Map.of(), "--max-pps", "lots");
        assertTrue(text.startsWith(ExitCodes.USAGE + "\n"), text);
        assertTrue(text.contains("error: --max-pps: 'lots' is not a whole number"), text);
    }

    @Test
    void whenMaxPpsComesFromTheEnvironment_thenItIsCheckedToo() {
        String env = run(Map.of("SWARM_AGENT_MAX_PPS", "-5"));
        assertTrue(env.contains("error: --max-pps: must be at least 1, got -5"), env);
    }

    @Test
    void whenHelpIsAsked_thenMaxPpsIsListed() {
        String help = run(Map.of(), "--help");
        assertEquals(ExitCodes.OK + "", help.substring(0, help.indexOf('\n')));
        assertTrue(help.contains("--max-pps=N"), help);
    }
}
