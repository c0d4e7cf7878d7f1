/**
 * The MQTT link shared by agent and indexer: {@link net.swarming.common.mqtt.MqttLink} keeps one connection to one
 * broker of a list, fails over round-robin with backoff, re-subscribes on every connect, and hands every Paho callback
 * over to its own named threads.
 *
 * <p>Public: the link, its configuration records ({@link net.swarming.common.mqtt.MqttLinkConfig},
 * {@link net.swarming.common.mqtt.BrokerAddress}, {@link net.swarming.common.mqtt.Will},
 * {@link net.swarming.common.mqtt.Subscription}), what it delivers ({@link net.swarming.common.mqtt.InboundMessage},
 * {@link net.swarming.common.mqtt.LinkState}) and how publishes fail ({@link net.swarming.common.mqtt.MqttLinkException},
 * {@link net.swarming.common.mqtt.NotConnectedException}). Everything in {@code internal} may change without notice.
 */
package net.swarming.common.mqtt;
