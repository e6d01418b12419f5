// Message schedules (nats-server 2.12 @at, 2.14 @every/cron/time zone/cancel; ADR-51) with nats.js
// (@nats-io/jetstream 3.4.0 `schedule` and `cancelSchedule` publish options) under node's test runner, against JetKV
// only (nats-server 2.9.10 has no schedules): run by ../run.sh, which fails on any failure. nats.js checks neither
// the server version nor its API level for these options. nats.js writes `@at` from a Date with milliseconds.
//
// Environment: NATS_URL (server).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

// Schedules fire within about a second of their time; the machine may be loaded.
const WAIT_MS = 30000;
const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

let nc;
let js;
let jsm;

before(async () => {
  nc = await connect({ servers: url, timeout: 10000 });
  js = jetstream(nc, { timeout: 10000 });
  jsm = await jetstreamManager(nc, { timeout: 10000 });
  await jsm.streams.add({ name: "SCHED", subjects: ["sched.>", "orders.>"], storage: "memory",
    allow_msg_schedules: true });
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

async function last(subject) {
  try {
    return await jsm.streams.getMessage("SCHED", { last_by_subj: subject });
  } catch {
    return null;
  }
}

test("an @at schedule from a Date fires once on its target and is purged", async () => {
  const info = await jsm.streams.info("SCHED");
  assert.equal(info.config.allow_msg_schedules, true);
  await js.publish("sched.once", "delayed", {
    schedule: { specification: new Date(Date.now() + 2000), target: "orders.once" },
  });
  await until("the schedule to fire", async () => (await last("orders.once")) !== null);
  const m = await last("orders.once");
  assert.equal(m.string(), "delayed");
  assert.equal(m.header.get("Nats-Scheduler"), "sched.once");
  assert.equal(m.header.get("Nats-Schedule-Next"), "purge");
  await until("the schedule to be purged", async () => (await last("sched.once")) === null);
});

test("an @every schedule repeats until cancelled", async () => {
  await js.publish("sched.tick", "tick", { schedule: { specification: { every: "1s" }, target: "orders.tick" } });
  await until("two ticks", async () => (await jsm.streams.info("SCHED", { subjects_filter: "orders.tick" }))
    .state.subjects?.["orders.tick"] >= 2);
  const next = (await last("orders.tick")).header.get("Nats-Schedule-Next");
  assert.ok(!Number.isNaN(Date.parse(next)), `Nats-Schedule-Next is a time: ${next}`);
  await js.publish("sched.cancel", "", { cancelSchedule: { scheduleSubject: "sched.tick" } });
  assert.equal(await last("sched.tick"), null);
});

test("a cron schedule in a time zone fires, and bad ones get the reference's errors", async () => {
  await js.publish("sched.cron", "c", {
    schedule: { specification: { cron: "*/2 * * * * *" }, timezone: "Europe/Amsterdam", target: "orders.cron" },
  });
  await until("the cron schedule to fire", async () => (await last("orders.cron")) !== null);
  const next = (await last("orders.cron")).header.get("Nats-Schedule-Next");
  assert.match(next, /\+0[12]:00$/, `the next time in Amsterdam's offset: ${next}`);
  await assert.rejects(
    js.publish("sched.bad", "x", { schedule: { specification: { cron: "*/5 * * * *" }, target: "orders.bad" } }),
    (e) => e.api_error?.err_code === 10189 || /10189|pattern is invalid/.test(String(e)),
  );
  await assert.rejects(
    js.publish("sched.bad", "x", { schedule: { specification: { at: new Date() }, target: "elsewhere" } }),
    (e) => e.api_error?.err_code === 10190 || /10190|target is invalid/.test(String(e)),
  );
});
