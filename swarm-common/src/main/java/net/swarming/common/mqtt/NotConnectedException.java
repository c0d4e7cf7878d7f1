package net.swarming.common.mqtt;

/**
 * A publish failed because the link was not connected, or lost its connection (or was closed) before the broker
 * acknowledged it. The caller decides whether to keep the message (the agent's spool does).
 */
public class NotConnectedException extends MqttLinkException {

    private static final long serialVersionUID = 1L;

    private final boolean possiblyDelivered;

    public NotConnectedException(String message) {
        this(message, false, null);
    }

    public NotConnectedException(String message, boolean possiblyDelivered, Throwable cause) {
        super(message, cause);
        this.possiblyDelivered = possiblyDelivered;
    }

    /**
     * @return true when the message had been written to the broker before the connection was lost, so the broker may
     *     have received it and a retry may produce a duplicate; false when it never left this process
     */
    public boolean possiblyDelivered() {
        return possiblyDelivered;
    }
}
