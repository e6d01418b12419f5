// nats.go 1.22.1's create-then-update rule (kv.go CreateKeyValue): when STREAM.CREATE fails with 10058
// and the existing stream's configuration, read back with STREAM.INFO, deep-equals the requested one
// except for discard, nats.go sends STREAM.UPDATE instead of failing. That is how buckets made before
// 2.7.2 (discard old) move to discard new, and it only works if the server echoes the configuration
// field for field. Go-only steps, printed in the base part after the walkthrough.
package main

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// legacyStreamConfig is the StreamConfig CreateKeyValue builds for KeyValueConfig{Bucket: bucket,
// History: history} (no TTL, sizes, mirror or sources) against a 2.7.2+ server, with the given discard.
func legacyStreamConfig(bucket string, history int64, discard nats.DiscardPolicy) *nats.StreamConfig {
	return &nats.StreamConfig{
		Name:              "KV_" + bucket,
		Subjects:          []string{"$KV." + bucket + ".>"},
		MaxMsgsPerSubject: history,
		MaxBytes:          -1,
		MaxAge:            0,
		MaxMsgSize:        -1,
		Storage:           nats.FileStorage,
		Replicas:          1,
		AllowRollup:       true,
		DenyDelete:        true,
		Duplicates:        2 * time.Minute,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		AllowDirect:       true,
		Discard:           discard,
	}
}

func discardName(d nats.DiscardPolicy) string {
	if d == nats.DiscardNew {
		return "new"
	}
	return "old"
}

func createThenUpdate(js nats.JetStreamContext) {
	const p = "base"

	// Same configuration but discard old: CreateKeyValue updates the stream to discard new.
	si, err := js.AddStream(legacyStreamConfig("legacy", 1, nats.DiscardOld))
	if err != nil {
		ok(p, "legacy add_stream KV_legacy discard=old", err, "")
	} else {
		ok(p, "legacy add_stream KV_legacy discard=old", nil, "discard="+discardName(si.Config.Discard))
	}
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "legacy"})
	if err != nil {
		ok(p, "legacy create_bucket legacy over it", err, "")
	} else {
		ok(p, "legacy create_bucket legacy over it", nil, "bucket="+kv.Bucket())
	}
	si, err = js.StreamInfo("KV_legacy")
	if err != nil {
		ok(p, "legacy stream_info KV_legacy", err, "")
	} else {
		ok(p, "legacy stream_info KV_legacy", nil, fmt.Sprintf("discard=%s history=%d allow_direct=%t",
			discardName(si.Config.Discard), si.Config.MaxMsgsPerSubject, si.Config.AllowDirect))
	}
	if kv != nil {
		rev, err := kv.Put("k", []byte("v1"))
		ok(p, "legacy put k=v1", err, fmt.Sprintf("rev=%d", rev))
		e, err := kv.Get("k")
		if err != nil {
			ok(p, "legacy get k", err, "")
		} else {
			ok(p, "legacy get k", nil, entry(e))
		}
	}

	// Creating it once more is idempotent: the stream now equals the request exactly.
	if _, err = js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "legacy"}); err != nil {
		ok(p, "legacy create_bucket legacy again", err, "")
	} else {
		ok(p, "legacy create_bucket legacy again", nil, "")
	}

	// Another difference besides discard (history 2 against the requested 1): no update, 10058 stays.
	if _, err = js.AddStream(legacyStreamConfig("legacy2", 2, nats.DiscardOld)); err != nil {
		ok(p, "legacy add_stream KV_legacy2 history=2 discard=old", err, "")
	} else {
		ok(p, "legacy add_stream KV_legacy2 history=2 discard=old", nil, "")
	}
	_, err = js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "legacy2"})
	refused(p, "legacy create_bucket legacy2 history=1 over it", err, kind(err), "")
	si, err = js.StreamInfo("KV_legacy2")
	if err != nil {
		ok(p, "legacy stream_info KV_legacy2", err, "")
	} else {
		ok(p, "legacy stream_info KV_legacy2", nil, fmt.Sprintf("discard=%s history=%d",
			discardName(si.Config.Discard), si.Config.MaxMsgsPerSubject))
	}
}
