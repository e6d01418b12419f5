// KV walkthrough with nats.js (@nats-io/kv 3.4.0) under node's test runner, run by ../run.sh against
// JetKV and nats-server. Each step is a subtest and writes one line, "<part> <step>: <outcome>", to
// $WALK_OUT in the order of the other clients' walkthroughs; run.sh normalises timestamps and diffs
// the two servers' transcripts.
//
// Environment: NATS_URL (server; ws:// connects through the websocket listener), WALK_OUT (transcript file), CONSUMER_STEPS=0 skips the consumer part.
import { after, before, test } from "node:test";
import { appendFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { wsconnect } from "@nats-io/nats-core";
import { jetstream, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

// Bounds every wait on an iterator, so a missing delivery fails the step instead of hanging the run.
const STEP_TIMEOUT_MS = 5000;
const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const consumerSteps = process.env.CONSUMER_STEPS !== "0";

let nc;
let kvm;
let kv;

function line(part, step, outcome) {
  const text = `${part} ${step}: ${outcome}`;
  if (process.env.WALK_OUT) {
    appendFileSync(process.env.WALK_OUT, text + "\n");
  } else {
    console.log(text);
  }
}

function describe(err) {
  if (err instanceof JetStreamApiError) {
    return `err_code=${err.code} ${err.message}`;
  }
  return `${err?.name ?? "Error"}: ${err?.message ?? err}`;
}

// kind names a refusal the way the library classifies it.
function kind(err) {
  if (err instanceof JetStreamApiError && err.code === 10071) {
    return "wrong_last_sequence";
  }
  return "other";
}

/** A step meant to succeed: fn returns the detail to print. */
function ok(t, part, step, fn) {
  return t.test(step, async () => {
    let detail;
    try {
      detail = await fn();
    } catch (err) {
      line(part, step, `FAIL ${describe(err)}`);
      throw err;
    }
    line(part, step, detail ? `ok ${detail}` : "ok");
  });
}

/** A step meant to be refused by the server. */
function refused(t, part, step, fn) {
  return t.test(step, async () => {
    let result;
    try {
      result = await fn();
    } catch (err) {
      line(part, step, `error ${kind(err)} ${describe(err)}`);
      return;
    }
    line(part, step, `FAIL succeeded ${result}`);
    throw new Error(`${step} succeeded: ${result}`);
  });
}

function entry(e) {
  return `key=${e.key} value=${e.string()} rev=${e.revision} op=${e.operation} created=${e.created.toISOString()}`;
}

function short(e) {
  return `${e.key}@${e.revision}:${e.operation}:${e.string()}`;
}

/** Next value of an async iterator, or a rejection after STEP_TIMEOUT_MS. */
async function next(it) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout waiting for a delivery")), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([it.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Drains an iterator that ends by itself (keys, history), bounded by STEP_TIMEOUT_MS per item. */
async function drain(iter) {
  const it = iter[Symbol.asyncIterator]();
  const all = [];
  try {
    for (;;) {
      const r = await next(it);
      if (r.done) {
        return all;
      }
      all.push(r.value);
    }
  } finally {
    iter.stop();
  }
}

before(async () => {
  const dial = url.startsWith("ws://") || url.startsWith("wss://") ? wsconnect : connect;
  nc = await dial({ servers: url, timeout: STEP_TIMEOUT_MS });
  kvm = new Kvm(jetstream(nc, { timeout: STEP_TIMEOUT_MS }));
});

after(async () => {
  await nc?.close();
});

test("base: streams, publishes and direct gets", async (t) => {
  const p = "base";
  await ok(t, p, "create_bucket walk history=5", async () => {
    kv = await kvm.create("walk", { history: 5 });
    return `bucket=${kv.bucket}`;
  });
  if (!kv) {
    return;
  }
  await ok(t, p, "put Key1=Value1", async () => `rev=${await kv.put("Key1", "Value1")}`);
  await ok(t, p, "get Key1", async () => entry(await kv.get("Key1")));
  await ok(t, p, "put Key1=Value2", async () => `rev=${await kv.put("Key1", "Value2")}`);
  await ok(t, p, "get Key1", async () => entry(await kv.get("Key1")));

  let created = 0;
  await ok(t, p, "create Key2=Value1", async () => {
    created = await kv.create("Key2", "Value1");
    return `rev=${created}`;
  });
  await refused(t, p, "create Key2=Value2 again", async () => `rev=${await kv.create("Key2", "Value2")}`);
  await refused(t, p, "update Key2=Value3 wrong revision",
    async () => `rev=${await kv.update("Key2", "Value3", created + 100)}`);
  await ok(t, p, "update Key2=Value3 right revision",
    async () => `rev=${await kv.update("Key2", "Value3", created)}`);

  await ok(t, p, "delete Key1", async () => {
    await kv.delete("Key1");
  });
  // nats.js returns the delete marker itself and leaves "deleted" to the caller.
  await t.test("get Key1 after delete", async () => {
    const step = "get Key1 after delete";
    let e;
    try {
      e = await kv.get("Key1");
    } catch (err) {
      line(p, step, `FAIL ${describe(err)}`);
      throw err;
    }
    if (e === null || e.operation === "PUT") {
      line(p, step, `FAIL ${e === null ? "null" : entry(e)}`);
      throw new Error(`${step}: no delete marker`);
    }
    line(p, step, `error deleted ${entry(e)}`);
  });
  await ok(t, p, "purge Key2", async () => {
    await kv.purge("Key2");
  });

  await ok(t, p, "status", async () => {
    const st = await kv.status();
    return `bucket=${st.bucket} history=${st.history} values=${st.values}`;
  });
  await ok(t, p, "list_buckets", async () => {
    const names = [];
    for await (const st of kvm.list()) {
      names.push(st.bucket);
    }
    return `[${names.join(",")}]`;
  });
});

test("consumer: keys, history and watch", { skip: !consumerSteps && "CONSUMER_STEPS=0" }, async (t) => {
  const p = "consumer";
  if (!kv) {
    throw new Error("no bucket from the base part");
  }
  await ok(t, p, "put Key3=Value3", async () => `rev=${await kv.put("Key3", "Value3")}`);
  await ok(t, p, "keys", async () => `[${(await drain(await kv.keys())).join(",")}]`);
  await ok(t, p, "history Key1", async () => {
    const hs = await drain(await kv.history({ key: "Key1" }));
    return `[${hs.map((e) => `${e.revision}:${e.operation}:${e.string()}`).join(" ")}]`;
  });

  let watcher;
  let it;
  try {
    await ok(t, p, "watch initial", async () => {
      watcher = await kv.watch();
      it = watcher[Symbol.asyncIterator]();
      const initial = [];
      // nats.js marks the last of the initial values by flipping isUpdate; an empty bucket has none.
      for (;;) {
        const r = await next(it);
        if (r.done) {
          throw new Error("watcher closed");
        }
        initial.push(short(r.value));
        if (r.value.isUpdate) {
          break;
        }
      }
      return `[${initial.join(" ")}]`;
    });
    await ok(t, p, "put Key1=Value4", async () => `rev=${await kv.put("Key1", "Value4")}`);
    await ok(t, p, "watch live", async () => {
      if (!it) {
        throw new Error("no watcher");
      }
      const r = await next(it);
      if (r.done) {
        throw new Error("watcher closed");
      }
      return `${short(r.value)} delta=${r.value.delta}`;
    });
  } finally {
    watcher?.stop();
  }
});
