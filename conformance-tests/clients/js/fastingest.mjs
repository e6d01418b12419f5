// Fast-ingest batch publish through nats.js (@nats-io/jetstream 3.4.0's startFastIngest, the publisher its object
// store uses): run by FastBatchNatsJsIT against JetKV. Prints one "<step>: <outcome>" line per step.
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startFastIngest } from "@nats-io/jetstream/internal";

const nc = await connect({ servers: process.argv[2] });
const jsm = await jetstreamManager(nc);
const si = await jsm.streams.add({ name: "FI", subjects: ["fi.>"], allow_batched: true });
console.log(`create: allow_batched=${si.config.allow_batched} level=${si.config.metadata["_nats.req.level"]}`);

// 100 messages paced by flow acks every 10, then a last message that commits
const fi = await startFastIngest(nc, "fi.a", "m1", { ackInterval: 10, allowGaps: false });
let progress;
for (let i = 2; i <= 100; i++) {
  progress = await fi.add("fi.a", `m${i}`);
}
console.log(`add: batchSeq=${progress.batchSeq} acked=${progress.ackSeq >= 80}`);
const ack = await fi.last("fi.z", "end");
console.log(`last: batch=${ack.batch === fi.batch} count=${ack.count} seq=${ack.seq}`);

// a ping for the latest ack, then an end-of-batch commit that stores nothing more
const fi2 = await startFastIngest(nc, "fi.b", "x", { ackInterval: 5, allowGaps: true });
await fi2.add("fi.b", "y");
const pong = await fi2.ping();
console.log(`ping: batchSeq=${pong.batchSeq} ackSeq=${pong.ackSeq}`);
const ack2 = await fi2.end();
console.log(`end: count=${ack2.count} seq=${ack2.seq}`);
const done = await fi2.done();
console.log(`done: count=${done.count}`);

const info = await jsm.streams.info("FI");
console.log(`stream: messages=${info.state.messages} last=${(await jsm.streams.getMessage("FI", { seq: 103 })).subject}`);

// a stream without allow_batched refuses the first message
await jsm.streams.add({ name: "NOFI", subjects: ["nofi"] });
try {
  await startFastIngest(nc, "nofi", "x", { ackInterval: 10, allowGaps: false });
  console.log("disabled: started");
} catch (e) {
  console.log(`disabled: ${/batch publish is disabled/.test(e.message)}`);
}
await nc.close();
