/** Implementation of the MQTT link: backoff policy, publish window, topic rules, thread naming. Not an API. */
package net.swarming.common.mqtt.internal;
