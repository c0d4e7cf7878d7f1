package net.swarming.broker.internal.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.subscriptions.Topic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AclFileTest {

    @TempDir
    Path tmp;

    private AclFile acl(String... lines) throws IOException {
        return AclFile.read(Files.write(tmp.resolve("acl"), List.of(lines)));
    }

    @Test
    void whenRuleHasWildcards_thenItCoversTopicsAndNarrowerFiltersOnly() {
        assertTrue(TopicAccess.covers("ping/#", "ping/free.fr"));
        assertTrue(TopicAccess.covers("ping/#", "ping"));
        assertTrue(TopicAccess.covers("ping/#", "ping/+"));
        assertTrue(TopicAccess.covers("ping/+", "ping/+"));
        assertTrue(TopicAccess.covers("#", "a/b/c"));
        assertFalse(TopicAccess.covers("ping/+", "ping/#"));
        assertFalse(TopicAccess.covers("ping/+", "ping/a/b"));
        assertFalse(TopicAccess.covers("ping/a", "ping/+"));
        assertFalse(TopicAccess.covers("ping/#", "#"));
        assertFalse(TopicAccess.covers("watch", "watch/x"));
        assertFalse(TopicAccess.covers("#", "$SYS/broker/uptime"));
    }

    @Test
    void whenFileHasUsersAndPatterns_thenOnlyGrantedAccessIsAllowed() throws IOException {
        AclFile acl = acl(
                "# anonymous clients",
                "topic read watch",
                "",
                "user indexer-1",
                "topic readwrite watch",
                "topic read ping/#",
                "user agent-1",
                "topic write ping/#",
                "pattern write rip/agent/%c",
                "pattern read private/%u/#");

        assertTrue(acl.canRead(new Topic("watch"), null, "anon"));
        assertFalse(acl.canWrite(new Topic("watch"), null, "anon"));
        assertTrue(acl.canWrite(new Topic("watch"), "indexer-1", "i1"));
        assertTrue(acl.canRead(new Topic("ping/+"), "indexer-1", "i1"));
        assertFalse(acl.canWrite(new Topic("ping/x"), "indexer-1", "i1"));
        assertTrue(acl.canWrite(new Topic("ping/free.fr"), "agent-1", "a1"));
        assertFalse(acl.canWrite(new Topic("watch"), "agent-1", "a1"));
        assertFalse(acl.canRead(new Topic("watch"), "agent-1", "a1"), "a user's own rules replace the anonymous ones");
        assertTrue(acl.canWrite(new Topic("rip/agent/host-7"), "agent-1", "host-7"));
        assertFalse(acl.canWrite(new Topic("rip/agent/host-8"), "agent-1", "host-7"));
        assertTrue(acl.canWrite(new Topic("rip/agent/host-7"), null, "host-7"), "patterns apply to every client");
        assertTrue(acl.canRead(new Topic("private/bob/x"), "bob", "c"));
        assertFalse(acl.canRead(new Topic("private/bob/x"), null, "c"), "%u never matches an anonymous client");
        assertFalse(acl.canRead(new Topic("private/+/x"), "+", "c"), "a wildcard user name is not substituted");
        assertFalse(acl.canRead(new Topic("anything"), "stranger", "c"));
    }

    @Test
    void whenLinesAreBad_thenEveryOneIsReportedAtOnce() throws IOException {
        Path file = Files.write(tmp.resolve("acl"), List.of(
                "user",
                "topic deny watch",
                "topic read ping/#/x",
                "topic read a b",
                "pattern",
                "include_dir /etc",
                "topic write ok/+"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AclFile.read(file));

        String m = e.getMessage();
        assertTrue(m.startsWith("acl-file " + file + ": "), m);
        assertTrue(m.contains("line 1 'user': user needs a name"), m);
        assertTrue(m.contains("line 2 'topic deny watch': 'deny' is not supported"), m);
        assertTrue(m.contains("line 3 'topic read ping/#/x': 'ping/#/x' misuses a wildcard"), m);
        assertTrue(m.contains("line 4 'topic read a b': access must be read, write or readwrite"), m);
        assertTrue(m.contains("line 5 'pattern': needs a topic"), m);
        assertTrue(m.contains("line 6 'include_dir /etc': unknown keyword 'include_dir'"), m);
        assertEquals(6, m.split("; ").length, m);
    }

    @Test
    void whenNoAclFile_thenRolesFollowTheSwarmsDefaultPolicy() {
        RolePolicy roles = new RolePolicy();

        assertTrue(roles.canWrite(new Topic("ping/free.fr"), "agent-paris", "c"));
        assertTrue(roles.canWrite(new Topic("rip/agent/paris"), "agent", "c"));
        assertTrue(roles.canRead(new Topic("watch"), "agent-paris", "c"));
        assertFalse(roles.canWrite(new Topic("watch"), "agent-paris", "c"));
        assertFalse(roles.canRead(new Topic("ping/+"), "agent-paris", "c"));

        assertTrue(roles.canRead(new Topic("ping/+"), "indexer-1", "c"));
        assertTrue(roles.canRead(new Topic("rip/#"), "indexer", "c"));
        assertTrue(roles.canWrite(new Topic("watch"), "indexer-1", "c"));
        assertFalse(roles.canWrite(new Topic("ping/x"), "indexer-1", "c"));

        assertFalse(roles.canWrite(new Topic("watch"), "operator", "c"));
        assertFalse(roles.canWrite(new Topic("watch"), null, "c"));
        assertFalse(roles.canWrite(new Topic("ping/x"), "operator", "c"));
        assertTrue(roles.canWrite(new Topic("status/x"), "operator", "c"));
        assertTrue(roles.canRead(new Topic("#"), "operator", "c"));
        assertFalse(roles.canWrite(new Topic("watch"), "agentsmith", "c"), "only agent or agent-… is an agent");
    }
}
