package net.swarming.indexer.internal.pipeline;

/** The destination could not take a request at all (refused, reset, timed out, overloaded): retry later. */
public class SinkUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public SinkUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
