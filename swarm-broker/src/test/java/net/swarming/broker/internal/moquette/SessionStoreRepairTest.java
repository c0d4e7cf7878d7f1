package net.swarming.broker.internal.moquette;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.swarming.broker.internal.moquette.SessionStoreRepair.Codec;
import net.swarming.broker.internal.moquette.SessionStoreRepair.StoredSession;
import net.swarming.common.cli.StartupException;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionStoreRepairTest {

    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final byte MQTT_3_1_1 = 4;

    @TempDir
    Path dir;

    private MVStore open() {
        return new MVStore.Builder().fileName(dir.resolve(SessionStoreRepair.STORE_FILE).toString())
                .autoCommitDisabled().open();
    }

    private static MVMap<String, StoredSession> sessions(MVStore store) {
        return store.openMap(SessionStoreRepair.SESSIONS_MAP,
                new MVMap.Builder<String, StoredSession>().valueType(new Codec()));
    }

    private void write(StoredSession... records) {
        MVStore store = open();
        try {
            MVMap<String, StoredSession> map = sessions(store);
            for (StoredSession s : records) {
                map.put(s.clientId(), s);
            }
            store.commit();
        } finally {
            store.close();
        }
    }

    private Map<String, StoredSession> read() {
        MVStore store = open();
        try {
            return new TreeMap<>(sessions(store));
        } finally {
            store.close();
        }
    }

    @Test
    void whenNoStoreExists_thenNothingIsRepairedAndNoStoreIsCreated() {
        assertEquals(List.of(), SessionStoreRepair.repair(dir, CLOCK));
        assertFalse(Files.exists(dir.resolve(SessionStoreRepair.STORE_FILE)));
    }

    @Test
    void whenRecordsLackExpiry_thenCleanOnesAreDroppedAndPersistentOnesGetTheirExpiry() {
        long later = NOW.plusSeconds(3600).toEpochMilli();
        write(new StoredSession("clean", -1, MQTT_3_1_1, 0),
                new StoredSession("persistent", -1, MQTT_3_1_1, Integer.MAX_VALUE),
                new StoredSession("hour", -1, MQTT_3_1_1, 3600),
                new StoredSession("fine", later, MQTT_3_1_1, 3600));

        List<String> repaired = SessionStoreRepair.repair(dir, CLOCK);

        assertEquals(List.of("clean", "hour", "persistent"), repaired.stream().sorted().toList());
        Map<String, StoredSession> after = read();
        assertEquals(List.of("fine", "hour", "persistent"), List.copyOf(after.keySet()));
        assertEquals(later, after.get("fine").expiresAtMillis());
        assertEquals(later, after.get("hour").expiresAtMillis());
        assertEquals(NOW.toEpochMilli() + Integer.MAX_VALUE * 1000L, after.get("persistent").expiresAtMillis());
        assertEquals(MQTT_3_1_1, after.get("persistent").protocolLevel());
        assertEquals(Integer.MAX_VALUE, after.get("persistent").expiryIntervalSeconds());
    }

    @Test
    void whenRepairedOnce_thenASecondRunChangesNothing() {
        write(new StoredSession("persistent", -1, MQTT_3_1_1, Integer.MAX_VALUE));
        SessionStoreRepair.repair(dir, CLOCK);

        assertEquals(List.of(), SessionStoreRepair.repair(dir, CLOCK));
    }

    @Test
    void whenSessionExpiryIsLowerThanStored_thenIntervalsAndInstantsAreShortenedAndShorterOnesKept() {
        long inTenSeconds = NOW.plusSeconds(10).toEpochMilli();
        write(new StoredSession("forever", NOW.plusSeconds(Integer.MAX_VALUE).toEpochMilli(), MQTT_3_1_1,
                        Integer.MAX_VALUE),
                new StoredSession("crashed", -1, MQTT_3_1_1, Integer.MAX_VALUE),
                new StoredSession("soon", inTenSeconds, MQTT_3_1_1, 30));

        List<String> repaired = SessionStoreRepair.repair(dir, CLOCK, Duration.ofMinutes(1));

        assertTrue(repaired.containsAll(List.of("forever", "crashed")) && !repaired.contains("soon"),
                repaired.toString());
        Map<String, StoredSession> after = read();
        long inOneMinute = NOW.plusSeconds(60).toEpochMilli();
        assertEquals(new StoredSession("forever", inOneMinute, MQTT_3_1_1, 60), after.get("forever"));
        assertEquals(new StoredSession("crashed", inOneMinute, MQTT_3_1_1, 60), after.get("crashed"));
        assertEquals(new StoredSession("soon", inTenSeconds, MQTT_3_1_1, 30), after.get("soon"));
        assertEquals(List.of(), SessionStoreRepair.repair(dir, CLOCK, Duration.ofMinutes(1)));
    }

    @Test
    void whenStoreIsOpenElsewhere_thenStartupExceptionSaysTheDirectoryIsInUse() {
        write(new StoredSession("x", -1, MQTT_3_1_1, 0));
        MVStore holder = open();
        try {
            StartupException e = assertThrows(StartupException.class, () -> SessionStoreRepair.repair(dir, CLOCK));
            assertTrue(e.getMessage().startsWith("data directory " + dir + " is in use"), e.getMessage());
        } finally {
            holder.close();
        }
    }

    @Test
    void whenStoreIsGarbage_thenStartupExceptionNamesTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve(SessionStoreRepair.STORE_FILE), "garbage ".repeat(1000));

        StartupException e = assertThrows(StartupException.class, () -> SessionStoreRepair.repair(dir, CLOCK));

        assertTrue(e.getMessage().startsWith("cannot read the broker store " + file), e.getMessage());
    }
}
