// A golang/groupcache node for burrow's interop tests: one HTTPPool on a loopback port, mounted
// on Go's DefaultServeMux as groupcache's own docs do (so its path cleaning and redirects are the
// real ones), with a getter per group that records each load.
//
// Flags: -addr 127.0.0.1:PORT, -self http://127.0.0.1:PORT, -peers URL,URL,... and -groups
// NAME,NAME,.... The getter returns "go:" + key; a key starting with "fail" fails with
// "no data for KEY"; in a group whose name starts with "bin" the value is the bytes 00 ff 80
// then the key (not UTF-8).
//
// Besides /_groupcache/, the mux serves GET /loads: every load so far, as JSON lines
// {"group": ..., "key": ...} in order. "ready" is printed on stdout once the port is bound.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/golang/groupcache"
)

type load struct {
	Group string `json:"group"`
	Key   string `json:"key"`
}

var (
	mu    sync.Mutex
	loads []load
)

func getter(group string) groupcache.GetterFunc {
	return func(_ context.Context, key string, dest groupcache.Sink) error {
		mu.Lock()
		loads = append(loads, load{Group: group, Key: key})
		mu.Unlock()
		if strings.HasPrefix(key, "fail") {
			return errors.New("no data for " + key)
		}
		if strings.HasPrefix(group, "bin") {
			return dest.SetBytes(append([]byte{0x00, 0xff, 0x80}, key...))
		}
		return dest.SetString("go:" + key)
	}
}

func serveLoads(w http.ResponseWriter, _ *http.Request) {
	mu.Lock()
	defer mu.Unlock()
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, l := range loads {
		if err := enc.Encode(l); err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "", "host:port to listen on (loopback)")
	self := flag.String("self", "", "this node's base URL, as listed in -peers")
	peers := flag.String("peers", "", "every node's base URL, comma-separated")
	groups := flag.String("groups", "test", "group names, comma-separated")
	flag.Parse()
	if *addr == "" || *self == "" || *peers == "" {
		fmt.Fprintln(os.Stderr, "usage: groupcache-node -addr HOST:PORT -self URL -peers URL,URL [-groups a,b]")
		os.Exit(2)
	}
	for _, name := range strings.Split(*groups, ",") {
		groupcache.NewGroup(name, 64<<20, getter(name))
	}
	pool := groupcache.NewHTTPPool(*self)
	pool.Set(strings.Split(*peers, ",")...)
	http.HandleFunc("/loads", serveLoads)
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	log.Fatal(http.Serve(listener, nil))
}
