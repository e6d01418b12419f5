package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	nc, err := nats.Connect(os.Args[1])
	if err != nil {
		panic(err)
	}
	js, _ := nc.JetStream()
	js.AddStream(&nats.StreamConfig{Name: "REF", Subjects: []string{"ref.>"}})
	for i := 1; i <= 40; i++ {
		m := nats.NewMsg(fmt.Sprintf("ref.%d", i%3))
		if i%4 == 0 {
			m.Header.Set("X-N", fmt.Sprint(i))
		}
		m.Data = []byte(fmt.Sprintf("payload %d %s", i, "abcdefabcdefabcdefabcdef"))
		if _, err := js.PublishMsg(m); err != nil {
			panic(err)
		}
	}
	js.DeleteMsg("REF", 7)
	js.SecureDeleteMsg("REF", 8)
	js.DeleteMsg("REF", 40)
	sub, _ := js.PullSubscribe("ref.>", "C")
	msgs, _ := sub.Fetch(5)
	msgs[0].Ack()
	msgs[2].Ack()
	nc.Flush()
	inbox := nats.NewInbox()
	req, _ := json.Marshal(map[string]interface{}{"deliver_subject": inbox, "chunk_size": 4096})
	done := make(chan bool)
	f, _ := os.Create(os.Args[2])
	nc.Subscribe(inbox, func(m *nats.Msg) {
		if len(m.Data) == 0 {
			fmt.Fprintf(os.Stderr, "EOF headers=%v reply=%q\n", m.Header, m.Reply)
			close(done)
			return
		}
		f.Write(m.Data)
		fmt.Fprintf(os.Stderr, "chunk %d reply=%s\n", len(m.Data), m.Reply)
		m.Respond(nil)
	})
	r, err := nc.Request("$JS.API.STREAM.SNAPSHOT.REF", req, 5*time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(r.Data))
	<-done
	f.Close()
}
