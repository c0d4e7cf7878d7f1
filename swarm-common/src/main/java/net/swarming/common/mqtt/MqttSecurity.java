package net.swarming.common.mqtt;

import java.nio.file.Path;

/**
 * How a link proves who it is to its brokers and how it checks them: a password file on the broker (mosquitto's
 * {@code password_file}, swarm-broker's {@code --password-file}) needs a user name and password; an {@code ssl://}
 * broker whose certificate is not signed by a CA the JVM trusts needs that CA's certificate.
 *
 * @param username the MQTT user name, or null to connect without one
 * @param password the password sent with {@code username}; null means none (only allowed with a user name)
 * @param caFile PEM file of the CA (one or more certificates) that signed the brokers' certificates, used instead
 *     of the JVM's trust store for {@code ssl://} brokers; null uses the JVM's trust store
 */
public record MqttSecurity(String username, String password, Path caFile) {

    /** Anonymous, the JVM's trust store. */
    public static final MqttSecurity NONE = new MqttSecurity(null, null, null);

    public MqttSecurity {
        if (username != null && username.isEmpty()) {
            throw new IllegalArgumentException("MQTT user name is empty; leave it out to connect without one");
        }
        if (password != null && username == null) {
            throw new IllegalArgumentException("an MQTT password needs a user name (MQTT 3.1.1 sends none without)");
        }
    }

    /** Never shows the password. */
    @Override
    public String toString() {
        return "MqttSecurity[username=" + username + ", password=" + (password == null ? "none" : "****")
                + ", caFile=" + caFile + "]";
    }
}
