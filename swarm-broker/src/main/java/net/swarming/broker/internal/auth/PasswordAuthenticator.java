package net.swarming.broker.internal.auth;

import io.moquette.broker.security.IAuthenticator;
import java.util.Objects;

/**
 * Moquette's authenticator over a {@link PasswordFile}. Moquette calls it only for clients that send a user name;
 * clients without one are admitted or refused by its {@code allow_anonymous} setting.
 */
public final class PasswordAuthenticator implements IAuthenticator {

    /** Told about every refused login; must be cheap and must not block (it runs on a Netty I/O thread). */
    public interface FailureListener {
        void refused(String clientId, String user);
    }

    private final PasswordFile passwords;
    private final FailureListener listener;

    public PasswordAuthenticator(PasswordFile passwords, FailureListener listener) {
        this.passwords = Objects.requireNonNull(passwords, "passwords");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    @Override
    public boolean checkValid(String clientId, String username, byte[] password) {
        boolean ok = passwords.check(username, password);
        if (!ok) {
            listener.refused(clientId, username);
        }
        return ok;
    }
}
