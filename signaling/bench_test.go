//go:build !js

package signaling

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Room handshakes: 2 peers join a fresh room, both get start, they exchange an offer, an
// answer and 2 ICE candidates each way, and leave. Client and server share the process
// (and the machine's cores), so the rate is a lower bound for the server alone.
//
//	go test -run '^$' -bench 'RoomHandshake' -benchtime 3s ./signaling/
func BenchmarkRoomHandshake(b *testing.B) {
	ts := startServer(b, Config{MaxConnsPerIP: -1})
	var seq atomic.Int64
	start := time.Now()
	for b.Loop() {
		roomHandshake(b, ts, seq.Add(1))
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

// The same with 16 handshakes in flight, as a busy server sees them.
func BenchmarkRoomHandshakeParallel(b *testing.B) {
	ts := startServer(b, Config{MaxConnsPerIP: -1})
	var seq atomic.Int64
	b.SetParallelism(8) // × GOMAXPROCS = 16 goroutines
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			roomHandshake(b, ts, seq.Add(1))
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
}

func roomHandshake(b *testing.B, ts *testServer, n int64) {
	if err := doRoomHandshake(ts.addr, n); err != nil {
		b.Error(err)
	}
}

// doRoomHandshake is one handshake: join, start, offer, answer, 2 candidates each way,
// leave.
func doRoomHandshake(addr string, n int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws://" + addr + "/hs-" + strconv.FormatInt(n, 10)
	alice, err := Dial(ctx, url, ClientConfig{})
	if err != nil {
		return err
	}
	defer alice.Close()
	bob, err := Dial(ctx, url, ClientConfig{})
	if err != nil {
		return err
	}
	defer bob.Close()
	next := func(c *Client, wantSignal bool) error {
		for {
			ev, err := c.Recv(ctx)
			if err != nil {
				return err
			}
			switch ev.(type) {
			case *Start:
				if !wantSignal {
					return nil
				}
			case *Signal:
				if wantSignal {
					return nil
				}
			}
		}
	}
	steps := []func() error{
		func() error { return next(alice, false) },
		func() error { return next(bob, false) },
		func() error { return alice.Send(ctx, bob.ID(), json.RawMessage(benchOffer)) },
		func() error { return next(bob, true) },
		func() error { return bob.Send(ctx, alice.ID(), json.RawMessage(benchOffer)) },
		func() error { return next(alice, true) },
	}
	for range 2 {
		steps = append(steps,
			func() error { return alice.Send(ctx, bob.ID(), json.RawMessage(benchCandidate)) },
			func() error { return bob.Send(ctx, alice.ID(), json.RawMessage(benchCandidate)) })
	}
	for range 2 {
		steps = append(steps, func() error { return next(alice, true) }, func() error { return next(bob, true) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// The server alone: the clients run in a child process (16 handshakes in flight), and the
// server process's own CPU time is measured, so the client side's cost is not counted.
// Both processes still share the machine's cores.
//
//	go test -run '^$' -bench RoomHandshakeServerOnly -benchtime 4000x ./signaling/
func BenchmarkRoomHandshakeServerOnly(b *testing.B) {
	raiseFileLimit(b, 8192)
	ts := startServer(b, Config{MaxConnsPerIP: -1})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHandshakeClients$")
	cmd.Env = append(os.Environ(), "LYN_HS_ADDR="+ts.addr, "LYN_HS_COUNT="+strconv.Itoa(b.N), "LYN_HS_WORKERS=16")
	cmd.Stderr = os.Stderr
	cpu0 := processCPU()
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	if err != nil || !strings.Contains(string(out), "handshakes done") {
		b.Fatalf("client process: %v\n%s", err, out)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "handshakes/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server-cpu-µs/handshake")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHelperHandshakeClients is the child process of BenchmarkRoomHandshakeServerOnly.
func TestHelperHandshakeClients(t *testing.T) {
	addr := os.Getenv("LYN_HS_ADDR")
	count, _ := strconv.Atoi(os.Getenv("LYN_HS_COUNT"))
	workers, _ := strconv.Atoi(os.Getenv("LYN_HS_WORKERS"))
	if addr == "" || count == 0 || workers == 0 {
		t.Skip("child process of BenchmarkRoomHandshakeServerOnly")
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(count); n = next.Add(1) {
				if err := doRoomHandshake(addr, n); err != nil && failed.Add(1) == 1 {
					fmt.Fprintln(os.Stderr, "handshake:", err)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d handshakes failed", failed.Load())
	}
	fmt.Println("handshakes done")
}

// A realistic data-channel-only SDP (~600 bytes) and a host candidate.
const benchOffer = `{"type":"offer","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\na=ice-options:trickle\r\na=fingerprint:sha-256 DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09:DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"}`
const benchCandidate = `{"candidate":"candidate:842163049 1 udp 1677729535 127.0.0.1 53705 typ host generation 0 ufrag EsAw network-cost 999","sdpMid":"0","sdpMLineIndex":0}`

// Memory per idle connection: 10 000 WebSocket connections (2 per room, welcomed and
// started) held open by a child process, so that the server's MemStats hold only server
// memory. Reports live heap and goroutine stacks per connection after GC.
//
//	go test -run '^$' -bench IdleConnMemory -benchtime 1x ./signaling/
func BenchmarkIdleConnMemory(b *testing.B) {
	const conns = 10_000
	raiseFileLimit(b, conns+1024) // per process: the clients are in a child
	for b.Loop() {
		ts := startServer(b, Config{MaxConnsPerIP: -1, PingInterval: time.Minute, IdleTimeout: 2 * time.Minute})
		before := liveMemory()
		goroutinesBefore := runtime.NumGoroutine()

		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIdleClients$", "-test.v")
		cmd.Env = append(os.Environ(), "LYN_IDLE_CLIENTS="+strconv.Itoa(conns), "LYN_IDLE_ADDR="+ts.addr)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		ready := false
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready = true
				break
			}
		}
		if !ready {
			cmd.Wait()
			b.Fatal("client process failed")
		}
		eventually(b, "all connections", func() bool { return ts.Stats().Connections == conns })
		after := liveMemory()
		goroutines := runtime.NumGoroutine() - goroutinesBefore
		stdin.Close() // the child exits, closing its sockets
		cmd.Wait()

		heap := float64(after.heap-before.heap) / conns
		stack := float64(after.stack-before.stack) / conns
		b.ReportMetric(heap, "heap-B/conn")
		b.ReportMetric(stack, "stack-B/conn")
		b.ReportMetric(heap+stack, "B/conn")
		b.ReportMetric(float64(goroutines)/conns, "goroutines/conn")
		eventually(b, "connections closed", func() bool { return ts.Stats().Connections == 0 })
	}
}

type memSample struct{ heap, stack uint64 }

func liveMemory() memSample {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return memSample{heap: m.HeapAlloc, stack: m.StackInuse}
}

func raiseFileLimit(b *testing.B, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	lim.Cur = n
	if lim.Max < n {
		lim.Max = n // raising the hard limit needs CAP_SYS_RESOURCE
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", n, err)
	}
}

// TestHelperIdleClients is the child process of BenchmarkIdleConnMemory; it does nothing
// unless LYN_IDLE_CLIENTS is set. It spreads its connections over 127.0.0.2-127.0.0.201 as
// source addresses so that ephemeral ports never run short.
func TestHelperIdleClients(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LYN_IDLE_CLIENTS"))
	addr := os.Getenv("LYN_IDLE_ADDR")
	if n == 0 || addr == "" {
		t.Skip("child process of BenchmarkIdleConnMemory")
	}
	var src atomic.Uint32
	transport := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		ip := net.IPv4(127, 0, 0, byte(2+src.Add(1)%200))
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
		return d.DialContext(ctx, network, a)
	}}
	client := &http.Client{Transport: transport}
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	var failed atomic.Int64
	jobs := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range jobs {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				ws, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://%s/idle-%d", addr, i/2), &websocket.DialOptions{HTTPClient: client})
				if err == nil {
					_, _, err = ws.Read(ctx) // welcome
				}
				cancel()
				if err != nil {
					if failed.Add(1) == 1 {
						fmt.Fprintln(os.Stderr, "dial:", err)
					}
					continue
				}
				go func() { // answer pings, drop start and peer-joined
					for {
						if _, _, err := ws.Read(context.Background()); err != nil {
							return
						}
					}
				}()
				conns[i] = ws
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d dials failed", failed.Load())
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	for _, ws := range conns {
		ws.CloseNow()
	}
}
