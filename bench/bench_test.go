//go:build !js

package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lynnet/lyn/internal/countnet"
	"github.com/lynnet/lyn/netcode"
	"go.uber.org/goleak"
)

func TestPercentile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ q, want float64 }{
		{0, 1}, {0.1, 1}, {0.11, 2}, {0.5, 5}, {0.9, 9}, {0.91, 10}, {0.99, 10}, {1, 10},
	} {
		if got := percentile(s, c.q); got != c.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if !math.IsNaN(percentile(nil, 0.5)) {
		t.Error("percentile of nothing is not NaN")
	}
	big := make([]float64, 1000)
	for i := range big {
		big[i] = float64(i + 1)
	}
	if d := summarize(big); d.P50 != 500 || d.P90 != 900 || d.P99 != 990 || d.P999 != 999 || d.Max != 1000 || d.Mean != 500.5 || d.N != 1000 {
		t.Errorf("summarize(1..1000) = %+v", d)
	}
	// Unsorted input, left as it was.
	in := []float64{3, 1, 2}
	if d := summarize(in); d.P50 != 2 || d.Max != 3 || in[0] != 3 {
		t.Errorf("summarize(3,1,2) = %+v, input now %v", d, in)
	}
	if d := summarize(nil); d != (Dist{}) {
		t.Errorf("summarize(nil) = %+v", d)
	}
}

// TestCountnetCounts sends known datagrams through a counting socket and
// checks the totals, the size histogram, the kinds and the wire bytes.
func TestCountnetCounts(t *testing.T) {
	n, err := countnet.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	before := n.Sent.Snapshot()
	stun := append([]byte{0x00, 0x01}, make([]byte, 18)...) // 20 B, first byte 0: STUN
	dtls := append([]byte{23}, make([]byte, 100)...)        // 101 B, first byte 23: DTLS
	for _, b := range [][]byte{stun, dtls, dtls} {
		if _, err := c.WriteTo(b, peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	d := n.Sent.Snapshot().Minus(before)
	if d.Packets != 3 || d.Bytes != 222 || d.STUN != 1 || d.DTLS != 2 || d.BySize[101] != 2 || d.BySize[20] != 1 {
		t.Errorf("counted %d datagrams, %d bytes, %d STUN, %d DTLS, by size 20: %d, 101: %d; want 3, 222, 1, 2, 1, 2",
			d.Packets, d.Bytes, d.STUN, d.DTLS, d.BySize[20], d.BySize[101])
	}
	if got := d.WireBytes(); got != 222+3*28 {
		t.Errorf("WireBytes = %d, want %d", got, 222+3*28)
	}
	// Received datagrams are counted on the other side.
	peer.WriteTo(dtls, c.LocalAddr())
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	if _, _, err := c.ReadFrom(buf); err != nil {
		t.Fatal(err)
	}
	if r := n.Recv.Snapshot(); r.Packets != 1 || r.Bytes != 101 {
		t.Errorf("received %d datagrams, %d bytes; want 1, 101", r.Packets, r.Bytes)
	}
}

// TestFillBandwidth checks the per-peer arithmetic: 2 players sending 60
// datagrams of 72 payload bytes per second each.
func TestFillBandwidth(t *testing.T) {
	row := BandwidthRow{Players: 2}
	pkts := uint64(2 * 60 * 10)
	wire := pkts * (72 + countnet.IPUDPHeaders)
	fillBandwidth(&row, gameResult{window: 10 * time.Second, frames: 1200, used: usage{cpu: time.Second}}, pkts, wire, pkts, pkts*20)
	want := 60 * 100 / 1024.0
	if math.Abs(row.UpKiBps-want) > 1e-9 || row.PerLinkKiBps != row.UpKiBps || row.DatagramsPerSec != 60 || row.BytesPerDatagram != 100 ||
		row.LynBytesPerPacket != 20 || row.FramesPerSec != 60 || row.CPUPercent != 5 {
		t.Errorf("fillBandwidth = %+v, want %.3f KiB/s per peer, 60 datagrams/s, 100 B each, 60 frames/s, 5 %% CPU", row, want)
	}
	row = BandwidthRow{Players: 4}
	fillBandwidth(&row, gameResult{window: time.Second}, 4*180, 4*180*100, 0, 0)
	if math.Abs(row.PerLinkKiBps-row.UpKiBps/3) > 1e-9 {
		t.Errorf("4 players: per link %.3f, want a third of %.3f", row.PerLinkKiBps, row.UpKiBps)
	}
}

// TestChaosNetCounts checks the impairment network: bytes and packets
// counted per sender, loss only on the input channel, control in order.
func TestChaosNetCounts(t *testing.T) {
	now := time.Unix(0, 0)
	cn := &chaosNet{now: func() time.Time { return now }, rng: rand.New(rand.NewPCG(1, 2)), delay: 10 * time.Millisecond, jitter: 5 * time.Millisecond, loss: 1,
		queues: map[netcode.PeerID]*dueQueue{}, last: map[[2]netcode.PeerID]time.Time{}, sent: map[netcode.PeerID]*[2]uint64{}}
	a, b := cn.endpoint(1), cn.endpoint(2)
	for i := range 5 {
		a.Send(2, netcode.ChannelInput, make([]byte, 10))
		a.Send(2, netcode.ChannelControl, []byte{byte(i)})
	}
	if c := cn.sent[1]; c[0] != 10 || c[1] != 55 {
		t.Errorf("sent %d packets, %d bytes; want 10, 55", c[0], c[1])
	}
	if _, _, _, ok := b.Receive(); ok {
		t.Error("a packet arrived before its delay")
	}
	now = now.Add(time.Second)
	for i := range 5 {
		_, ch, p, ok := b.Receive()
		if !ok || ch != netcode.ChannelControl || p[0] != byte(i) {
			t.Fatalf("packet %d: %v %v %v, want control packet %d in order (input all lost)", i, ok, ch, p, i)
		}
	}
	if _, _, _, ok := b.Receive(); ok {
		t.Error("an input packet survived 100 % loss")
	}
}

func testReport() *Report {
	return &Report{Version: reportVersion,
		Meta: Methodology{Started: "2026-12-06T17:00:00Z", Host: "h", GoVersion: "go1.26", Modules: map[string]string{"github.com/pion/webrtc/v4": "v4.2.26"},
			CPU: "cpu", Cores: 2, GOMAXPROCS: 2, LoadStart: "1 1 1", LoadEnd: "2 2 2", Phases: phases, Settings: map[string]string{"latency": "x"}},
		Latency: []LatencyRow{{Path: "udp", Mode: "paced60", Peers: 2, RTT: Dist{N: 3, P50: 40, P90: 50, P99: 90, P999: 90, Max: 90, Mean: 50},
			OneWay: Dist{N: 3, P50: 20, P99: 45, Max: 45}, Messages: 6, CPUPerMsg: 3, rttSamples: []float64{30, 40, 90}},
			{Path: "lyn-udp", Mode: "paced60", Peers: 2, RTT: Dist{N: 2, P50: 60, P99: 120, Max: 120}, rttSamples: []float64{60, 120}}},
		Bandwidth:  []BandwidthRow{{Path: "lyn-webrtc", Inputs: "held", Players: 2, UpKiBps: 9.8, PerLinkKiBps: 9.8}, {Path: "lyn-udp", Inputs: "held", Players: 4, UpKiBps: 8, PerLinkKiBps: 2.7}},
		Connect:    []ConnectRow{{Tuning: "lyn", Trials: 2, Running: Dist{N: 2, P50: 8, P90: 9, Max: 9}}},
		Engine:     []EngineRow{{Players: 2, Depth: 0, NsPerFrame: 400}, {Players: 2, Depth: 4, MeasuredDepth: 4, NsPerFrame: 800, OverheadNs: 400}},
		Impairment: []ImpairRow{{Players: 2, RTTms: 100, LossPct: 5, Depth: Dist{N: 10, P50: 4, P99: 5, Max: 5}, AllDelivered: true, InputsChecked: 6, InputsExpected: 6, UpKiBps: 3}},
		Scale:      []ScaleRow{{Players: 2, Spectators: 1, CPUPercent: 3.5}},
	}
}

// TestReportRoundTrip writes a report as JSON, reads it back, and writes
// the markdown and plots.
func TestReportRoundTrip(t *testing.T) {
	rep := testReport()
	var buf bytes.Buffer
	if err := rep.writeJSON(&buf); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"version": 1`, `"rtt_us"`, `"p999"`, `"up_kib_s"`, `"first_input_ms"`, `"rollback_depth"`, `"cpu_pct_per_peer"`} {
		if !strings.Contains(buf.String(), key) {
			t.Errorf("report.json lacks %s", key)
		}
	}
	got, err := readReport(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	a, b := rep.metrics(), got.metrics()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("metrics: %d before, %d after the round trip", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s: %v before, %v after", k, v, b[k])
		}
	}
	if got.Meta.Host != "h" || got.Meta.Modules["github.com/pion/webrtc/v4"] != "v4.2.26" {
		t.Errorf("methodology lost: %+v", got.Meta)
	}
	if _, err := readReport(strings.NewReader(`{"version": 99}`)); err == nil {
		t.Error("a report of another version was read")
	}
	if _, err := readReport(strings.NewReader(`{"version": 1, "latency": 3}`)); err == nil {
		t.Error("a malformed report was read")
	}

	dir := t.TempDir()
	if err := writeReport(rep, dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Methodology", "lyn-udp vs udp, paced60, 2 peers, round trip", "p50 +20 µs (1.50×)", "## 1. Input latency", "| udp | paced60 | 2 |", "## 2. Bandwidth", "4.73",
		"## 3. Connect time", "## 4. Engine cost", "## 5. Impairment sweep", "## 6. Scale", "load average", "latency-cdf-paced60.png", "bandwidth.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, png := range []string{"latency-cdf-paced60.png", "rollback-depth-2p.png", "bandwidth.png", "engine-cost.png"} {
		b, err := os.ReadFile(filepath.Join(dir, png))
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG", png)
		}
	}
}

func TestCompare(t *testing.T) {
	old, cur := testReport(), testReport()
	cur.Latency[0].RTT.P99 = 180 // +100 %
	cur.Engine = cur.Engine[:1]  // a figure gone
	cur.Scale = append(cur.Scale, ScaleRow{Players: 8, CPUPercent: 9})
	var buf bytes.Buffer
	compareReports(&buf, old, cur, 0.1)
	out := buf.String()
	for _, want := range []string{"latency/udp/paced60/2p/rtt_us/p99", "+100.0% *", "engine/reference/2p/depth4/cpu_ns_per_frame", "gone", "scale/8p+0s/cpu_pct_per_peer", "new"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q:\n%s", want, out)
		}
	}
	unchanged := false
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		unchanged = unchanged || len(f) == 4 && f[0] == "latency/udp/paced60/2p/rtt_us/p50" && f[1] == "40" && f[2] == "40" && f[3] == "+0.0%"
	}
	if !unchanged {
		t.Errorf("an unchanged figure is not shown as +0.0%%:\n%s", out)
	}
	// Through files, as -compare reads them.
	dir := t.TempDir()
	for name, r := range map[string]*Report{"old.json": old, "new.json": cur} {
		var b bytes.Buffer
		if err := r.writeJSON(&b); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
	}
	buf.Reset()
	if err := compareFiles(&buf, filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json"), 0.1); err != nil || !strings.Contains(buf.String(), "+100.0% *") {
		t.Errorf("compareFiles: %v\n%s", err, buf.String())
	}
	if err := compareFiles(&buf, filepath.Join(dir, "missing.json"), filepath.Join(dir, "new.json"), 0.1); err == nil {
		t.Error("compareFiles read a missing file")
	}
}

func TestParsePhases(t *testing.T) {
	if got, err := parsePhases("scale, latency,scale"); err != nil || strings.Join(got, ",") != "scale,latency" {
		t.Errorf("parsePhases = %v, %v", got, err)
	}
	if _, err := parsePhases("latency,bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("parsePhases(bogus) = %v", err)
	}
	if got, _ := parsePhases(""); len(got) != len(phases) {
		t.Errorf("parsePhases(\"\") = %v", got)
	}
}

func FuzzReadReport(f *testing.F) {
	var buf bytes.Buffer
	testReport().writeJSON(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"latency":[{"rtt_us":{"p50":1e308}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := readReport(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever was read can be compared, written and read again.
		var out bytes.Buffer
		compareReports(&out, rep, rep, 0.1)
		out.Reset()
		if err := rep.writeJSON(&out); err != nil {
			t.Fatalf("read but cannot write: %v", err)
		}
		again, err := readReport(&out)
		if err != nil {
			t.Fatalf("written but cannot read: %v", err)
		}
		if len(again.metrics()) != len(rep.metrics()) {
			t.Fatalf("metrics changed in a round trip")
		}
		var md bytes.Buffer
		writeMarkdown(&md, rep, nil)
	})
}

// TestSmoke runs every phase with tiny settings: each must produce figures
// and no errors, and leave no goroutine behind.
func TestSmoke(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := settings{
		latencyWarm: 50 * time.Millisecond, latencyWindow: 400 * time.Millisecond, b2bWindow: 300 * time.Millisecond, latencyPeers: []int{3}, latencySlices: 2,
		bandwidthWindow: 200 * time.Millisecond, bandwidthPlayers: []int{2}, bandwidthInputs: []string{inputsMashed},
		connectTrials: 2, connectBudget: 20 * time.Second,
		enginePlayers: []int{2}, engineDepths: []int{0, 3}, engineFrames: 100,
		impairPlayers: []int{2}, impairRTTs: []time.Duration{100 * time.Millisecond}, impairLosses: []float64{0.05}, impairFrames: 300,
		scaleWindow: 200 * time.Millisecond, scalePlayers: []int{2}, scaleSpectators: []int{1},
	}
	var progress bytes.Buffer
	rep := runBench(phases, s, false, &progress)
	t.Log(progress.String())
	if p := rep.problems(); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
	if len(rep.Latency) != 2*4 || len(rep.Bandwidth) != 3 || len(rep.Connect) != 2 || len(rep.Engine) != 4 || len(rep.Impairment) != 1 || len(rep.Scale) != 1 {
		t.Fatalf("rows: %d latency, %d bandwidth, %d connect, %d engine, %d impairment, %d scale",
			len(rep.Latency), len(rep.Bandwidth), len(rep.Connect), len(rep.Engine), len(rep.Impairment), len(rep.Scale))
	}
	for _, r := range rep.Latency {
		if r.RTT.N == 0 || r.OneWay.N == 0 || r.RTT.P50 <= 0 || r.Messages == 0 {
			t.Errorf("latency %s %s: %+v", r.Path, r.Mode, r)
		}
	}
	for _, r := range rep.Bandwidth {
		if r.UpKiBps <= 0 || r.DatagramsPerSec <= 0 {
			t.Errorf("bandwidth %s: %+v", r.Path, r)
		}
	}
	for _, r := range rep.Engine[1:2] {
		if r.MeasuredDepth < 2 || r.RollbacksPerFrame < 0.5 {
			t.Errorf("engine at depth 3 measured %+v", r)
		}
	}
	if r := rep.Engine[3]; r.Game != "demo" || r.MeasuredDepth < 2 || r.RollbacksPerFrame < 0.5 {
		t.Errorf("demo game at depth 3 measured %+v", r)
	}
	if r := rep.Impairment[0]; !r.AllDelivered || r.Desyncs != 0 || r.Depth.N == 0 {
		t.Errorf("impairment: %+v", r)
	}
	if r := rep.Scale[0]; r.CPUPercent <= 0 || r.FramesPerSec <= 0 {
		t.Errorf("scale: %+v", r)
	}
	for _, want := range []string{"[latency]", "[bandwidth]", "[connect]", "[engine]", "[impairment]", "[scale]", "done"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %s", want)
		}
	}
	if err := writeReport(rep, t.TempDir()); err != nil {
		t.Error(err)
	}
}

func TestProblems(t *testing.T) {
	rep := testReport()
	if p := rep.problems(); len(p) != 0 {
		t.Fatalf("a clean report has problems: %v", p)
	}
	rep.Impairment[0].Desyncs = 1
	rep.Connect[0].Err = "timeout"
	rep.Impairment = append(rep.Impairment, ImpairRow{Players: 4, RTTms: 200, LossPct: 20, InputsChecked: 5, InputsExpected: 6})
	p := strings.Join(rep.problems(), "\n")
	for _, want := range []string{"connect lyn: timeout", "impairment 2p RTT 100 loss 5: desyncs 1", "impairment 4p RTT 200 loss 20: desyncs 0, inputs 5/6"} {
		if !strings.Contains(p, want) {
			t.Errorf("problems lack %q:\n%s", want, p)
		}
	}
}
