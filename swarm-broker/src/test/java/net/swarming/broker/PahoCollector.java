package net.swarming.broker;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Everything a Paho client receives, whatever the filter, as the broker sent it (one entry per PUBLISH: Paho would
 * call each matching filter's own listener for one message).
 */
public final class PahoCollector {

    private PahoCollector() {
    }

    /** Sets a callback on {@code client} that collects every message; the returned list fills as they arrive. */
    public static List<MqttMessage> collect(MqttClient client) {
        List<MqttMessage> got = new CopyOnWriteArrayList<>();
        collect(client, got);
        return got;
    }

    /** Sets a callback on {@code client} that adds every message to {@code into}. */
    public static void collect(MqttClient client, List<MqttMessage> into) {
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                into.add(m);
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
    }

    /**
     * Connects a persistent session (clean session false) as {@code clientId}, collecting into {@code got}; with
     * {@code manualAcks} it never acknowledges, which keeps the broker's in-flight window full.
     */
    public static MqttClient persistent(int port, String clientId, boolean manualAcks, List<MqttMessage> got)
            throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, clientId, new MemoryPersistence());
        c.setManualAcks(manualAcks);
        collect(c, got);
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        o.setMaxInflight(1000);
        c.connect(o);
        return c;
    }
}
