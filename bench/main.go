//go:build !js

// Command bench measures lyn against its baselines on this machine, in one
// run so that ratios are fair on a noisy shared machine:
//
//	go run ./bench                  # everything, about two minutes
//	go run ./bench -only latency    # round trips: raw UDP, bare pion, lyn over WebRTC and UDP
//	go run ./bench -only bytes      # bytes on the wire per direction at 60 Hz
//	go run ./bench -only connect    # Join through the signaling server to first input
//	go run ./bench -samples 20000   # more latency samples
//
// Every measurement is bounded in count and time and sends traffic only to
// loopback. Results print as markdown tables with their goals; see
// bench/README.md for what each means.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	only := flag.String("only", "", "run only this measurement: latency, bytes or connect")
	samples := flag.Int("samples", 5000, "round trips per latency path")
	pace := flag.Duration("pace", time.Millisecond, "pause between round trips (0: back to back)")
	seconds := flag.Int("seconds", 10, "seconds of real-time 60 Hz play per bytes measurement")
	trials := flag.Int("trials", 30, "connect trials through the signaling server")
	flag.Parse()
	if *samples < 100 || *samples > 1_000_000 {
		fmt.Fprintln(os.Stderr, "bench: -samples must be 100 to 1000000")
		os.Exit(2)
	}
	if *seconds < 1 || *seconds > 120 || *trials < 1 || *trials > 1000 {
		fmt.Fprintln(os.Stderr, "bench: -seconds must be 1 to 120, -trials 1 to 1000")
		os.Exit(2)
	}
	switch *only {
	case "", "latency", "bytes", "connect":
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown measurement %q (latency, bytes, connect)\n", *only)
		os.Exit(2)
	}
	fmt.Printf("lyn bench: %s, GOMAXPROCS %d, load average %s\n\n", runtime.Version(), runtime.GOMAXPROCS(0), loadAverage())
	ok := true
	if *only == "" || *only == "latency" {
		ok = runLatency(*samples, *pace) && ok
	}
	if *only == "" || *only == "bytes" {
		ok = runBytes(time.Duration(*seconds)*time.Second) && ok
	}
	if *only == "" || *only == "connect" {
		ok = runConnect(*trials) && ok
	}
	fmt.Printf("load average at the end: %s\n", loadAverage())
	if !ok {
		os.Exit(1)
	}
}

// loadAverage returns /proc/loadavg's three load averages, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// passMiss renders a goal check.
func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// latencyPath is one way of carrying a message and its reply.
type latencyPath struct {
	key, name string
	open      func(ctx context.Context) (echoer, error)
}

func latencyPaths() []latencyPath {
	return []latencyPath{
		{"udp", "raw UDP (floor), 32 B", func(context.Context) (echoer, error) { return newUDPEcho() }},
		{"udp-handoff", "raw UDP + reader goroutine hand-off on each side (lyn's shape, no lyn code), 32 B", func(context.Context) (echoer, error) { return newUDPHandoffEcho() }},
		{"pion", "bare pion data channel (unreliable), 32 B", func(ctx context.Context) (echoer, error) { return newPionEcho(ctx) }},
		{"lyn-webrtc", "lyn over WebRTC: input message, encode → Mesh → decode, reply", func(ctx context.Context) (echoer, error) { return newMeshEcho(ctx) }},
		{"lyn-udp", "lyn over UDP: input message, encode → UDP → decode, reply", func(context.Context) (echoer, error) { return newUDPLynEcho() }},
	}
}

// latencyChunks is how many slices each path's samples are cut into: the
// paths take turns, slice by slice, so a burst of load from the machine's
// other jobs falls on all of them rather than on one.
const latencyChunks = 10

func runLatency(samples int, pace time.Duration) bool {
	fmt.Printf("## Round trip on loopback (%d samples per path, paced %v, paths interleaved in %d slices)\n\n", samples, pace, latencyChunks)
	paths := latencyPaths()
	runs := make([]*latencyRun, len(paths))
	ok := true
	for i, p := range paths {
		r, err := openLatencyRun(p, samples)
		if err != nil {
			fmt.Printf("%s: failed to open: %v\n", p.name, err)
			ok = false
			continue
		}
		defer r.e.close()
		runs[i] = r
	}
	for c := range latencyChunks {
		n := samples / latencyChunks
		if c == latencyChunks-1 {
			n = samples - n*(latencyChunks-1)
		}
		for _, r := range runs {
			if r != nil && r.err == nil {
				r.measure(n, pace)
			}
		}
	}
	res := map[string]latencyResult{}
	fmt.Println("| path | message bytes | p50 µs | p99 µs | p99.9 µs | p99 µs, median of slices | allocs/round trip | lost | goal | result (pooled p99; median of slices) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for i, p := range paths {
		r := runs[i]
		if r == nil {
			continue
		}
		if r.err != nil {
			fmt.Printf("| %s | | failed: %v | | | | | | | |\n", p.name, r.err)
			ok = false
			continue
		}
		res[p.key] = r.result()
	}
	for i, p := range paths {
		l, have := res[p.key]
		if !have {
			continue
		}
		goal, verdict := "", ""
		switch p.key {
		case "lyn-webrtc":
			goal = "p99 < bare pion p99 + 50 µs"
			if b, ok := res["pion"]; ok {
				goal = fmt.Sprintf("p99 < %.0f (pion + 50)", b.p99+50)
				verdict = fmt.Sprintf("%s (%+.0f µs); %s (%+.0f µs)", passMiss(l.p99 < b.p99+50), l.p99-b.p99,
					passMiss(l.sliceP99 < b.sliceP99+50), l.sliceP99-b.sliceP99)
			}
		case "lyn-udp":
			goal = "p99 ≤ 1.3 × raw UDP p99"
			if b, ok := res["udp"]; ok {
				goal = fmt.Sprintf("p99 ≤ %.0f (1.3 × raw)", 1.3*b.p99)
				verdict = fmt.Sprintf("%s (%.2f×); %s (%.2f×)", passMiss(l.p99 <= 1.3*b.p99), l.p99/b.p99,
					passMiss(l.sliceP99 <= 1.3*b.sliceP99), l.sliceP99/b.sliceP99)
				if h, ok := res["udp-handoff"]; ok {
					verdict += fmt.Sprintf("; %.2f× the hand-off row", l.sliceP99/h.sliceP99)
				}
			}
		}
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f | %d | %s | %s |\n", p.name, runs[i].msgBytes(), l.p50, l.p99, l.p999, l.sliceP99, l.allocs, runs[i].lost, goal, verdict)
	}
	fmt.Println()
	fmt.Printf("The paths take turns in %d slices; \"median of slices\" is the median of the %d per-slice p99s, which a burst of load on this shared machine moves less than the pooled p99. The goal verdict is on the pooled p99 first.\n\n", latencyChunks, latencyChunks)
	fmt.Println("Round trip: send, the far side receives and replies, the reply is received. lyn rows carry a 2-player input message (2 frames of input, ack, status) encoded by lyn's Transport on one peer and decoded by the other's, both ways; allocs count every allocation in the process (pion's included).")
	fmt.Println()
	return ok
}

type latencyResult struct {
	p50, p99, p999, allocs float64
	// sliceP99 is the median over the slices of each slice's p99: a burst
	// of load from the machine's other jobs that hits one path's slice
	// moves the pooled p99 but hardly this.
	sliceP99 float64
}

// latencyRun is one path's connection and the samples taken so far.
type latencyRun struct {
	e        echoer
	times    []float64
	slices   []int // index in times where each slice starts
	mallocs  uint64
	lost     int
	err      error
	deadline time.Time
	payload  []byte
}

// openLatencyRun opens a path and warms it up (buffers, SCTP state).
func openLatencyRun(p latencyPath, samples int) (*latencyRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := p.open(ctx)
	if err != nil {
		return nil, err
	}
	r := &latencyRun{e: e, times: make([]float64, 0, samples), deadline: time.Now().Add(2 * time.Minute),
		payload: []byte(strings.Repeat("x", 32))}
	for range 200 {
		if err := e.roundTrip(r.payload); err != nil {
			e.close()
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	return r, nil
}

// measure takes n more samples, bounded by the run's deadline.
func (r *latencyRun) measure(n int, pace time.Duration) {
	var before, after runtime.MemStats
	r.slices = append(r.slices, len(r.times))
	runtime.ReadMemStats(&before)
	for got := 0; got < n && time.Now().Before(r.deadline); {
		start := time.Now()
		if err := r.e.roundTrip(r.payload); err != nil {
			if r.lost++; r.lost > cap(r.times)/100 {
				r.err = fmt.Errorf("too many lost: %w", err)
				return
			}
			continue
		}
		r.times = append(r.times, float64(time.Since(start).Nanoseconds())/1e3)
		got++
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	runtime.ReadMemStats(&after)
	r.mallocs += after.Mallocs - before.Mallocs
}

func (r *latencyRun) result() latencyResult {
	pct := func(sorted []float64, q float64) float64 {
		return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
	}
	var perSlice []float64
	for i, from := range r.slices {
		to := len(r.times)
		if i+1 < len(r.slices) {
			to = r.slices[i+1]
		}
		if to > from {
			sl := slices.Clone(r.times[from:to])
			slices.Sort(sl)
			perSlice = append(perSlice, pct(sl, 0.99))
		}
	}
	slices.Sort(perSlice)
	times := slices.Clone(r.times)
	slices.Sort(times)
	return latencyResult{
		p50: pct(times, 0.50), p99: pct(times, 0.99), p999: pct(times, 0.999),
		allocs:   float64(r.mallocs) / float64(len(times)),
		sliceP99: perSlice[len(perSlice)/2],
	}
}

// msgBytes is the size of the message a path carries.
func (r *latencyRun) msgBytes() float64 {
	if s, ok := r.e.(interface{ packetBytes() float64 }); ok {
		return s.packetBytes()
	}
	return float64(len(r.payload))
}
