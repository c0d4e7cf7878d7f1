package net.swarming.common.mqtt;

import net.swarming.testkit.MosquittoBroker;
import net.swarming.testkit.MosquittoExtension;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(MosquittoExtension.class)
class MosquittoLinkIT extends AbstractLinkIT {

    MosquittoLinkIT(MosquittoBroker broker) {
        super(broker);
    }

    @Override
    boolean keepsRetainFlagOnQos1() {
        return true;
    }
}
