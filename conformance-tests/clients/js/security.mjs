// nats.js (@nats-io/transport-node 3.4.0) over TLS and with an nkey user, run by SecurityClientsIT against
// JetKV and nats-server. Prints one line per check and exits non-zero on the first failure.
//
// Environment: TLS_URL + CA_FILE (a server requiring TLS), NKEY_URL + NKEY_SEED (a server with that nkey user).
import { connect, nkeyAuthenticator } from "@nats-io/transport-node";

async function roundTrip(nc, label) {
  const sub = nc.subscribe("sec.js", { max: 1 });
  nc.publish("sec.js", "hello");
  for await (const m of sub) {
    if (m.string() !== "hello") {
      throw new Error(`${label}: got ${m.string()}`);
    }
  }
  console.log(`${label}: ok`);
}

const timeout = 10000;
const tls = await connect({ servers: process.env.TLS_URL, tls: { caFile: process.env.CA_FILE }, timeout });
await roundTrip(tls, "tls");
await tls.close();

const seed = new TextEncoder().encode(process.env.NKEY_SEED);
const nk = await connect({ servers: process.env.NKEY_URL, authenticator: nkeyAuthenticator(seed), timeout });
await roundTrip(nk, "nkey");
await nk.close();

try {
  const bad = await connect({ servers: process.env.NKEY_URL, timeout });
  await bad.close();
  throw new Error("no credentials: connected");
} catch (e) {
  if (!String(e?.message ?? e).toLowerCase().includes("authorization")) {
    throw e;
  }
  console.log("no credentials: refused");
}
