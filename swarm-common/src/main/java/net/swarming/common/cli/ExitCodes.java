package net.swarming.common.cli;

/** Exit codes shared by every Swarming executable, so that systemd units and scripts can tell failures apart. */
public final class ExitCodes {
    /** Clean run or clean shutdown. */
    public static final int OK = 0;
    /** An unexpected runtime failure. */
    public static final int FAILURE = 1;
    /** Bad command line, bad configuration file or bad environment value (picocli's own usage code). */
    public static final int USAGE = 2;
    /** The configuration was valid but the daemon could not start (port in use, data directory unusable…). */
    public static final int STARTUP = 3;

    private ExitCodes() {}
}
