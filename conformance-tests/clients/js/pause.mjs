// Consumer pause and resume through nats.js (@nats-io/jetstream 3.4.0), which sends them to any server: run by
// ConsumerPauseNatsJsIT against JetKV. Prints one "<step>: <outcome>" line per step.
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";

const nc = await connect({ servers: process.argv[2] });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: "PJS", subjects: ["pjs.>"] });
await jsm.consumers.add("PJS", { durable_name: "c", ack_policy: AckPolicy.Explicit });

const until = new Date(Date.now() + 3600_000);
const paused = await jsm.consumers.pause("PJS", "c", until);
console.log(`pause: paused=${paused.paused} until=${Date.parse(paused.pause_until) === until.getTime()}`);
let ci = await jsm.consumers.info("PJS", "c");
console.log(`info: paused=${ci.paused === true} remaining=${ci.pause_remaining > 0}`);

// nats.js resumes by pausing until the epoch: kept as the pause time, not paused
const resumed = await jsm.consumers.resume("PJS", "c");
console.log(`resume: paused=${resumed.paused} until=${resumed.pause_until}`);
ci = await jsm.consumers.info("PJS", "c");
console.log(`info: paused=${ci.paused === true} config.pause_until=${ci.config.pause_until}`);

// created paused
const created = await jsm.consumers.add("PJS", { durable_name: "d", ack_policy: AckPolicy.Explicit,
  pause_until: until.toISOString() });
console.log(`create paused: paused=${created.paused === true}`);
await nc.close();
