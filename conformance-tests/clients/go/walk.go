// KV walkthrough with nats.go (Debian's 1.22.1, legacy KV API), run by ../run.sh against JetKV and
// nats-server. Prints one line per step, "<part> <step>: <outcome>", in the order of the other clients'
// walkthroughs; run.sh normalises timestamps and diffs the two servers' transcripts.
//
// Usage: walk <url> [consumer-steps 0|1]. Exit status 1 when a step had an unexpected outcome.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Bounds every server round trip and every wait on a watcher, so a missing reply fails the step
// instead of hanging the script.
const stepTimeout = 5 * time.Second

var failed bool

func line(part, step, outcome string) {
	fmt.Printf("%s %s: %s\n", part, step, outcome)
}

// ok reports a step that was meant to succeed.
func ok(part, step string, err error, detail string) {
	if err != nil {
		failed = true
		line(part, step, "FAIL "+describe(err))
		return
	}
	if detail == "" {
		line(part, step, "ok")
		return
	}
	line(part, step, "ok "+detail)
}

// refused reports a step that was meant to fail; kind names the failure the client library reports.
func refused(part, step string, err error, kind string, detail string) {
	if err == nil {
		failed = true
		line(part, step, "FAIL succeeded "+detail)
		return
	}
	line(part, step, "error "+kind+" "+describe(err))
}

// describe renders an error with its JetStream code when the library kept it.
func describe(err error) string {
	var apiErr *nats.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("err_code=%d %s", apiErr.ErrorCode, err)
	}
	return err.Error()
}

func op(o nats.KeyValueOp) string {
	switch o {
	case nats.KeyValuePut:
		return "PUT"
	case nats.KeyValueDelete:
		return "DEL"
	case nats.KeyValuePurge:
		return "PURGE"
	}
	return o.String()
}

func entry(e nats.KeyValueEntry) string {
	return fmt.Sprintf("key=%s value=%s rev=%d op=%s created=%s",
		e.Key(), e.Value(), e.Revision(), op(e.Operation()), e.Created().UTC().Format(time.RFC3339Nano))
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: walk <url> [consumer-steps 0|1]")
		os.Exit(2)
	}
	nc, err := nats.Connect(os.Args[1], nats.Timeout(stepTimeout))
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(2)
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.MaxWait(stepTimeout))
	if err != nil {
		fmt.Fprintln(os.Stderr, "jetstream:", err)
		os.Exit(2)
	}
	if kv := base(js); kv != nil && (len(os.Args) < 3 || os.Args[2] != "0") {
		consumers(kv)
	}
	createThenUpdate(js)
	if failed {
		os.Exit(1)
	}
}

// base runs the steps that need only streams, publishes and direct gets.
func base(js nats.JetStreamContext) nats.KeyValue {
	const p = "base"
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "walk", History: 5})
	if err != nil {
		ok(p, "create_bucket walk history=5", err, "")
		return nil
	}
	ok(p, "create_bucket walk history=5", nil, "bucket="+kv.Bucket())

	rev, err := kv.Put("Key1", []byte("Value1"))
	ok(p, "put Key1=Value1", err, fmt.Sprintf("rev=%d", rev))
	get(kv, "get Key1", "Key1")
	rev, err = kv.Put("Key1", []byte("Value2"))
	ok(p, "put Key1=Value2", err, fmt.Sprintf("rev=%d", rev))
	get(kv, "get Key1", "Key1")

	created, err := kv.Create("Key2", []byte("Value1"))
	ok(p, "create Key2=Value1", err, fmt.Sprintf("rev=%d", created))
	rev, err = kv.Create("Key2", []byte("Value2"))
	refused(p, "create Key2=Value2 again", err, kind(err), fmt.Sprintf("rev=%d", rev))
	rev, err = kv.Update("Key2", []byte("Value3"), created+100)
	refused(p, "update Key2=Value3 wrong revision", err, kind(err), fmt.Sprintf("rev=%d", rev))
	rev, err = kv.Update("Key2", []byte("Value3"), created)
	ok(p, "update Key2=Value3 right revision", err, fmt.Sprintf("rev=%d", rev))

	ok(p, "delete Key1", kv.Delete("Key1"), "")
	e, err := kv.Get("Key1")
	if err != nil {
		refused(p, "get Key1 after delete", err, kind(err), "")
	} else {
		refused(p, "get Key1 after delete", nil, "", entry(e))
	}
	ok(p, "purge Key2", kv.Purge("Key2"), "")

	st, err := kv.Status()
	if err != nil {
		ok(p, "status", err, "")
	} else {
		ok(p, "status", nil, fmt.Sprintf("bucket=%s history=%d values=%d", st.Bucket(), st.History(), st.Values()))
	}
	var names []string
	for n := range js.KeyValueStoreNames() {
		names = append(names, n)
	}
	ok(p, "list_buckets", nil, "["+strings.Join(names, ",")+"]")
	return kv
}

func get(kv nats.KeyValue, step, key string) {
	e, err := kv.Get(key)
	if err != nil {
		ok("base", step, err, "")
		return
	}
	ok("base", step, nil, entry(e))
}

// kind names a refusal the way the library classifies it, so that a different error with the same
// text still shows up as a divergence.
func kind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, nats.ErrKeyNotFound):
		return "key_not_found"
	case errors.Is(err, nats.ErrKeyExists):
		return "key_exists"
	}
	var apiErr *nats.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == nats.JSErrCodeStreamWrongLastSequence {
		return "wrong_last_sequence"
	}
	return "other"
}

// consumers runs the steps built on ordered push consumers: keys, history and watch.
func consumers(kv nats.KeyValue) {
	const p = "consumer"
	rev, err := kv.Put("Key3", []byte("Value3"))
	ok(p, "put Key3=Value3", err, fmt.Sprintf("rev=%d", rev))

	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	keys, err := kv.Keys(nats.Context(ctx))
	cancel()
	ok(p, "keys", err, "["+strings.Join(keys, ",")+"]")

	ctx, cancel = context.WithTimeout(context.Background(), stepTimeout)
	hist, err := kv.History("Key1", nats.Context(ctx))
	cancel()
	var hs []string
	for _, e := range hist {
		hs = append(hs, fmt.Sprintf("%d:%s:%s", e.Revision(), op(e.Operation()), e.Value()))
	}
	ok(p, "history Key1", err, "["+strings.Join(hs, " ")+"]")

	watch(kv)
}

func watch(kv nats.KeyValue) {
	const p = "consumer"
	ctx, cancel := context.WithTimeout(context.Background(), 3*stepTimeout)
	defer cancel()
	w, err := kv.WatchAll(nats.Context(ctx))
	if err != nil {
		ok(p, "watch initial", err, "")
		watchFailed(kv)
		return
	}
	defer w.Stop()
	var initial []string
	for {
		e, err := next(w)
		if err != nil {
			ok(p, "watch initial", err, "["+strings.Join(initial, " ")+"]")
			watchFailed(kv)
			return
		}
		if e == nil { // nats.go's marker: the initial values are done
			break
		}
		initial = append(initial, fmt.Sprintf("%s@%d:%s:%s", e.Key(), e.Revision(), op(e.Operation()), e.Value()))
	}
	ok(p, "watch initial", nil, "["+strings.Join(initial, " ")+"]")

	rev, err := kv.Put("Key1", []byte("Value4"))
	ok(p, "put Key1=Value4", err, fmt.Sprintf("rev=%d", rev))
	e, err := next(w)
	if err == nil && e == nil {
		err = errors.New("unexpected end-of-initial marker")
	}
	if err != nil {
		ok(p, "watch live", err, "")
		return
	}
	ok(p, "watch live", nil, fmt.Sprintf("%s@%d:%s:%s delta=%d", e.Key(), e.Revision(), op(e.Operation()), e.Value(), e.Delta()))
}

// watchFailed still runs the live put and reports the live step, so every client prints the same steps.
func watchFailed(kv nats.KeyValue) {
	rev, err := kv.Put("Key1", []byte("Value4"))
	ok("consumer", "put Key1=Value4", err, fmt.Sprintf("rev=%d", rev))
	ok("consumer", "watch live", errors.New("no watcher"), "")
}

func next(w nats.KeyWatcher) (nats.KeyValueEntry, error) {
	select {
	case e, open := <-w.Updates():
		if !open {
			return nil, errors.New("watcher closed")
		}
		return e, nil
	case <-time.After(stepTimeout):
		return nil, errors.New("timeout waiting for a watch update")
	}
}
