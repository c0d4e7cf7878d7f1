package net.swarming.common.mqtt;

import net.swarming.testkit.MoquetteBroker;
import net.swarming.testkit.MoquetteExtension;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(MoquetteExtension.class)
class MoquetteLinkIT extends AbstractLinkIT {

    MoquetteLinkIT(MoquetteBroker broker) {
        super(broker);
    }

    @Override
    boolean keepsRetainFlagOnQos1() {
        return false; // Moquette 0.17 defect: RETAIN=0 on QoS >= 1 subscriptions
    }
}
