// nats.js (@nats-io/nats-core 3.4.0 wsconnect) against a websocket block with authorization { user, password }
// on a server whose client port is open; run by SecurityClientsIT against JetKV and nats-server. Prints one line
// per check and exits non-zero on the first failure.
//
// Environment: WS_URL (the websocket listener), WS_USER and WS_PASS (the block's user).
import { wsconnect } from "@nats-io/nats-core";

const timeout = 10000;
const servers = process.env.WS_URL;

async function refused(label, opts) {
  try {
    const nc = await wsconnect({ servers, timeout, reconnect: false, ...opts });
    await nc.close();
    throw new Error(`${label}: connected`);
  } catch (e) {
    if (!String(e?.message ?? e).toLowerCase().includes("authorization")) {
      throw e;
    }
    console.log(`${label}: refused`);
  }
}

await refused("no credentials", {});
await refused("wrong password", { user: process.env.WS_USER, pass: "wrong" });

const nc = await wsconnect({ servers, timeout, user: process.env.WS_USER, pass: process.env.WS_PASS });
const sub = nc.subscribe("sec.wsauth", { max: 1 });
nc.publish("sec.wsauth", "hello");
for await (const m of sub) {
  if (m.string() !== "hello") {
    throw new Error(`user: got ${m.string()}`);
  }
}
console.log("user: ok");
await nc.close();
