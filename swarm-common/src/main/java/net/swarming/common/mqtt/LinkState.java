package net.swarming.common.mqtt;

/** Where an {@link MqttLink} stands. */
public enum LinkState {
    /** A connect attempt (CONNECT sent, or subscriptions being re-established) is under way. */
    CONNECTING,
    /** Connected to one broker with every subscription acknowledged: publishes are accepted. */
    CONNECTED,
    /** Not started yet, or between attempts (waiting for the backoff delay). Publishes fail fast. */
    DISCONNECTED,
    /** Closed for good. */
    CLOSED
}
