// etcd-load: a closed-loop load generator for bench/kv.bench.ts.
//
// Each of --clients goroutines issues one request at a time for --duration and
// records its latency; the totals are printed as one JSON object. Two targets:
//
//   - etcd over gRPC with clientv3 (etcd's native client). The goroutines share
//     --conns clientv3.Client values (one gRPC/HTTP-2 connection each),
//     goroutine i on client i%conns, which is how etcd's own tools/benchmark
//     drives it (--clients goroutines over --conns connections, default 1).
//     The default here is also 1: on this 2-core machine one shared
//     connection beat 4, 8, 64 and 256 at 16 and 256 goroutines (HTTP/2
//     multiplexing batches many requests per write(2) on both sides).
//     "put" writes 256-byte values over 1000 keys; "get" is a
//     linearizable Range (no WithSerializable), i.e. a ReadIndex round on the
//     leader.
//   - an examples/kv-style HTTP API (--proto kv-http): PUT/GET /kv/<key>,
//     following 307s, over keep-alive connections, one per goroutine.
//
// A third mode, --op failover, reads one line per fail-over from stdin (the
// survivors' endpoints, comma-separated), writes through a fresh client to
// them until one write commits and answers "ok <attempts>" on stdout. The
// caller times from its SIGKILL to the answer. Each attempt times out after
// --attempt-timeout (100 ms): an etcd member without a leader holds a write
// rather than refusing it, so a longer timeout would measure the client's
// timeout (results came in steps of it with 500 ms) instead of the election.
//
// Built offline in GOPATH mode from Debian's golang-etcd-server-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o etcd-load .
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.uber.org/zap"
	"google.golang.org/grpc/grpclog"
)

type result struct {
	Target       string  `json:"target"`
	Op           string  `json:"op"`
	Clients      int     `json:"clients"`
	Conns        int     `json:"conns"`
	Ops          int     `json:"ops"`
	Errors       int     `json:"errors"`
	Seconds      float64 `json:"seconds"`
	OpsPerSecond float64 `json:"opsPerSecond"`
	P50Ms        float64 `json:"p50Ms"`
	P99Ms        float64 `json:"p99Ms"`
	MaxMs        float64 `json:"maxMs"`
	FirstError   string  `json:"firstError,omitempty"`
}

// call performs one request; worker/seq pick the key.
type call func(ctx context.Context, worker, seq int) error

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated host:port list (etcd: the balancer's endpoints; kv-http: the first one is asked first)")
	proto := flag.String("proto", "etcd", "etcd (clientv3 over gRPC) or kv-http (examples/kv's HTTP API)")
	clients := flag.Int("clients", 1, "concurrent goroutines, each one request at a time")
	conns := flag.Int("conns", 1, "etcd: clientv3 clients (gRPC connections) shared by the goroutines")
	duration := flag.Duration("duration", 8*time.Second, "how long to load")
	op := flag.String("op", "put", "put, get (linearizable) or failover")
	keys := flag.Int("keys", 1000, "distinct keys")
	valueSize := flag.Int("value-size", 256, "bytes per value")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	attempt := flag.Duration("attempt-timeout", 100*time.Millisecond, "failover: per-write timeout before retrying")
	flag.Parse()
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, os.Stderr))

	eps := strings.Split(*endpoints, ",")
	value := bytes.Repeat([]byte{'v'}, *valueSize)
	if *op == "failover" {
		if err := failoverLoop(value, *attempt); err != nil {
			fatal(err)
		}
		return
	}
	if *clients < 1 || *keys < 1 {
		fatal(fmt.Errorf("--clients and --keys must be at least 1"))
	}
	n := *conns
	if n < 1 || n > *clients {
		n = *clients
	}
	var do call
	var closeAll func()
	switch *proto {
	case "etcd":
		do, closeAll = etcdCalls(eps, n, *op, *keys, value)
	case "kv-http":
		n = *clients
		do, closeAll = kvHTTPCalls(eps[0], *clients, *op, *keys, value)
	default:
		fatal(fmt.Errorf("unknown --proto %q", *proto))
	}
	defer closeAll()
	// Seed every key first so that reads find values (not timed).
	if *op == "get" {
		if err := seed(eps, *proto, *keys, value); err != nil {
			fatal(err)
		}
	}
	r := run(do, *clients, *duration, *timeout)
	r.Target, r.Op, r.Conns = *proto, *op, n
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func run(do call, clients int, duration, timeout time.Duration) result {
	lat := make([][]time.Duration, clients)
	errs := make([]int, clients)
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(duration)
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for seq := 0; time.Now().Before(end); seq++ {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				t := time.Now()
				err := do(ctx, w, seq)
				d := time.Since(t)
				cancel()
				if err != nil {
					errs[w]++
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat[w] = append(lat[w], d)
			}
		}(w)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	var all []time.Duration
	nErr := 0
	for w := range lat {
		all = append(all, lat[w]...)
		nErr += errs[w]
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := result{Clients: clients, Ops: len(all), Errors: nErr, Seconds: secs, OpsPerSecond: float64(len(all)) / secs,
		P50Ms: ms(pct(all, 0.5)), P99Ms: ms(pct(all, 0.99)), MaxMs: ms(pct(all, 1))}
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	return r
}

// pct is the nearest-rank percentile, as bench/lib/load.ts computes it.
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return -1
	}
	i := int(q*float64(len(sorted))+0.999999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func key(worker, seq, keys int) string { return fmt.Sprintf("k%d", (worker*7919+seq)%keys) }

// quietLog keeps clientv3's per-retry warnings (expected during a fail-over) off stderr.
var quietLog = &zap.Config{
	Level:            zap.NewAtomicLevelAt(zap.ErrorLevel),
	Encoding:         "json",
	EncoderConfig:    zap.NewProductionEncoderConfig(),
	OutputPaths:      []string{"stderr"},
	ErrorOutputPaths: []string{"stderr"},
}

func newEtcd(eps []string, dialTimeout time.Duration) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: dialTimeout, LogConfig: quietLog})
}

func etcdCalls(eps []string, conns int, op string, keys int, value []byte) (call, func()) {
	cs := make([]*clientv3.Client, conns)
	for i := range cs {
		c, err := newEtcd(eps, 5*time.Second)
		if err != nil {
			fatal(err)
		}
		cs[i] = c
	}
	closeAll := func() {
		for _, c := range cs {
			c.Close()
		}
	}
	val := string(value)
	switch op {
	case "put":
		return func(ctx context.Context, w, seq int) error {
			_, err := cs[w%conns].Put(ctx, key(w, seq, keys), val)
			return err
		}, closeAll
	case "get":
		return func(ctx context.Context, w, seq int) error {
			r, err := cs[w%conns].Get(ctx, key(w, seq, keys))
			if err == nil && len(r.Kvs) != 1 {
				err = fmt.Errorf("get %s: %d values", key(w, seq, keys), len(r.Kvs))
			}
			return err
		}, closeAll
	}
	fatal(fmt.Errorf("unknown --op %q", op))
	return nil, nil
}

func kvHTTPCalls(ep string, clients int, op string, keys int, value []byte) (call, func()) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        clients * 2,
		MaxIdleConnsPerHost: clients * 2,
		IdleConnTimeout:     30 * time.Second,
	}
	hc := &http.Client{Transport: tr}
	var method string
	switch op {
	case "put":
		method = http.MethodPut
	case "get":
		method = http.MethodGet
	default:
		fatal(fmt.Errorf("unknown --op %q", op))
	}
	return func(ctx context.Context, w, seq int) error {
		var body io.Reader
		if method == http.MethodPut {
			body = bytes.NewReader(value)
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://"+ep+"/kv/"+key(w, seq, keys), body)
		if err != nil {
			return err
		}
		res, err := hc.Do(req) // follows 307 with the body (GetBody is set for bytes.Reader)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s /kv: HTTP %d", method, res.StatusCode)
		}
		return nil
	}, tr.CloseIdleConnections
}

func seed(eps []string, proto string, keys int, value []byte) error {
	var do call
	var closeAll func()
	if proto == "etcd" {
		do, closeAll = etcdCalls(eps, 1, "put", keys, value)
	} else {
		do, closeAll = kvHTTPCalls(eps[0], 16, "put", keys, value)
	}
	defer closeAll()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := w; k < keys; k += 16 {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := do(ctx, 0, k)
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// failoverLoop: per stdin line of survivor endpoints, write until one commits.
func failoverLoop(value []byte, attempt time.Duration) error {
	in := bufio.NewScanner(os.Stdin)
	val := string(value)
	for n := 0; in.Scan(); n++ {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		c, err := newEtcd(strings.Split(line, ","), 0) // no blocking dial: the clock is running
		if err != nil {
			return err
		}
		attempts := 0
		for {
			attempts++
			ctx, cancel := context.WithTimeout(context.Background(), attempt)
			_, err := c.Put(ctx, fmt.Sprintf("failover-%d", n), val)
			cancel()
			if err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		c.Close()
		fmt.Printf("ok %d\n", attempts)
	}
	return in.Err()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "etcd-load:", err)
	os.Exit(1)
}
