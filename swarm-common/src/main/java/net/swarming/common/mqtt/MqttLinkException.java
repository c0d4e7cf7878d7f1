package net.swarming.common.mqtt;

/** A publish (or another link operation) failed. Unchecked because it mostly travels inside a CompletableFuture. */
public class MqttLinkException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public MqttLinkException(String message) {
        super(message);
    }

    public MqttLinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
