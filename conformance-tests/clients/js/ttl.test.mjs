// Per-key TTL and limit markers with nats.js (@nats-io/kv 3.4.0) under node's test runner, against JetKV only
// (nats-server 2.9.10, the walkthrough's reference, has no TTLs): run by ../run.sh, which fails on any failure.
// nats.js checks neither the server version nor its API level for these features; the last test checks what it
// does gate on the version.
//
// Environment: NATS_URL (server).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

// Expiry runs within about a second of a deadline; the machine may be loaded.
const WAIT_MS = 30000;
const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

let nc;
let kvm;

before(async () => {
  nc = await connect({ servers: url, timeout: 10000 });
  kvm = new Kvm(jetstream(nc, { timeout: 10000 }));
});

after(async () => {
  await nc?.close();
});

/** Polls cond() until it is true, failing after WAIT_MS. */
async function until(what, cond) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function all(iter) {
  const out = [];
  for await (const v of iter) {
    out.push(v);
  }
  return out;
}

test("a key created with a TTL expires and a watcher sees a PURGE", async () => {
  const kv = await kvm.create("ttl", { markerTTL: 1000 });
  assert.equal((await kv.status()).markerTTL, 1000);
  const ops = [];
  const watch = await kv.watch({ key: "k" });
  const done = (async () => {
    for await (const e of watch) {
      ops.push(e.operation);
      if (e.operation === "PURGE") {
        break;
      }
    }
  })();
  const rev = await kv.create("k", "v", "1s");
  await kv.put("other", "stays");
  await until("the PURGE delivery", () => ops.includes("PURGE"));
  await done;
  assert.deepEqual(ops, ["PUT", "PURGE"]);
  const e = await kv.get("k");
  assert.ok(e === null || e.operation === "PURGE", `get after expiry: ${e?.operation}`);
  // the marker goes after its own TTL. Until then nats.js 3.4.0's keys() still lists the key: it reads only the
  // KV-Operation header, not the marker's Nats-Marker-Reason (the same against nats-server 2.11+)
  await until("the marker to expire", async () => (await all(await kv.history({ key: "k" }))).length === 0);
  assert.deepEqual(await all(await kv.keys()), ["other"]);
  // the key can be created again
  assert.ok((await kv.create("k", "again")) > rev);
});

test("a purge with a TTL vanishes after it", async () => {
  const kv = await kvm.create("ttlpurge", { markerTTL: 1000, history: 5 });
  await kv.put("p", "1");
  await kv.put("p", "2");
  await kv.purge("p", { ttl: "1s" });
  const h = await all(await kv.history({ key: "p" }));
  // the purge rolled up the older revisions (and may have expired already on a slow machine)
  assert.ok(h.length <= 1 && h.every((e) => e.operation === "PURGE"), JSON.stringify(h.map((e) => e.operation)));
  const jsm = await jetstreamManager(nc);
  await until("the purge tombstone to expire", async () => (await jsm.streams.info("KV_ttlpurge")).state.messages === 0);
});

test("a TTL on a bucket without TTLs is refused with 10166", async () => {
  const kv = await kvm.create("plain");
  await assert.rejects(kv.create("k", "v", "5s"), (err) => err.code === 10166 || /10166|TTL is disabled/.test(String(err)));
});

// JetKV advertises nats-server 2.14.5 and API level 4 together: nats.js switches 2.11 features on by the version
// (batch direct get needs >= 2.11.0), nats.go by the level (LimitMarkerTTL needs api.level >= 1).
test("the server advertises 2.14.5 and level 4, and nats.js uses its 2.11 batch direct get", async () => {
  assert.equal(nc.info.version, "2.14.5");
  const jsm = await jetstreamManager(nc, { timeout: 10000 });
  const ai = await jsm.getAccountInfo();
  assert.equal(ai.api.level, 4);
  const si = await jsm.streams.add({
    name: "LVL",
    subjects: ["lvl.>"],
    allow_direct: true,
    allow_msg_ttl: true,
  });
  assert.equal(si.config.metadata["_nats.req.level"], "1");
  assert.equal(si.config.metadata["_nats.level"], "4");
  assert.equal(si.config.metadata["_nats.ver"], nc.info.version);
  const js = jetstream(nc, { timeout: 10000 });
  for (let i = 1; i <= 5; i++) {
    await js.publish(`lvl.${i}`, `v${i}`);
  }
  const got = await all(await jsm.direct.getBatch("LVL", { seq: 2, batch: 3 }));
  assert.deepEqual(got.map((m) => m.subject), ["lvl.2", "lvl.3", "lvl.4"]);
  await jsm.streams.delete("LVL");
});
