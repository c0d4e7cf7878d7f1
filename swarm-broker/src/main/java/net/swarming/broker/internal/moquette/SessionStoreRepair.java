package net.swarming.broker.internal.moquette;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.swarming.common.cli.StartupException;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.StringDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works around Moquette 0.17 defect (1): a restart fails with "Can't track for expiration a session without expiry
 * instant" when its store holds a session record without an expiry instant for a client id that also has a persisted
 * queue.
 *
 * <p>Moquette writes a session record when a client connects and never rewrites it with an expiry on disconnect; only a
 * graceful stop fills in the expiry, and only for sessions whose last connection asked for a persistent session. So a
 * client id that once connected with clean session false (its queue stays on disk) and later with clean session true
 * breaks every later start (reproduced: {@code mosquitto_sub -c -i dev1 -E}, then {@code mosquitto_sub -i dev1 -E}, a
 * graceful close and a start), and a {@code kill -9} leaves the same record for every persistent session (observed:
 * {@code mosquitto_sub -c -i p1 -E}, {@code kill -9}, start). Moquette also never deletes the records of clean
 * sessions, so its store gains one per {@code mosquitto_pub} until this repair drops them at the next start.
 *
 * <p>Before Moquette opens its store, this rewrites such records the way Moquette's own graceful stop would:
 * <ul>
 *   <li>a clean-session record (expiry interval 0) carries no state and is deleted;</li>
 *   <li>a persistent-session record gets its expiry instant, now plus its expiry interval.</li>
 * </ul>
 * The record layout mirrors Moquette 0.17's private {@code H2SessionsRepository.SessionDataValueType} (version 1).
 * A store that is locked (another broker uses the directory) or unreadable becomes a {@link StartupException}.
 */
public final class SessionStoreRepair {

    /** The message of Moquette's exception for defect (1). */
    public static final String MOQUETTE_EXPIRY_DEFECT = "Can't track for expiration a session without expiry instant";

    /** Moquette 0.17's store file in its {@code data_path}. */
    public static final String STORE_FILE = "moquette_store.h2";
    static final String SESSIONS_MAP = "sessions_store";

    private static final Logger LOG = LoggerFactory.getLogger(SessionStoreRepair.class);
    private static final byte SERDES_V1 = 1;
    private static final long UNDEFINED_INSTANT = -1;

    private SessionStoreRepair() {}

    /**
     * Repairs the session records in {@code dataDir}'s store, if there is a store.
     *
     * @return the client ids whose records were rewritten or deleted
     * @throws StartupException when the store is locked by another process or cannot be read
     */
    public static List<String> repair(Path dataDir) {
        return repair(dataDir, Clock.systemUTC());
    }

    /**
     * The same, and then shortens every persistent session's expiry to at most {@code maxExpiry} from now (interval and
     * instant), so that lowering {@code session-expiry} applies to the sessions already stored: Moquette 0.17 keeps the
     * interval a session was created with. {@link Duration#ZERO} leaves the expiries as they are.
     *
     * @return the client ids whose records were rewritten or deleted
     */
    public static List<String> repair(Path dataDir, Duration maxExpiry) {
        return repair(dataDir, Clock.systemUTC(), maxExpiry);
    }

    static List<String> repair(Path dataDir, Clock clock) {
        return repair(dataDir, clock, Duration.ZERO);
    }

    static List<String> repair(Path dataDir, Clock clock, Duration maxExpiry) {
        Path file = dataDir.resolve(STORE_FILE);
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        MVStore store;
        try {
            store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
        } catch (MVStoreException e) {
            throw storeFailure(dataDir, file, e);
        }
        try {
            List<String> repaired = new ArrayList<>(repairSessions(store, clock.millis()));
            if (!maxExpiry.isZero()) {
                repaired.addAll(capExpiries(store, clock.millis(), maxExpiry));
            }
            store.commit();
            return repaired;
        } catch (MVStoreException | IllegalArgumentException e) {
            throw storeFailure(dataDir, file, e);
        } finally {
            store.close();
        }
    }

    private static List<String> repairSessions(MVStore store, long nowMillis) {
        if (!store.hasMap(SESSIONS_MAP)) {
            return List.of();
        }
        MVMap<String, StoredSession> sessions =
                store.openMap(SESSIONS_MAP, new MVMap.Builder<String, StoredSession>().valueType(new Codec()));
        List<String> dropped = new ArrayList<>();
        List<String> expiring = new ArrayList<>();
        for (Map.Entry<String, StoredSession> e : List.copyOf(sessions.entrySet())) {
            StoredSession s = e.getValue();
            if (s.expiresAtMillis() != UNDEFINED_INSTANT) {
                continue;
            }
            if (s.expiryIntervalSeconds() == 0) {
                sessions.remove(e.getKey());
                dropped.add(s.clientId());
            } else {
                sessions.put(e.getKey(), s.expiringAt(saturatedAdd(nowMillis, s.expiryIntervalSeconds() * 1000L)));
                expiring.add(s.clientId());
            }
        }
        if (!dropped.isEmpty()) {
            // Routine: Moquette keeps a record of every clean-session connection (each mosquitto_pub) until here.
            LOG.info("dropped {} stale clean-session record(s) from the broker store", dropped.size());
        }
        if (!expiring.isEmpty()) {
            // Left by a crash or kill -9: Moquette fills the expiry in only on a graceful stop.
            LOG.warn("gave an expiry to {} persistent session(s) the broker store held without one (not stopped "
                    + "cleanly?): {}", expiring.size(), abbreviate(expiring));
        }
        List<String> repaired = new ArrayList<>(dropped);
        repaired.addAll(expiring);
        return repaired;
    }

    private static List<String> capExpiries(MVStore store, long nowMillis, Duration maxExpiry) {
        if (!store.hasMap(SESSIONS_MAP)) {
            return List.of();
        }
        MVMap<String, StoredSession> sessions =
                store.openMap(SESSIONS_MAP, new MVMap.Builder<String, StoredSession>().valueType(new Codec()));
        int maxSeconds = (int) Math.min(Integer.MAX_VALUE, maxExpiry.toSeconds());
        long latest = saturatedAdd(nowMillis, maxSeconds * 1000L);
        List<String> capped = new ArrayList<>();
        for (Map.Entry<String, StoredSession> e : List.copyOf(sessions.entrySet())) {
            StoredSession s = e.getValue();
            if (s.expiryIntervalSeconds() > maxSeconds || s.expiresAtMillis() > latest) {
                sessions.put(e.getKey(), new StoredSession(s.clientId(), Math.min(s.expiresAtMillis(), latest),
                        s.protocolLevel(), Math.min(s.expiryIntervalSeconds(), maxSeconds)));
                capped.add(s.clientId());
            }
        }
        if (!capped.isEmpty()) {
            LOG.info("shortened the expiry of {} stored persistent session(s) to the configured session expiry of "
                    + "{} s: {}", capped.size(), maxSeconds, abbreviate(capped));
        }
        return capped;
    }

    private static String abbreviate(List<String> ids) {
        int shown = 20;
        return ids.size() <= shown ? ids.toString()
                : ids.subList(0, shown) + " and " + (ids.size() - shown) + " more";
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    private static StartupException storeFailure(Path dataDir, Path file, RuntimeException e) {
        if (e instanceof MVStoreException mv && mv.getErrorCode() == DataUtils.ERROR_FILE_LOCKED) {
            return new StartupException("data directory " + dataDir + " is in use: " + file
                    + " is locked by another broker", e);
        }
        return new StartupException("cannot read the broker store " + file + ": " + e.getMessage()
                + " (move " + dataDir + " aside to start with an empty store)", e);
    }

    /** One record of Moquette's {@code sessions_store} map. */
    record StoredSession(String clientId, long expiresAtMillis, byte protocolLevel, int expiryIntervalSeconds) {
        StoredSession expiringAt(long millis) {
            return new StoredSession(clientId, millis, protocolLevel, expiryIntervalSeconds);
        }
    }

    /** Byte layout of Moquette 0.17's {@code SessionDataValueType}: version, client id, expiry, MQTT level, interval. */
    static final class Codec extends BasicDataType<StoredSession> {

        @Override
        public int getMemory(StoredSession s) {
            return StringDataType.INSTANCE.getMemory(s.clientId()) + 8 + 1 + 4;
        }

        @Override
        public void write(WriteBuffer buff, StoredSession s) {
            buff.put(SERDES_V1);
            StringDataType.INSTANCE.write(buff, s.clientId());
            buff.putLong(s.expiresAtMillis());
            buff.put(s.protocolLevel());
            buff.putInt(s.expiryIntervalSeconds());
        }

        @Override
        public StoredSession read(ByteBuffer buff) {
            byte version = buff.get();
            if (version != SERDES_V1) {
                throw new IllegalArgumentException("unknown session record version " + version
                        + " (this broker reads Moquette 0.17 stores)");
            }
            String clientId = StringDataType.INSTANCE.read(buff);
            long expiresAt = buff.getLong();
            byte level = buff.get();
            int interval = buff.getInt();
            return new StoredSession(clientId, expiresAt, level, interval);
        }

        @Override
        public StoredSession[] createStorage(int size) {
            return new StoredSession[size];
        }
    }
}
