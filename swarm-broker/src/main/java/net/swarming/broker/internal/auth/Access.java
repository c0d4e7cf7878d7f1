package net.swarming.broker.internal.auth;

import java.util.Locale;

/** What a rule grants: mosquitto's {@code read}, {@code write} or {@code readwrite}. */
enum Access {
    READ(true, false), WRITE(false, true), READWRITE(true, true);

    final boolean read;
    final boolean write;

    Access(boolean read, boolean write) {
        this.read = read;
        this.write = write;
    }

    static Access parse(String word) {
        return valueOf(word.toUpperCase(Locale.ROOT));
    }
}
