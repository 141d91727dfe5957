//go:build !js

package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// reportVersion is report.json's schema version; readReport refuses others.
const reportVersion = 1

// Report is one run of the bench: report.json, with stable keys.
type Report struct {
	Version int         `json:"version"`
	Meta    Methodology `json:"methodology"`
	// The phases; a phase not run is absent.
	Latency    []LatencyRow   `json:"latency,omitempty"`
	Bandwidth  []BandwidthRow `json:"bandwidth,omitempty"`
	Connect    []ConnectRow   `json:"connect,omitempty"`
	Engine     []EngineRow    `json:"engine,omitempty"`
	Impairment []ImpairRow    `json:"impairment,omitempty"`
	Scale      []ScaleRow     `json:"scale,omitempty"`
}

// Methodology says where and how the figures were taken.
type Methodology struct {
	Started    string            `json:"started"` // RFC 3339, UTC
	Host       string            `json:"host"`
	GoVersion  string            `json:"go"`
	Modules    map[string]string `json:"modules"` // pion's and lyn's dependencies, by path
	CPU        string            `json:"cpu"`
	Cores      int               `json:"cores"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	LoadStart  string            `json:"load_start"`
	LoadEnd    string            `json:"load_end"`
	Full       bool              `json:"full"`
	Phases     []string          `json:"phases"`
	Seconds    float64           `json:"seconds"`
	Settings   map[string]string `json:"settings"`
	Note       string            `json:"note,omitempty"` // -note: what else the machine was doing
}

// errReport is a report.json that cannot be read.
var errReport = errors.New("bench: bad report")

// readReport parses report.json, refusing other schema versions and
// values no run can produce (NaN percentiles are written as null).
func readReport(r io.Reader) (*Report, error) {
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	var rep Report
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%w: %v", errReport, err)
	}
	if rep.Version != reportVersion {
		return nil, fmt.Errorf("%w: version %d, this bench reads %d", errReport, rep.Version, reportVersion)
	}
	return &rep, nil
}

// writeJSON writes the report, indented.
func (rep *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// metrics flattens the report into stable keys, for -compare: one key per
// figure, such as "latency/lyn-udp/paced60/2p/rtt_us/p50".
func (rep *Report) metrics() map[string]float64 {
	m := map[string]float64{}
	dist := func(prefix string, d Dist) {
		if d.N == 0 {
			return
		}
		m[prefix+"/p50"], m[prefix+"/p90"], m[prefix+"/p99"] = d.P50, d.P90, d.P99
		m[prefix+"/p999"], m[prefix+"/max"] = d.P999, d.Max
	}
	for _, r := range rep.Latency {
		k := fmt.Sprintf("latency/%s/%s/%dp", r.Path, r.Mode, r.Peers)
		dist(k+"/one_way_us", r.OneWay)
		dist(k+"/rtt_us", r.RTT)
		m[k+"/cpu_us_per_msg"], m[k+"/allocs_per_msg"] = r.CPUPerMsg, r.AllocsMsg
	}
	for _, r := range rep.Bandwidth {
		k := fmt.Sprintf("bandwidth/%s/%s/%dp", r.Path, r.Inputs, r.Players)
		m[k+"/up_kib_s"], m[k+"/per_link_kib_s"], m[k+"/datagrams_s"] = r.UpKiBps, r.PerLinkKiBps, r.DatagramsPerSec
		m[k+"/per_link_kib_s_at_60fps"] = r.PerLink60
		m[k+"/cpu_pct_per_peer"] = r.CPUPercent
	}
	for _, r := range rep.Connect {
		k := "connect/" + r.Tuning
		dist(k+"/first_input_ms", r.Running)
		dist(k+"/offer_to_first_input_ms", r.OfferToInput)
		dist(k+"/webrtc_ms", r.WebRTC)
	}
	for _, r := range rep.Engine {
		k := fmt.Sprintf("engine/%s/%dp/depth%d", cmp.Or(r.Game, "reference"), r.Players, r.Depth)
		m[k+"/cpu_ns_per_frame"], m[k+"/allocs_per_frame"], m[k+"/measured_depth"] = r.NsPerFrame, r.AllocsPerFrame, r.MeasuredDepth
	}
	for _, r := range rep.Impairment {
		k := fmt.Sprintf("impairment/%dp/rtt%d/loss%g", r.Players, r.RTTms, r.LossPct)
		m[k+"/depth_p50"], m[k+"/depth_p99"], m[k+"/stalled_pct"] = r.Depth.P50, r.Depth.P99, r.StalledPct
		m[k+"/desyncs"], m[k+"/up_kib_s"] = float64(r.Desyncs), r.UpKiBps
		m[k+"/all_delivered"] = b2f(r.AllDelivered)
	}
	for _, r := range rep.Scale {
		k := fmt.Sprintf("scale/%dp+%ds", r.Players, r.Spectators)
		m[k+"/cpu_pct_per_peer"], m[k+"/cpu_us_per_frame"], m[k+"/allocs_per_frame"] = r.CPUPercent, r.CPUPerFrameUs, r.AllocsPerFrame
	}
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(m, k)
		}
	}
	return m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// compareReports writes, for every figure in either report, the old and new
// value and the change; figures only in one are listed as such. Changes of
// at least threshold (a fraction) are marked.
func compareReports(w io.Writer, old, cur *Report, threshold float64) {
	a, b := old.metrics(), cur.metrics()
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "old: %s on %s (load %s)\nnew: %s on %s (load %s)\n\n", old.Meta.Started, old.Meta.Host, old.Meta.LoadStart,
		cur.Meta.Started, cur.Meta.Host, cur.Meta.LoadStart)
	fmt.Fprintf(w, "%-60s %12s %12s %9s\n", "figure", "old", "new", "change")
	changed := 0
	for _, k := range keys {
		va, okA := a[k]
		vb, okB := b[k]
		switch {
		case !okA:
			fmt.Fprintf(w, "%-60s %12s %12.4g %9s\n", k, "-", vb, "new")
		case !okB:
			fmt.Fprintf(w, "%-60s %12.4g %12s %9s\n", k, va, "-", "gone")
		default:
			rel, mark := relChange(va, vb), ""
			if math.Abs(rel) >= threshold {
				mark = " *"
				changed++
			}
			fmt.Fprintf(w, "%-60s %12.4g %12.4g %+8.1f%%%s\n", k, va, vb, 100*rel, mark)
		}
	}
	fmt.Fprintf(w, "\n%d of %d figures changed by %.0f %% or more (*).\n", changed, len(keys), 100*threshold)
}

// relChange is (b-a)/|a|; 0 when both are 0, ±1 when only a is 0.
func relChange(a, b float64) float64 {
	switch {
	case a == b:
		return 0
	case a == 0:
		return math.Copysign(1, b)
	}
	return (b - a) / math.Abs(a)
}

// mdTable renders a markdown table.
func mdTable(w io.Writer, header []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
