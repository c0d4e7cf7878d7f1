package net.swarming.common.wire.internal;

/** Renders untrusted values for error messages and logs: short, one line, no control characters. */
public final class Texts {

    /** How many characters of an offending value an error message shows. */
    public static final int MAX_SHOWN = 100;

    private Texts() {
    }

    /**
     * Quotes a value for a message: at most {@link #MAX_SHOWN} characters, control characters replaced, so a hostile
     * payload cannot forge log lines or flood them.
     */
    public static String quote(String value) {
        if (value == null) {
            return "null";
        }
        int shown = Math.min(value.length(), MAX_SHOWN);
        StringBuilder sb = new StringBuilder(shown + 8).append('\'');
        for (int i = 0; i < shown; i++) {
            char c = value.charAt(i);
            sb.append(Character.isISOControl(c) ? '\uFFFD' : c);
        }
        if (shown < value.length()) {
            sb.append("…(").append(value.length()).append(" chars)");
        }
        return sb.append('\'').toString();
    }
}
