package io.jetkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ServerInfoTest {
    @Test
    void apiLevelFieldFromLevelTwo() {
        // nats-server 2.11 (level 1) has no api_lvl; 2.12 adds it, omitted when 0
        assertEquals("", ServerInfo.apiLevelField(0));
        assertEquals("", ServerInfo.apiLevelField(1));
        assertEquals(",\"api_lvl\":2", ServerInfo.apiLevelField(2));
        assertEquals(",\"api_lvl\":4", ServerInfo.apiLevelField(4));
    }
}
