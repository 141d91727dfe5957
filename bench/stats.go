//go:build !js

package main

import (
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lynnet/lyn/internal/cputime"
)

// Dist summarises a sample: count, mean, percentiles and maximum, in the
// unit of the samples (µs for latency, ms for connect, frames for depth).
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted by the
// nearest-rank method: the smallest sample with at least q of the samples
// at or below it. It returns NaN for an empty sample.
func percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(q * float64(n)))
	return sorted[min(n-1, max(0, rank-1))]
}

// summarize sorts a copy of samples and summarises it. An empty sample
// gives the zero Dist.
func summarize(samples []float64) Dist {
	if len(samples) == 0 {
		return Dist{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return Dist{
		N: len(s), Mean: sum / float64(len(s)),
		P50: percentile(s, 0.50), P90: percentile(s, 0.90), P99: percentile(s, 0.99),
		P999: percentile(s, 0.999), Max: s[len(s)-1],
	}
}

// usage is the process's CPU time and allocation count at one moment.
type usage struct {
	wall    time.Time
	cpu     time.Duration
	mallocs uint64
	bytes   uint64
}

// cpuTime is the process's CPU time (user and system) so far: on a shared
// machine it measures our cost where wall time measures the neighbours too.
// 0 where the platform does not say.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}

func readUsage() usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{wall: time.Now(), cpu: cpuTime(), mallocs: ms.Mallocs, bytes: ms.TotalAlloc}
}

// since is what was used between u and now.
func (u usage) since() usage {
	n := readUsage()
	return usage{wall: u.wall, cpu: n.cpu - u.cpu, mallocs: n.mallocs - u.mallocs, bytes: n.bytes - u.bytes}
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

// cpuModel returns /proc/cpuinfo's first model name, or "?".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
