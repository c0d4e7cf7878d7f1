package net.swarming.common.cli;

/** The configuration was valid but the daemon could not start; the CLI exits with {@link ExitCodes#STARTUP}. */
public class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }

    public StartupException(String message) {
        super(message);
    }
}
