package net.swarming.common.mqtt.internal;

import java.nio.charset.StandardCharsets;

/** MQTT 3.1.1 topic name and topic filter rules (section 4.7), as problem descriptions rather than exceptions. */
public final class Topics {

    /** MQTT strings are length-prefixed with two bytes. */
    public static final int MAX_UTF8_LENGTH = 65_535;

    private Topics() {
    }

    /**
     * @return null when {@code topic} may be published to, else what is wrong with it
     */
    public static String publishTopicProblem(String topic) {
        String common = commonProblem(topic);
        if (common != null) {
            return common;
        }
        if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
            return "must not contain the wildcards '+' or '#' (a topic name, not a filter)";
        }
        return null;
    }

    /**
     * @return null when {@code filter} is a valid subscription filter, else what is wrong with it
     */
    public static String filterProblem(String filter) {
        String common = commonProblem(filter);
        if (common != null) {
            return common;
        }
        String[] levels = filter.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String level = levels[i];
            if (level.indexOf('#') >= 0 && (!level.equals("#") || i != levels.length - 1)) {
                return "'#' must be a whole level and the last one (e.g. \"rip/#\")";
            }
            if (level.indexOf('+') >= 0 && !level.equals("+")) {
                return "'+' must be a whole level (e.g. \"ping/+\")";
            }
        }
        return null;
    }

    private static String commonProblem(String topic) {
        if (topic == null) {
            return "is missing";
        }
        if (topic.isEmpty()) {
            return "must not be empty";
        }
        if (topic.indexOf('\u0000') >= 0) {
            return "must not contain U+0000";
        }
        if (topic.getBytes(StandardCharsets.UTF_8).length > MAX_UTF8_LENGTH) {
            return "is longer than " + MAX_UTF8_LENGTH + " bytes in UTF-8";
        }
        return null;
    }
}
