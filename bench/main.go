//go:build !js

// Command bench measures lyn against its baselines on this machine, in one
// run so that ratios are fair on a noisy shared machine:
//
//	go run ./bench                 # everything, a few minutes at most
//	go run ./bench -only latency   # one measurement
//	go run ./bench -samples 20000  # more samples
//
// Every measurement is bounded in count and time and sends traffic only to
// loopback. Results print as a markdown table.
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
	only := flag.String("only", "", "run only this measurement: latency")
	samples := flag.Int("samples", 5000, "round trips per path")
	pace := flag.Duration("pace", time.Millisecond, "pause between round trips (0: back to back)")
	flag.Parse()
	if *samples < 100 || *samples > 1_000_000 {
		fmt.Fprintln(os.Stderr, "bench: -samples must be 100 to 1000000")
		os.Exit(2)
	}
	ok := true
	if *only == "" || *only == "latency" {
		ok = runLatency(*samples, *pace) && ok
	}
	if !ok {
		os.Exit(1)
	}
}

// latencyPath is one way of carrying a 32-byte message and its echo.
type latencyPath struct {
	name string
	open func(ctx context.Context) (echoer, error)
}

func latencyPaths() []latencyPath {
	return []latencyPath{
		{"raw UDP (floor)", func(context.Context) (echoer, error) { return newUDPEcho() }},
		{"bare pion data channel (unreliable)", func(ctx context.Context) (echoer, error) { return newPionEcho(ctx) }},
	}
}

func runLatency(samples int, pace time.Duration) bool {
	fmt.Printf("## Round trip of a 32-byte message on loopback (%d samples, paced %v)\n\n", samples, pace)
	fmt.Println("| path | p50 µs | p99 µs | p99.9 µs | allocs/round trip |")
	fmt.Println("|---|---|---|---|---|")
	ok := true
	for _, p := range latencyPaths() {
		res, err := measureRoundTrips(p, samples, pace)
		if err != nil {
			fmt.Printf("| %s | failed: %v | | | |\n", p.name, err)
			ok = false
			continue
		}
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.1f |\n", p.name, res.p50, res.p99, res.p999, res.allocs)
	}
	fmt.Println()
	return ok
}

type latencyResult struct {
	p50, p99, p999, allocs float64
}

// measureRoundTrips times samples round trips after a warm-up, bounded to
// two minutes per path.
func measureRoundTrips(p latencyPath, samples int, pace time.Duration) (latencyResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := p.open(ctx)
	if err != nil {
		return latencyResult{}, err
	}
	defer e.close()
	payload := []byte(strings.Repeat("x", 32))
	for range 200 {
		if err := e.roundTrip(payload); err != nil {
			return latencyResult{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	times := make([]float64, 0, samples)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lost := 0
	for len(times) < samples && time.Now().Before(deadline) {
		start := time.Now()
		if err := e.roundTrip(payload); err != nil {
			if lost++; lost > samples/100 {
				return latencyResult{}, fmt.Errorf("too many lost: %w", err)
			}
			continue
		}
		times = append(times, float64(time.Since(start).Microseconds()))
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	runtime.ReadMemStats(&after)
	slices.Sort(times)
	pct := func(q float64) float64 { return times[min(len(times)-1, int(q*float64(len(times))))] }
	return latencyResult{
		p50: pct(0.50), p99: pct(0.99), p999: pct(0.999),
		allocs: float64(after.Mallocs-before.Mallocs) / float64(len(times)),
	}, nil
}
