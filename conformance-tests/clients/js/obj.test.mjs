// The object store with nats.js (@nats-io/obj 3.4.0) under node's test runner, against JetKV only: run by
// ../run.sh, which fails on any failure. Objects of several MB are split into 128 KiB chunks; a bucket made with
// allowBatched (which nats.js allows only when INFO api_lvl >= 4) publishes the chunks as one fast-ingest batch
// (reply subjects ending in $FI) whose last message, the object's meta with Nats-Rollup: sub, commits it.
//
// Environment: NATS_URL (server); OBJ_REPLICAS (optional): the batched bucket's replicas, e.g. 3 against a cluster
// (ObjectStoreNatsJsClusterIT), where every batch message goes through the stream's Raft group.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, createHash } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";

// The machine may be loaded: every wait polls to a generous deadline.
const WAIT_MS = 60000;
const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const CHUNK = 128 * 1024;
const REPLICAS = process.env.OBJ_REPLICAS ? Number(process.env.OBJ_REPLICAS) : undefined;

let nc;
let js;
let jsm;
let objm;

before(async () => {
  nc = await connect({ servers: url.split(","), timeout: 10000 });
  js = jetstream(nc, { timeout: 20000 });
  jsm = await jetstreamManager(nc, { timeout: 20000 });
  objm = new Objm(js);
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

const bytes = (b) => Buffer.from(b);
const sha = (b) => createHash("sha256").update(b).digest("hex");

/** A readable stream handing out data in uneven pieces, so the client's chunking is really exercised. */
function pieces(data) {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) {
        c.close();
        return;
      }
      const n = Math.min(data.length - off, 50000 + (off % 70001));
      c.enqueue(data.subarray(off, off + n));
      off += n;
    },
  });
}

/** Collects the fast-ingest reply subjects the client subscribes to and the PUBs it sends with them. */
function spyOnFastIngest() {
  const seen = { pubs: 0, ops: new Set() };
  const orig = nc.publish.bind(nc);
  nc.publish = (subject, payload, options) => {
    const reply = options?.reply ?? "";
    if (reply.endsWith(".$FI")) {
      seen.pubs++;
      seen.ops.add(reply.split(".").at(-2));
    }
    return orig(subject, payload, options);
  };
  seen.restore = () => {
    delete nc.publish;
  };
  return seen;
}

test("a bucket without replicas: multi-chunk put and get, info, list, watch, links, delete, seal", async () => {
  const os = await objm.create("plain");
  const status = await os.status();
  assert.equal(status.replicas, 1);
  assert.equal(status.sealed, false);
  assert.equal(status.backingStore, "JetStream");
  const si = await jsm.streams.info("OBJ_plain");
  assert.equal(si.config.allow_batched ?? false, false);
  assert.equal(si.config.allow_rollup_hdrs, true);
  assert.equal(si.config.discard, "new");

  // a watcher that started before the put sees it as an update
  const seen = [];
  const watch = await os.watch();
  const watching = (async () => {
    for await (const e of watch) {
      if (e === null) {
        continue;
      }
      seen.push(`${e.name}:${e.deleted ? "deleted" : "put"}`);
    }
  })();

  const data = randomBytes(5 * 1024 * 1024 + 12345);
  const info = await os.put({ name: "big.bin", description: "five MB" }, pieces(data));
  assert.equal(info.size, data.length);
  assert.equal(info.chunks, Math.ceil(data.length / CHUNK));
  assert.equal(info.description, "five MB");

  const got = await os.getBlob("big.bin");
  assert.equal(got.length, data.length);
  assert.equal(sha(got), sha(data));

  const small = new TextEncoder().encode("hello object");
  await os.putBlob({ name: "small.txt" }, small);
  assert.deepEqual(bytes(await os.getBlob("small.txt")), bytes(small));
  await os.putBlob({ name: "empty" }, new Uint8Array(0));
  assert.equal((await os.getBlob("empty")).length, 0);

  const oi = await os.info("big.bin");
  assert.equal(oi.size, data.length);
  assert.equal(oi.deleted, false);
  assert.ok(oi.digest.startsWith("SHA-256="));
  const names = (await os.list()).map((e) => e.name).sort();
  assert.deepEqual(names, ["big.bin", "empty", "small.txt"]);

  // a link to an object in the same bucket, and a link to another bucket
  const ln = await os.link("big.link", oi);
  assert.ok(ln.isLink());
  assert.equal(sha(await os.getBlob("big.link")), sha(data));
  const other = await objm.create("other");
  await other.putBlob({ name: "o" }, small);
  const bl = await os.linkStore("other.bucket", other);
  assert.ok(bl.isLink());
  await assert.rejects(os.link("link.of.link", ln), /src object is a link/);

  // delete: the meta becomes a tombstone, the chunks are purged
  const before = (await jsm.streams.info("OBJ_plain")).state.messages;
  const pr = await os.delete("big.bin");
  assert.equal(pr.success, true);
  assert.equal(pr.purged, info.chunks);
  assert.equal(await os.get("big.bin"), null);
  assert.equal((await os.info("big.bin")).deleted, true);
  // the chunks went, the meta was replaced by its rolled-up tombstone
  assert.equal((await jsm.streams.info("OBJ_plain")).state.messages, before - info.chunks);
  assert.deepEqual((await os.list()).map((e) => e.name).sort(), ["big.link", "empty", "other.bucket", "small.txt"]);

  await until("the watcher to see the puts and the delete", () => seen.includes("big.bin:deleted"));
  watch.stop();
  await watching;
  assert.deepEqual(seen.filter((s) => s.startsWith("big.bin:")), ["big.bin:put", "big.bin:deleted"]);
  assert.ok(seen.includes("small.txt:put"), seen.join(","));

  // update renames the meta
  await os.update("small.txt", { name: "renamed.txt" });
  assert.equal(await os.info("small.txt"), null);
  assert.deepEqual(bytes(await os.getBlob("renamed.txt")), bytes(small));

  // sealed: status says so and the stream refuses writes
  const sealed = await os.seal();
  assert.equal(sealed.sealed, true);
  assert.equal((await os.status()).sealed, true);
  assert.equal((await jsm.streams.info("OBJ_plain")).config.sealed, true);
  await assert.rejects(os.putBlob({ name: "late" }, small));
  assert.deepEqual(bytes(await os.getBlob("renamed.txt")), bytes(small));

  // the bucket list has both
  const buckets = [];
  for await (const s of objm.list()) {
    buckets.push(s.bucket);
  }
  assert.deepEqual(buckets.sort(), ["other", "plain"]);
  await os.destroy();
  await other.destroy();
});

test("api level 4: a batched bucket stores multi-chunk objects through one fast-ingest batch each", async () => {
  assert.ok((nc.info.api_lvl ?? 0) >= 4, `api_lvl ${nc.info.api_lvl}`);
  const os = await objm.create("fast", {
    allowBatched: true,
    compression: true,
    description: "batched",
    ...(REPLICAS ? { replicas: REPLICAS } : {}),
  });
  assert.equal((await os.status()).replicas, REPLICAS ?? 1);
  const si = await jsm.streams.info("OBJ_fast");
  assert.equal(si.config.allow_batched, true);
  assert.equal(si.config.metadata["_nats.req.level"], "4");
  assert.equal(si.config.compression, "s2");
  assert.equal((await os.status()).description, "batched");

  const spy = spyOnFastIngest();
  const data = randomBytes(6 * 1024 * 1024 + 777);
  let info;
  try {
    info = await os.put({ name: "fast.bin" }, pieces(data));
  } finally {
    spy.restore();
  }
  const chunks = Math.ceil(data.length / CHUNK);
  assert.equal(info.chunks, chunks);
  // every chunk and the meta went as a fast-ingest message: 0 start, 1 append, 2 commit (the meta)
  assert.equal(spy.pubs, chunks + 1);
  assert.deepEqual([...spy.ops].sort(), ["0", "1", "2"]);
  assert.equal(sha(await os.getBlob("fast.bin")), sha(data));
  // the revision is the meta's sequence, the batch's last
  assert.equal(info.revision, chunks + 1);
  const state = (await jsm.streams.info("OBJ_fast")).state;
  assert.equal(state.messages, chunks + 1);

  // a second put of the same name: a new batch, then the old chunks are purged
  const data2 = randomBytes(3 * 1024 * 1024 + 5);
  const info2 = await os.put({ name: "fast.bin" }, pieces(data2));
  assert.equal(sha(await os.getBlob("fast.bin")), sha(data2));
  assert.equal((await jsm.streams.info("OBJ_fast")).state.messages, info2.chunks + 1);

  // the meta that commits the batch may carry Nats-Expected-Last-Subject-Sequence: a stale revision fails the
  // whole batch (and the client purges the chunks it sent), the current one stores it
  const data3 = randomBytes(2 * 1024 * 1024);
  await assert.rejects(os.put({ name: "fast.bin" }, pieces(data3), { previousRevision: info.revision }));
  assert.equal(sha(await os.getBlob("fast.bin")), sha(data2));
  assert.equal((await jsm.streams.info("OBJ_fast")).state.messages, info2.chunks + 1);
  const info3 = await os.put({ name: "fast.bin" }, pieces(data3), { previousRevision: info2.revision });
  assert.ok(info3.revision > info2.revision);
  assert.equal(sha(await os.getBlob("fast.bin")), sha(data3));

  // a one-chunk object is a batch of a start and a commit; an empty one is a plain publish
  await os.putBlob({ name: "one" }, new Uint8Array([1, 2, 3]));
  assert.deepEqual(bytes(await os.getBlob("one")), Buffer.from([1, 2, 3]));
  await os.putBlob({ name: "none" }, new Uint8Array(0));
  assert.equal((await os.getBlob("none")).length, 0);

  // opening with allowBatched checks the stream's allow_batched
  const again = await objm.open("fast", { allowBatched: true, check: true });
  assert.equal(sha(await again.getBlob("fast.bin")), sha(data3));
  await objm.create("nobatch");
  await assert.rejects(objm.open("nobatch", { allowBatched: true, check: true }), /does not support batched/);
  await os.destroy();
  await jsm.streams.delete("OBJ_nobatch");
});
