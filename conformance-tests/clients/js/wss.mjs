// nats.js (@nats-io/nats-core 3.4.0 wsconnect) over wss://, run by SecurityClientsIT against JetKV and
// nats-server. The test's CA comes through NODE_EXTRA_CA_CERTS: node's WebSocket (undici) has no option of its
// own for it. Prints one line per check and exits non-zero on the first failure.
//
// Environment: WSS_URL (a websocket listener with a tls block), NODE_EXTRA_CA_CERTS (its CA).
import { wsconnect } from "@nats-io/nats-core";

const timeout = 10000;
const nc = await wsconnect({ servers: process.env.WSS_URL, timeout });
const sub = nc.subscribe("sec.wss", { max: 1 });
nc.publish("sec.wss", "hello");
for await (const m of sub) {
  if (m.string() !== "hello") {
    throw new Error(`wss: got ${m.string()}`);
  }
}
console.log("wss: ok");
await nc.close();
