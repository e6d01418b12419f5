// nats.js (@nats-io 3.4.0) with accounts, run by AccountsClientsIT against JetKV and nats-server with the same config:
// account A and account B each have a KV bucket "cfg" of their own; B calls A's service through its import and
// receives A's feed under the import's prefix. Prints one line per check and exits non-zero on the first failure.
//
// Environment: NATS_URL (users a/a and b/b; B imports A's "svc.>" as "a.svc.>" and "feed.>" with prefix "froma").
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

const timeout = 10000;
const url = process.env.NATS_URL;
const a = await connect({ servers: url, user: "a", pass: "a", timeout });
const b = await connect({ servers: url, user: "b", pass: "b", timeout });

function check(label, ok, detail) {
  if (!ok) {
    throw new Error(`${label}: ${detail}`);
  }
  console.log(`${label}: ok`);
}

const kvA = await new Kvm(a).create("cfg");
const kvB = await new Kvm(b).create("cfg");
await kvA.put("k", "from a");
await kvB.put("k", "from b");
check("own buckets", (await kvA.get("k")).string() === "from a" && (await kvB.get("k")).string() === "from b",
  "values crossed accounts");
const jsmA = await jetstreamManager(a);
const infoA = await jsmA.getAccountInfo();
check("account info", infoA.streams === 1, JSON.stringify(infoA));

a.subscribe("svc.>", { callback: (_err, m) => m.respond(`echo ${m.subject}`) });
await a.flush();
const reply = await b.request("a.svc.hello", "", { timeout });
check("service import", reply.string() === "echo svc.hello", reply.string());

const feed = b.subscribe("froma.>", { max: 1 });
await b.flush();
a.publish("feed.news", "n1");
for await (const m of feed) {
  check("stream import", m.subject === "froma.feed.news" && m.string() === "n1", `${m.subject} ${m.string()}`);
}

await a.close();
await b.close();
