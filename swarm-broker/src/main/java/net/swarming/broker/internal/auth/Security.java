package net.swarming.broker.internal.auth;

import io.moquette.broker.security.IAuthenticator;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.security.PermitAllAuthorizatorPolicy;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import net.swarming.broker.BrokerConfig;
import net.swarming.broker.TlsListener;
import net.swarming.broker.internal.tls.ServerTls;

/**
 * Everything a broker's security needs, read from the configured files before anything listens.
 *
 * @param authenticator Moquette's authenticator, or {@code null} when there is no password file (Moquette then admits
 *                      any user name)
 * @param authorization Moquette's authorization policy
 * @param tls           the TLS listener's context, or {@code null} without TLS
 */
public record Security(IAuthenticator authenticator, IAuthorizatorPolicy authorization, SslContext tls) {

    /**
     * Reads the password, ACL and TLS files of {@code config}.
     *
     * @throws IllegalArgumentException listing every problem of every file at once
     */
    public static Security load(BrokerConfig config, PasswordAuthenticator.FailureListener failures) {
        List<String> problems = new ArrayList<>();
        IAuthenticator authenticator = null;
        if (config.passwordFile() != null) {
            try {
                authenticator = new PasswordAuthenticator(PasswordFile.read(config.passwordFile()), failures);
            } catch (IOException e) {
                problems.add("password-file " + config.passwordFile() + " cannot be read: " + e);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        IAuthorizatorPolicy authorization = null;
        switch (config.authorization()) {
            case ACL_FILE:
                try {
                    authorization = AclFile.read(config.aclFile());
                } catch (IOException e) {
                    problems.add("acl-file " + config.aclFile() + " cannot be read: " + e);
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
                break;
            case ROLES:
                authorization = new RolePolicy();
                break;
            default:
                authorization = new PermitAllAuthorizatorPolicy();
        }
        SslContext tls = null;
        TlsListener listener = config.tls();
        if (listener != null) {
            try {
                tls = listener.pkcs12File() != null
                        ? ServerTls.fromPkcs12(listener.pkcs12File(), listener.pkcs12Password().toCharArray())
                        : ServerTls.fromPem(listener.certFile(), listener.keyFile());
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid broker configuration: " + String.join("; ", problems));
        }
        return new Security(authenticator, authorization, tls);
    }
}
