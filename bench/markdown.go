//go:build !js

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// writeMarkdown writes report.md: headline figures, methodology, then a
// section per phase with its table, plot and how to read it.
func writeMarkdown(w io.Writer, rep *Report, plots map[string]string) {
	m := rep.Meta
	fmt.Fprintf(w, "# lyn bench, %s, %s\n\n", m.Started, m.Host)
	fmt.Fprintf(w, "`go run ./bench%s` — phases: %s. Everything ran in one process on loopback (127.0.0.1) or on a simulated network; ratios within this run are what count on a shared machine.\n\n",
		map[bool]string{true: " -full", false: ""}[m.Full], strings.Join(m.Phases, ", "))
	writeHeadline(w, rep)
	fmt.Fprintln(w, "## Methodology")
	fmt.Fprintln(w)
	mods := make([]string, 0, len(m.Modules))
	for k, v := range m.Modules {
		mods = append(mods, k+" "+v)
	}
	slices.Sort(mods)
	settings := make([]string, 0, len(m.Settings))
	for k, v := range m.Settings {
		settings = append(settings, k+"="+v)
	}
	slices.Sort(settings)
	fmt.Fprintf(w, "- %s, GOMAXPROCS %d, %d cores: %s\n", m.GoVersion, m.GOMAXPROCS, m.Cores, m.CPU)
	fmt.Fprintf(w, "- modules: %s\n", strings.Join(mods, ", "))
	fmt.Fprintf(w, "- load average (1, 5, 15 min) at the start %s, at the end %s; the run took %.0f s\n", m.LoadStart, m.LoadEnd, m.Seconds)
	fmt.Fprintf(w, "- settings: %s\n", strings.Join(settings, "; "))
	if m.Note != "" {
		fmt.Fprintf(w, "- note: %s\n", m.Note)
	}
	fmt.Fprintln(w, "- CPU time is the process's user + system time from getrusage over the measuring window (pion's goroutines, the GC and the harness included); allocations are runtime.MemStats.Mallocs over the same window.")
	fmt.Fprintln(w, "- percentiles are nearest-rank over every sample of the window; warm-up samples are discarded.")
	fmt.Fprintln(w)
	writeLatency(w, rep, plots)
	writeBandwidth(w, rep, plots)
	writeConnect(w, rep)
	writeEngine(w, rep, plots)
	writeImpair(w, rep, plots)
	writeScale(w, rep)
}

func errCell(e string) string {
	if e == "" {
		return ""
	}
	if len(e) > 80 {
		e = e[:80] + "…"
	}
	return "error: " + strings.ReplaceAll(e, "|", "/")
}

func writeHeadline(w io.Writer, rep *Report) {
	var rows [][]string
	for _, r := range rep.Latency {
		if r.Peers == 2 && r.Err == "" {
			rows = append(rows, []string{"round trip, " + r.Mode + ", " + r.Path, fmt.Sprintf("p50 %.0f µs, p99 %.0f µs", r.RTT.P50, r.RTT.P99)})
		}
	}
	rows = append(rows, latencyComparisons(rep)...)
	for _, r := range rep.Bandwidth {
		if r.Players == 2 && r.Err == "" {
			rows = append(rows, []string{"bandwidth, 2 players, " + r.Path + ", " + r.Inputs, fmt.Sprintf("%.2f KiB/s per peer per direction (%.2f at exactly 60 frames/s)", r.PerLinkKiBps, r.PerLink60)})
		}
	}
	for _, r := range rep.Connect {
		if r.Running.N > 0 {
			rows = append(rows, []string{"connect, first offer → first input, " + r.Tuning, fmt.Sprintf("p50 %.1f ms, p90 %.1f ms (from the first Join call: p50 %.1f, p90 %.1f)", r.OfferToInput.P50, r.OfferToInput.P90, r.Running.P50, r.Running.P90)})
		}
	}
	for _, r := range rep.Impairment {
		if r.Players == 2 && r.RTTms == 100 && r.LossPct == 5 {
			rows = append(rows, []string{"2 players at 100 ms RTT, 5 % loss", fmt.Sprintf("rollback p99 %.0f frames, %.2f KiB/s, desyncs %d, all inputs delivered: %v", r.Depth.P99, r.UpKiBps, r.Desyncs, r.AllDelivered)})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "## Headline")
	fmt.Fprintln(w)
	mdTable(w, []string{"what", "figure"}, rows)
	fmt.Fprintln(w, "Anchor: fortress-rollback publishes 4.73 KiB/s per player for 2 players on a LAN and 5.86 KiB/s with a rollback p99 of 7 frames at 100 ms RTT and 5 % loss.")
	fmt.Fprintln(w)
}

func writeLatency(w io.Writer, rep *Report, plots map[string]string) {
	if len(rep.Latency) == 0 {
		return
	}
	fmt.Fprintln(w, "## 1. Input latency")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every peer sends a 32-byte input to every other peer, on its own 60 Hz tick (`paced60`, ticks staggered across peers) or, for `b2b`, peer 1 sends the next one to peer 2 as soon as the previous reply is back. The receiver answers each with a pong carrying the send time: one-way = ping received − sent (one process, one monotonic clock), round trip = pong received − ping sent. Paths: `udp` raw UDP sockets, answered on the reader goroutine (the floor); `pion` bare pion data channels (negotiated, unordered, maxRetransmits 0, OnMessage), a full mesh; `lyn-webrtc` lyn's Mesh and netcode.Transport (a one-frame input message with the 32-byte input, decoded on the game goroutine woken by Arrived); `lyn-udp` the same over lyn's UDP transport. The paths of one row group are open together and take turns in slices (a burst of load from the machine's other jobs falls on all of them); a ping whose pong is not back 50 ms after its slice counts as lost. CPU and allocations are per message sent (pings and pongs), the whole process.")
	fmt.Fprintln(w)
	var rows [][]string
	for _, r := range rep.Latency {
		rows = append(rows, []string{r.Path, r.Mode, fmt.Sprint(r.Peers),
			f0(r.OneWay.P50), f0(r.OneWay.P90), f0(r.OneWay.P99), f0(r.OneWay.P999), f0(r.OneWay.Max),
			f0(r.RTT.P50), f0(r.RTT.P90), f0(r.RTT.P99), f0(r.RTT.P999), f0(r.RTT.Max),
			fmt.Sprint(r.RTT.N), fmt.Sprint(r.Lost), f1(r.CPUPerMsg), f1(r.AllocsMsg), errCell(r.Err)})
	}
	mdTable(w, []string{"path", "mode", "peers", "one-way p50 µs", "p90", "p99", "p99.9", "max",
		"RTT p50 µs", "p90", "p99", "p99.9", "max", "round trips", "lost", "CPU µs/msg", "allocs/msg", ""}, rows)
	if len(plots) > 0 {
		fmt.Fprintln(w, "The CDFs are drawn up to 1.5 × the largest p99.9 of the plot: the rarer stalls (see max) would squeeze every curve to the left.")
		fmt.Fprintln(w)
	}
	for _, k := range []string{"latency-paced60", "latency-b2b"} {
		if f, ok := plots[k]; ok {
			fmt.Fprintf(w, "![%s](%s)\n\n", k, f)
		}
	}
}

func writeBandwidth(w io.Writer, rep *Report, plots map[string]string) {
	if len(rep.Bandwidth) == 0 {
		return
	}
	fmt.Fprintln(w, "## 2. Bandwidth")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A real rollback session of the reference game (`rollbacktest.NewGame`) per player, each on its own goroutine at 60 Hz of real time. `lyn-webrtc`: joined through the signaling server, every player's pion sockets wrapped by a counting `transport.Net` (internal/countnet), so every datagram is counted: DTLS, SCTP DATA and SACKs, STUN keepalives. `lyn-udp`: lyn's UDP transport's own datagram counters. `pion-32B`: two bare pion peers sending 32 bytes at 60 Hz (reference). Bytes = UDP payload + 28 (IPv4 + UDP headers) per datagram; 1 KiB = 1024 B. `held`: each player holds one button combination all game; `mashed`: a new random combination every frame. Upload per peer is to all its peers; per link is that divided by the other players (one direction of one pair). \"SACK alone\": 65-byte DTLS datagrams, an SCTP packet holding one SACK chunk and nothing else (pion/sctp acknowledges every second DATA packet this way rather than bundling the SACK with its own DATA); a DATA datagram is 28 IPv4+UDP + 37 DTLS + 12 SCTP + 16 DATA chunk header + the message padded to 4 bytes.")
	fmt.Fprintln(w)
	var rows [][]string
	for _, r := range rep.Bandwidth {
		rows = append(rows, []string{r.Path, r.Inputs, fmt.Sprint(r.Players), f2(r.UpKiBps), f2(r.PerLinkKiBps), f2(r.PerLink60),
			f1(r.DatagramsPerSec), f1(r.SACKPerSec), f1(r.STUNPerSec), f1(r.BytesPerDatagram), f1(r.LynBytesPerPacket), f1(r.FramesPerSec), f1(r.RollbacksPerSec), f1(r.CPUPercent), errCell(r.Err)})
	}
	rows = append(rows, []string{"fortress-rollback (published)", "?", "2", "", "4.73", "", "", "", "", "", "", "", "", "", "anchor, LAN"},
		[]string{"fortress-rollback (published)", "?", "2", "", "5.86", "", "", "", "", "", "", "", "", "", "anchor, 100 ms RTT, 5 % loss"})
	mdTable(w, []string{"path", "inputs", "players", "upload KiB/s per peer", "per link KiB/s", "per link at 60.0 frames/s", "datagrams/s per peer", "of which SACK alone", "STUN", "wire B/datagram", "lyn B/packet", "frames/s", "rollbacks/s", "CPU % per peer", ""}, rows)
	if f, ok := plots["bandwidth"]; ok {
		fmt.Fprintf(w, "![bandwidth](%s)\n\n", f)
	}
}

func writeConnect(w io.Writer, rep *Report) {
	if len(rep.Connect) == 0 {
		return
	}
	fmt.Fprintln(w, "## 3. Connect time")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A `signaling.Server` on 127.0.0.1, a fresh room per trial; two goroutines call `netcode.Join`; the clock stops when both sessions' AdvanceFrame has advanced a frame (first input exchanged), each loop ticking every 1 ms; it starts at the offerer's CreateOffer (from `NetStats().Timeline`) or, in the second pair of columns, before the first Join call (signaling included). `pion-defaults` sets `netcode.Config.PionTimings` (pion's stock candidate waits, 1 s DTLS retransmission, HelloVerify, no SCTP SNAP or zero checksum); `lyn` is the default tuning. Milliseconds.")
	fmt.Fprintln(w)
	var rows [][]string
	for _, r := range rep.Connect {
		rows = append(rows, []string{r.Tuning, fmt.Sprintf("%d (%d failed)", r.Trials, r.Failed),
			f1(r.OfferToInput.P50), f1(r.OfferToInput.P90), f1(r.Running.P50), f1(r.Running.P90), f1(r.Running.Max), f1(r.Joined.P50), f1(r.WebRTC.P50), f1(r.WebRTC.P90), errCell(r.Err)})
	}
	mdTable(w, []string{"tuning", "trials", "first offer → first input p50 ms", "p90", "first Join call → first input p50", "p90", "max", "both Joins returned p50", "offer → channels open p50", "p90", ""}, rows)
}

func writeEngine(w io.Writer, rep *Report, plots map[string]string) {
	if len(rep.Engine) == 0 {
		return
	}
	fmt.Fprintln(w, "## 4. Engine cost")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "rollback.Session for every peer of the game (`reference`: rollbacktest's reference game, a few integers per player; `demo`: demo-game/sim, the demo's arena with bodies, dashes and rounds) in one goroutine, lock step on a fake clock over rollbacktest's in-memory network (allocation-free once warm), every message delayed `depth` frames and every input different from the last, so every prediction misses and every frame rolls back about `depth` frames (depth 0: held inputs, no rollback). CPU per frame per peer includes the transport and the game's Save/Load/Advance. Overhead is the CPU above the depth-0 row with as many players.")
	fmt.Fprintln(w)
	var rows [][]string
	for _, r := range rep.Engine {
		rows = append(rows, []string{r.Game, fmt.Sprint(r.Players), fmt.Sprint(r.Depth), f2(r.MeasuredDepth), f2(r.RollbacksPerFrame),
			f2(r.NsPerFrame / 1e3), f2(r.OverheadNs / 1e3), f1(r.AllocsPerFrame), f0(r.BytesPerFrame), errCell(r.Err)})
	}
	mdTable(w, []string{"game", "players", "depth", "measured depth", "rollbacks/frame", "CPU µs/frame/peer", "overhead µs", "allocs/frame", "alloc B/frame", ""}, rows)
	if f, ok := plots["engine"]; ok {
		fmt.Fprintf(w, "![engine cost](%s)\n\n", f)
	}
}

func writeImpair(w io.Writer, rep *Report, plots map[string]string) {
	if len(rep.Impairment) == 0 {
		return
	}
	fmt.Fprintln(w, "## 5. Impairment sweep")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "rollbacktest's runner drives every peer's rollback.Session of the reference game (ReferenceInput) on a fake clock, each through a real netcode.Transport (lyn's wire encoding and decoding) over a simulated datagram network: one-way delay RTT/2 ± jitter (uniform), loss on the unreliable input channel, the control channel delayed but reliable. Virtual time, so a run of thousands of frames takes well under a second. Depth is over every rollback of every peer (frames re-simulated); stalled is the share of peer ticks that could not advance (prediction limit of 8 frames, or before sync). Afterwards the runner checks that every peer confirmed every frame, every confirmed input equals the one its player gave, and every checksum agrees (desyncs must be 0, inputs delivered must be all). Bandwidth: lyn's bytes + 28 B IPv4/UDP per packet (lyn over UDP on the wire; over WebRTC add about 65 B DTLS/SCTP per packet and SACKs).")
	fmt.Fprintln(w)
	var rows [][]string
	for _, r := range rep.Impairment {
		rows = append(rows, []string{fmt.Sprint(r.Players), fmt.Sprint(r.RTTms), fmt.Sprintf("%g", r.LossPct), f1(r.JitterMs), fmt.Sprint(r.Frames),
			f0(r.Depth.P50), f0(r.Depth.P99), f0(r.Depth.Max), f2(r.RollbacksPerFrame), f1(r.StalledPct), fmt.Sprint(r.Desyncs),
			fmt.Sprintf("%d/%d", r.InputsChecked, r.InputsExpected), map[bool]string{true: "yes", false: "NO"}[r.AllDelivered], f2(r.UpKiBps), errCell(r.Err)})
	}
	mdTable(w, []string{"players", "RTT ms", "loss %", "jitter ± ms", "frames", "depth p50", "p99", "max", "rollbacks/frame", "stalled %", "desyncs", "inputs checked", "all delivered", "KiB/s per peer", ""}, rows)
	for _, k := range []string{"impair-2", "impair-4"} {
		if f, ok := plots[k]; ok {
			fmt.Fprintf(w, "![%s](%s)\n\n", k, f)
		}
	}
}

func writeScale(w io.Writer, rep *Report) {
	if len(rep.Scale) == 0 {
		return
	}
	fmt.Fprintln(w, "## 6. Scale")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every player (`netcode.Join`) and spectator (`netcode.JoinSpectator`, following the host) a WebRTC peer in this one process, each on its own goroutine at 60 Hz with reference inputs; CPU is the process's over the window divided by participants (so each peer's share of pion, the GC and the game). On this 2-core machine 100 % is one core.")
	fmt.Fprintln(w)
	var rows [][]string
	for _, r := range rep.Scale {
		rows = append(rows, []string{fmt.Sprint(r.Players), fmt.Sprint(r.Spectators), f1(r.CPUPercent), f1(r.CPUPerFrameUs), f0(r.AllocsPerFrame), f1(r.FramesPerSec), errCell(r.Err)})
	}
	mdTable(w, []string{"players", "spectators", "CPU % per peer", "CPU µs per frame", "allocs per frame", "frames/s per player", ""}, rows)
}

// latencyComparisons sets lyn's paths beside their baselines for every
// mode and mesh size: lyn over WebRTC against bare pion (what lyn adds on
// top of pion), lyn over UDP against raw UDP (what lyn adds to a socket).
func latencyComparisons(rep *Report) [][]string {
	type key struct {
		path, mode string
		peers      int
	}
	byKey := map[key]LatencyRow{}
	var order []key
	for _, r := range rep.Latency {
		if r.Err != "" || r.RTT.N == 0 {
			continue
		}
		k := key{r.Path, r.Mode, r.Peers}
		byKey[k] = r
		if r.Path == "lyn-webrtc" || r.Path == "lyn-udp" {
			order = append(order, k)
		}
	}
	var rows [][]string
	for _, k := range order {
		base := "pion"
		if k.path == "lyn-udp" {
			base = "udp"
		}
		b, ok := byKey[key{base, k.mode, k.peers}]
		if !ok {
			continue
		}
		l := byKey[k]
		rows = append(rows, []string{fmt.Sprintf("%s vs %s, %s, %d peers, round trip", k.path, base, k.mode, k.peers),
			fmt.Sprintf("p50 %+.0f µs (%.2f×), p99 %+.0f µs (%.2f×)", l.RTT.P50-b.RTT.P50, l.RTT.P50/b.RTT.P50, l.RTT.P99-b.RTT.P99, l.RTT.P99/b.RTT.P99)})
	}
	return rows
}
