//go:build !js

// Command bench measures lyn against raw UDP and bare pion on this machine,
// everything side by side in one run (these machines are shared and noisy:
// ratios within a run are what count), and writes a report with tables and
// plots:
//
//	go run ./bench                        # every phase, about 3 minutes on 2 cores
//	go run ./bench -full                  # longer windows, more trials and frames
//	go run ./bench -only latency,connect  # some phases
//	go run ./bench -out /tmp/run          # report.md, report.json and PNGs there
//	go run ./bench -compare old.json new.json
//
// Phases: latency, bandwidth, connect, engine, impairment, scale (see
// bench/README.md). Every measurement is bounded in count and time and sends
// traffic only to loopback or a simulated network. Progress goes to stderr.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// phases, in the order they run.
var phases = []string{"latency", "bandwidth", "connect", "engine", "impairment", "scale"}

// settings size every phase; defaultSettings is the ~3-minute run.
type settings struct {
	latencyWarm, latencyWindow, b2bWindow time.Duration
	// latencyWindow2p is the paced window with 2 peers, longer because 2
	// peers make fewer samples per second (120 round trips).
	latencyWindow2p               time.Duration
	latencyPeers                  []int
	latencySlices                 int
	bandwidthWindow               time.Duration
	bandwidthPlayers              []int
	bandwidthInputs               []string
	connectTrials                 int
	connectBudget                 time.Duration
	enginePlayers, engineDepths   []int
	engineFrames                  int
	impairPlayers                 []int
	impairRTTs                    []time.Duration
	impairLosses                  []float64
	impairFrames                  int
	scaleWindow                   time.Duration
	scalePlayers, scaleSpectators []int
}

func defaultSettings(full bool) settings {
	s := settings{
		latencyWarm: 500 * time.Millisecond, latencyWindow: 2500 * time.Millisecond, latencyWindow2p: 6 * time.Second, b2bWindow: 1500 * time.Millisecond,
		latencyPeers: []int{2, 4, 8}, latencySlices: 5,
		bandwidthWindow: 2 * time.Second, bandwidthPlayers: []int{2, 4, 8}, bandwidthInputs: []string{inputsHeld, inputsMashed},
		connectTrials: 20, connectBudget: 30 * time.Second,
		enginePlayers: []int{2, 4, 8}, engineDepths: []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, engineFrames: 5000,
		impairPlayers: []int{2, 4},
		impairRTTs:    []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond},
		impairLosses:  []float64{0, 0.01, 0.05, 0.10, 0.20},
		impairFrames:  3000,
		scaleWindow:   2 * time.Second, scalePlayers: []int{2, 4, 8}, scaleSpectators: []int{0, 2},
	}
	if full {
		s.latencyWindow, s.latencyWindow2p, s.b2bWindow = 20*time.Second, 40*time.Second, 10*time.Second
		s.bandwidthWindow = 10 * time.Second
		s.connectTrials, s.connectBudget = 50, 2*time.Minute
		s.engineFrames = 20000
		s.impairFrames = 10000
		s.scaleWindow = 10 * time.Second
	}
	return s
}

func (s settings) describe() map[string]string {
	ints := func(v []int) string { return strings.Trim(fmt.Sprint(v), "[]") }
	return map[string]string{
		"latency":    fmt.Sprintf("warm-up %v, paced window %v (2 peers: %v), back-to-back window %v, peers %s, paths in turns of %d slices", s.latencyWarm, s.latencyWindow, s.latencyWindow2p, s.b2bWindow, ints(s.latencyPeers), s.latencySlices),
		"bandwidth":  fmt.Sprintf("window %v after start + 300 ms settle, players %s", s.bandwidthWindow, ints(s.bandwidthPlayers)),
		"connect":    fmt.Sprintf("%d trials per tuning (budget %v)", s.connectTrials, s.connectBudget),
		"engine":     fmt.Sprintf("%d frames after 300 warm-up, players %s, depths %s", s.engineFrames, ints(s.enginePlayers), ints(s.engineDepths)),
		"impairment": fmt.Sprintf("%d frames, players %s, RTT %v, loss %v", s.impairFrames, ints(s.impairPlayers), s.impairRTTs, s.impairLosses),
		"scale":      fmt.Sprintf("window %v, players %s, spectators %s", s.scaleWindow, ints(s.scalePlayers), ints(s.scaleSpectators)),
	}
}

func main() {
	only := flag.String("only", "", "comma-separated phases to run: "+strings.Join(phases, ","))
	full := flag.Bool("full", false, "longer windows, more trials and frames (about 15 minutes)")
	out := flag.String("out", "", "directory for report.md, report.json and the plots (default bench/results/<date>-<host>)")
	compare := flag.Bool("compare", false, "compare two report.json files given as arguments: -compare old.json new.json")
	note := flag.String("note", "", "a note for the methodology, e.g. what else the machine was running")
	threshold := flag.Float64("threshold", 0.10, "with -compare, mark changes of at least this fraction")
	flag.Parse()
	if *compare {
		if flag.NArg() != 2 {
			fmt.Fprintln(os.Stderr, "bench: -compare needs two report.json files: -compare old.json new.json")
			os.Exit(2)
		}
		if err := compareFiles(os.Stdout, flag.Arg(0), flag.Arg(1), *threshold); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	run, err := parsePhases(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	host, _ := os.Hostname()
	dir := *out
	if dir == "" {
		dir = filepath.Join("bench", "results", time.Now().UTC().Format("2006-01-02")+"-"+sanitize(host))
	}
	rep := runBench(run, defaultSettings(*full), *full, os.Stderr)
	rep.Meta.Note = *note
	if err := writeReport(rep, dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", filepath.Join(dir, "report.md"))
	if problems := rep.problems(); len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d problems:\n  %s\n", len(problems), strings.Join(problems, "\n  "))
		os.Exit(1)
	}
}

// parsePhases checks -only.
func parsePhases(only string) ([]string, error) {
	if only == "" {
		return phases, nil
	}
	var run []string
	for p := range strings.SplitSeq(only, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(phases, p) {
			return nil, fmt.Errorf("unknown phase %q (phases: %s)", p, strings.Join(phases, ", "))
		}
		if !slices.Contains(run, p) {
			run = append(run, p)
		}
	}
	return run, nil
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
	if s == "" {
		return "host"
	}
	return s
}

func compareFiles(w io.Writer, oldPath, newPath string, threshold float64) error {
	read := func(p string) (*Report, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, err := readReport(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return r, nil
	}
	a, err := read(oldPath)
	if err != nil {
		return err
	}
	b, err := read(newPath)
	if err != nil {
		return err
	}
	compareReports(w, a, b, threshold)
	return nil
}

// runBench runs the phases in run, printing progress to progress.
func runBench(run []string, s settings, full bool, progress io.Writer) *Report {
	host, _ := os.Hostname()
	start := time.Now()
	rep := &Report{Version: reportVersion, Meta: Methodology{
		Started: start.UTC().Format(time.RFC3339), Host: host, GoVersion: runtime.Version(), Modules: modules(),
		CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), LoadStart: loadAverage(),
		Full: full, Phases: run, Settings: map[string]string{},
	}}
	desc := s.describe()
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "%6.1fs "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
	}
	logf("lyn bench: %s, %d cores, load %s, phases %s", runtime.Version(), runtime.NumCPU(), rep.Meta.LoadStart, strings.Join(run, ","))
	var sig *signalServer
	signal := func() *signalServer {
		if sig == nil {
			sig = newSignalServer()
		}
		return sig
	}
	for _, phase := range run {
		rep.Meta.Settings[phase] = desc[phase]
		logf("[%s] %s", phase, desc[phase])
		switch phase {
		case "latency":
			for _, b2b := range []bool{false, true} {
				peers, window := s.latencyPeers, s.latencyWindow
				if b2b {
					peers, window = []int{2}, s.b2bWindow
				}
				for _, n := range peers {
					w := window
					if n == 2 && !b2b && s.latencyWindow2p > 0 {
						w = s.latencyWindow2p
					}
					for _, r := range measureLatency(latencyPaths(), n, b2b, s.latencyWarm, w, s.latencySlices) {
						rep.Latency = append(rep.Latency, r)
						logf("[latency] %-10s %-7s %dp: RTT p50 %.0f p99 %.0f µs, one-way p50 %.0f µs, %d round trips %s",
							r.Path, r.Mode, r.Peers, r.RTT.P50, r.RTT.P99, r.OneWay.P50, r.RTT.N, r.Err)
					}
				}
			}
		case "bandwidth":
			r := measureBandwidthPion(s.bandwidthWindow)
			rep.Bandwidth = append(rep.Bandwidth, r)
			logf("[bandwidth] %-10s 2p: %.2f KiB/s per link %s", r.Path, r.PerLinkKiBps, r.Err)
			for _, n := range s.bandwidthPlayers {
				for _, inputs := range s.bandwidthInputs {
					for _, path := range []string{"lyn-webrtc", "lyn-udp"} {
						var r BandwidthRow
						if path == "lyn-webrtc" {
							r = measureBandwidthWebRTC(signal(), n, inputs, s.bandwidthWindow)
						} else {
							r = measureBandwidthUDP(n, inputs, s.bandwidthWindow)
						}
						rep.Bandwidth = append(rep.Bandwidth, r)
						logf("[bandwidth] %-10s %-6s %dp: %.2f KiB/s up per peer, %.2f per link %s", r.Path, r.Inputs, r.Players, r.UpKiBps, r.PerLinkKiBps, r.Err)
					}
				}
			}
		case "connect":
			for _, pion := range []bool{true, false} {
				r := measureConnect(signal(), s.connectTrials, pion, s.connectBudget)
				rep.Connect = append(rep.Connect, r)
				logf("[connect] %-13s: offer → first input p50 %.1f ms p90 %.1f ms (from Join: %.1f, %.1f), %d trials, %d failed %s",
					r.Tuning, r.OfferToInput.P50, r.OfferToInput.P90, r.Running.P50, r.Running.P90, r.Trials, r.Failed, r.Err)
			}
		case "engine":
			for _, game := range []string{"reference", "demo"} {
				for _, n := range s.enginePlayers {
					base := 0.0
					for _, d := range s.engineDepths {
						r := measureEngine(game, n, d, s.engineFrames)
						if d == 0 {
							base = r.NsPerFrame
						}
						if base > 0 {
							r.OverheadNs = r.NsPerFrame - base
						}
						rep.Engine = append(rep.Engine, r)
						logf("[engine] %s %dp depth %d: %.2f µs/frame/peer, measured depth %.2f, %.1f allocs/frame %s", game, n, d, r.NsPerFrame/1e3, r.MeasuredDepth, r.AllocsPerFrame, r.Err)
					}
				}
			}
		case "impairment":
			for _, n := range s.impairPlayers {
				for _, rtt := range s.impairRTTs {
					for _, loss := range s.impairLosses {
						r := measureImpair(n, rtt, loss, s.impairFrames, 21)
						rep.Impairment = append(rep.Impairment, r)
						logf("[impairment] %dp RTT %3d ms loss %4.1f %%: depth p50 %.0f p99 %.0f, stalled %.1f %%, desyncs %d, all delivered %v, %.2f KiB/s %s",
							n, r.RTTms, r.LossPct, r.Depth.P50, r.Depth.P99, r.StalledPct, r.Desyncs, r.AllDelivered, r.UpKiBps, r.Err)
					}
				}
			}
		case "scale":
			for _, n := range s.scalePlayers {
				for _, sp := range s.scaleSpectators {
					r := measureScale(signal(), n, sp, s.scaleWindow)
					rep.Scale = append(rep.Scale, r)
					logf("[scale] %dp + %d spectators: %.1f %% CPU per peer, %.1f µs per frame %s", n, sp, r.CPUPercent, r.CPUPerFrameUs, r.Err)
				}
			}
		}
	}
	if sig != nil {
		sig.close()
	}
	rep.Meta.LoadEnd = loadAverage()
	rep.Meta.Seconds = time.Since(start).Seconds()
	logf("done, load %s", rep.Meta.LoadEnd)
	return rep
}

// modules lists the versions of the modules the figures depend on.
func modules() map[string]string {
	m := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return m
	}
	for _, d := range bi.Deps {
		if strings.HasPrefix(d.Path, "github.com/pion/") {
			m[d.Path] = d.Version
		}
	}
	return m
}

// writeReport writes report.json, the plots and report.md into dir.
func writeReport(rep *Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.json"))
	if err != nil {
		return err
	}
	if err := rep.writeJSON(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	plots, err := writePlots(rep, dir)
	if err != nil {
		return err
	}
	md, err := os.Create(filepath.Join(dir, "report.md"))
	if err != nil {
		return err
	}
	writeMarkdown(md, rep, plots)
	return md.Close()
}

// problems lists what went wrong: failed measurements, desyncs, inputs
// not delivered.
func (rep *Report) problems() []string {
	var p []string
	add := func(what, err string) {
		if err != "" {
			p = append(p, what+": "+err)
		}
	}
	for _, r := range rep.Latency {
		add(fmt.Sprintf("latency %s %s %dp", r.Path, r.Mode, r.Peers), r.Err)
	}
	for _, r := range rep.Bandwidth {
		add(fmt.Sprintf("bandwidth %s %s %dp", r.Path, r.Inputs, r.Players), r.Err)
	}
	for _, r := range rep.Connect {
		add("connect "+r.Tuning, r.Err)
	}
	for _, r := range rep.Engine {
		add(fmt.Sprintf("engine %dp depth %d", r.Players, r.Depth), r.Err)
	}
	for _, r := range rep.Impairment {
		what := fmt.Sprintf("impairment %dp RTT %d loss %g", r.Players, r.RTTms, r.LossPct)
		add(what, r.Err)
		if r.Err == "" && (r.Desyncs > 0 || !r.AllDelivered) {
			add(what, fmt.Sprintf("desyncs %d, inputs %d/%d", r.Desyncs, r.InputsChecked, r.InputsExpected))
		}
	}
	for _, r := range rep.Scale {
		add(fmt.Sprintf("scale %dp+%d", r.Players, r.Spectators), r.Err)
	}
	return p
}
