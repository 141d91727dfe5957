//go:build !js

// Command demo-game is lyn's demo: a sumo arena for 2 to 8 players over
// WebRTC with rollback. With no flags it starts a signaling server in
// process, a bot peer behind an emulated 80 ms round trip, and a window:
//
//	go run ./demo-game
//
// See README.md for the modes (-host, -join, -headless, -record, -replay,
// -sync-test) and every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/rollback"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses of run.
const (
	exitOK    = 0
	exitFail  = 1 // the match failed, peers disagreed, a replay did not verify
	exitUsage = 2 // bad flags
)

// options are the parsed command line.
type options struct {
	host, join, room string
	players, bots    int
	spectate         bool
	delay            int
	stun, turn       []webrtc.ICEServer
	relay            bool
	record, replay   string
	headless         bool
	frames           int
	syncTest         bool
	checkDistance    int
	botRTT           time.Duration
	botJitter        time.Duration
	fps              int
	publicIP         string
	turnSecret       string
	overlay          bool
	loopback         bool
	web              bool
	timeout          time.Duration
	logLevel         slog.Level
}

// usageError is a bad command line: run prints it and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// parseFlags parses and checks args.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("demo-game", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var stun, turn listFlag
	var logLevel string
	fs.StringVar(&o.host, "host", "", "host a game: signaling + STUN/TURN + the browser build on this address, e.g. :8080")
	fs.StringVar(&o.join, "join", "", "join the room at this ws:// or wss:// URL, e.g. ws://203.0.113.7:8080/lyn")
	fs.StringVar(&o.room, "room", "lyn", "room name when hosting")
	fs.IntVar(&o.players, "players", 0, "players in the room, 2 to 8 (default 2; embedded: bots+1)")
	fs.IntVar(&o.bots, "bots", 0, "bot peers started in this process (embedded default 1; with -host: extra seats filled by bots)")
	fs.BoolVar(&o.spectate, "spectate", false, "watch instead of playing")
	fs.IntVar(&o.delay, "delay", 0, fmt.Sprintf("input delay in frames, 0 to %d", rollback.MaxInputDelay))
	fs.Var(&stun, "stun", "STUN servers, stun:host:port (comma-separated or repeated)")
	fs.Var(&turn, "turn", "extra TURN servers, turn:user:pass@host:port[?transport=udp] (comma-separated or repeated; the signaling server's own STUN/TURN come with its welcome)")
	fs.BoolVar(&o.relay, "relay", false, "relay only: every connection goes through TURN")
	fs.StringVar(&o.record, "record", "", "record the match to this file")
	fs.StringVar(&o.replay, "replay", "", "replay a recorded match, checking its checksums")
	fs.BoolVar(&o.headless, "headless", false, "no window: bots play every local seat; prints stats and the final checksum")
	fs.IntVar(&o.frames, "frames", 0, "frames to play (-headless and -sync-test default 600; in the window the match stops there, default endless)")
	fs.BoolVar(&o.syncTest, "sync-test", false, "run the game under rollback's sync-test and report the first nondeterministic frame")
	fs.IntVar(&o.checkDistance, "check-distance", rollback.DefaultCheckDistance, "frames the sync-test simulates again every frame, 1 to 64")
	fs.DurationVar(&o.botRTT, "bot-rtt", 80*time.Millisecond, "round trip added to the bots' network (embedded and -host bots)")
	fs.DurationVar(&o.botJitter, "bot-jitter", 0, "random extra delay on the bots' network, each way")
	fs.IntVar(&o.fps, "fps", sim.TicksPerSecond, "ticks per second of headless peers (the game is designed for 60)")
	fs.StringVar(&o.publicIP, "public-ip", "", "with -host: the IPv4 address friends reach this machine at (default: the first non-loopback address)")
	fs.StringVar(&o.turnSecret, "turn-secret", os.Getenv("LYN_TURN_SECRET"), "with -host: TURN REST secret (default: a random one; env LYN_TURN_SECRET)")
	fs.BoolVar(&o.overlay, "overlay", false, "start with the F3 overlay shown")
	fs.BoolVar(&o.web, "web", true, "with -host: serve the browser build at / (built with the Go toolchain on first use, then cached)")
	fs.BoolVar(&o.loopback, "loopback", false, "with -host or -join: keep WebRTC on the loopback interface (everyone on this machine; tests)")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up a headless run after this long (default: generous, from -frames)")
	fs.StringVar(&logLevel, "log-level", "error", "debug, info, warn or error (pion warns a lot when connections close)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	if err := o.logLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return nil, usagef("-log-level %q: want debug, info, warn or error", logLevel)
	}
	var err error
	if o.stun, err = parseICEServers(stun, "stun"); err != nil {
		return nil, err
	}
	if o.turn, err = parseICEServers(turn, "turn"); err != nil {
		return nil, err
	}
	return o, o.check(fs)
}

// check rejects values and combinations that cannot work, and fills in
// the defaults that depend on the mode.
func (o *options) check(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	modes := 0
	for _, m := range []bool{o.host != "", o.join != "", o.replay != "", o.syncTest} {
		if m {
			modes++
		}
	}
	if modes > 1 {
		return usagef("-host, -join, -replay and -sync-test exclude each other")
	}
	if o.host != "" && !strings.Contains(o.host, ":") {
		return usagef("-host %q: want host:port or :port", o.host)
	}
	if o.join != "" {
		if !strings.HasPrefix(o.join, "ws://") && !strings.HasPrefix(o.join, "wss://") {
			return usagef("-join %q: want a ws:// or wss:// room URL", o.join)
		}
		if set["bots"] {
			return usagef("-bots starts bots in this process; it goes with the embedded game or -host, not -join")
		}
	}
	if !roomNameRE.MatchString(o.room) {
		return usagef("-room %q: want 1 to 64 of A-Z a-z 0-9 . _ -", o.room)
	}
	if set["players"] && (o.players < 2 || o.players > sim.MaxPlayers) {
		return usagef("-players %d: want 2 to %d", o.players, sim.MaxPlayers)
	}
	if set["bots"] && (o.bots < 0 || o.bots > sim.MaxPlayers) {
		return usagef("-bots %d: want 0 to %d", o.bots, sim.MaxPlayers)
	}
	if o.delay < 0 || o.delay > rollback.MaxInputDelay {
		return usagef("-delay %d: want 0 to %d frames", o.delay, rollback.MaxInputDelay)
	}
	if o.frames < 0 {
		return usagef("-frames %d: want a positive number", o.frames)
	}
	if o.checkDistance < 1 || o.checkDistance > 64 {
		return usagef("-check-distance %d: want 1 to 64", o.checkDistance)
	}
	if o.botRTT < 0 || o.botRTT > 2*time.Second {
		return usagef("-bot-rtt %v: want 0 to 2s", o.botRTT)
	}
	if o.botJitter < 0 || o.botJitter > time.Second {
		return usagef("-bot-jitter %v: want 0 to 1s", o.botJitter)
	}
	if o.fps < 10 || o.fps > 1000 {
		return usagef("-fps %d: want 10 to 1000", o.fps)
	}
	if o.timeout < 0 {
		return usagef("-timeout %v: want a positive duration", o.timeout)
	}
	if o.record != "" && (o.replay != "" || o.syncTest) {
		return usagef("-record records a network match; not with -replay or -sync-test")
	}
	netFlags := []string{"players", "bots", "spectate", "delay", "stun", "turn", "relay", "bot-rtt", "bot-jitter", "public-ip", "turn-secret", "room"}
	if o.replay != "" || o.syncTest {
		for _, f := range netFlags {
			if set[f] && !(o.syncTest && f == "players") {
				return usagef("-%s has no meaning with -replay or -sync-test", f)
			}
		}
	}
	if set["loopback"] && o.host == "" && o.join == "" {
		return usagef("-loopback goes with -host or -join (the embedded game is on loopback anyway)")
	}
	if (set["public-ip"] || set["turn-secret"] || set["room"] || set["web"]) && o.host == "" {
		return usagef("-public-ip, -turn-secret, -room and -web go with -host")
	}
	if o.host == "" && o.join == "" && (len(o.stun) > 0 || len(o.turn) > 0) {
		return usagef("-stun and -turn go with -host or -join (the embedded game stays on this machine)")
	}

	// Mode-dependent defaults.
	embedded := modes == 0
	switch {
	case embedded:
		if !set["bots"] {
			o.bots = 1
			if o.spectate || o.headless {
				o.bots = 2
			}
			if set["players"] {
				o.bots = o.players - 1
				if o.spectate || o.headless {
					o.bots = o.players
				}
			}
		}
		if o.headless && o.spectate {
			return usagef("-headless runs bots on every seat; -spectate needs a window (or -join)")
		}
		want := o.bots + 1
		if o.spectate || o.headless {
			want = o.bots
		}
		if set["players"] && o.players != want {
			return usagef("-players %d and -bots %d disagree (embedded: players = bots + 1, or bots when headless or spectating)", o.players, o.bots)
		}
		o.players = want
		if o.players < 2 || o.players > sim.MaxPlayers {
			return usagef("-bots %d makes %d players: want 2 to %d", o.bots, o.players, sim.MaxPlayers)
		}
	case o.host != "" || o.join != "":
		// A spectator joining takes the room's size unless told.
		if o.players == 0 && (o.join == "" || !o.spectate) {
			o.players = 2
		}
		if o.host != "" && o.bots > o.players-1 {
			return usagef("-bots %d: a room of %d players has %d seats besides the host", o.bots, o.players, o.players-1)
		}
	case o.syncTest:
		if o.players == 0 {
			o.players = 2
		}
	}
	if o.frames == 0 && (o.headless || o.syncTest) && o.replay == "" {
		o.frames = 600
	}
	return nil
}

// roomNameRE is what the signaling server accepts as a room name.
var roomNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// parseICEServers parses -stun or -turn values. A TURN URL may carry its
// credentials as turn:user:pass@host:port.
func parseICEServers(list []string, scheme string) ([]webrtc.ICEServer, error) {
	var out []webrtc.ICEServer
	for _, s := range list {
		sch := scheme
		rest, ok := strings.CutPrefix(s, sch+":")
		if !ok {
			sch += "s"
			if rest, ok = strings.CutPrefix(s, sch+":"); !ok {
				return nil, usagef("-%s %q: want a %s: or %ss: URL", scheme, s, scheme, scheme)
			}
		}
		srv := webrtc.ICEServer{}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if scheme != "turn" {
				return nil, usagef("-stun %q: STUN takes no credentials", s)
			}
			user, pass, ok := strings.Cut(rest[:at], ":")
			if !ok || user == "" || pass == "" {
				return nil, usagef("-turn %q: credentials go as user:pass@host:port", s)
			}
			srv.Username, srv.Credential = user, pass
			rest = rest[at+1:]
		}
		if scheme == "turn" && srv.Username == "" {
			return nil, usagef("-turn %q: a TURN server needs user:pass@ (the signaling server's own TURN comes with its welcome, credentials included)", s)
		}
		hostPort, _, _ := strings.Cut(rest, "?")
		if hostPort == "" || strings.ContainsAny(hostPort, "/ @") {
			return nil, usagef("-%s %q: want %s:host:port", scheme, s, sch)
		}
		srv.URLs = []string{sch + ":" + rest}
		out = append(out, srv)
	}
	return out, nil
}

// run runs the demo with args (without the program name) and returns the
// exit status. Everything it starts has stopped when it returns.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "demo-game:", err)
		fmt.Fprintln(stderr, "run with -h for the flags")
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	r := &runner{o: o, stdout: stdout, stderr: stderr, log: logger}
	if err := r.run(ctx); err != nil {
		fmt.Fprintln(stderr, "demo-game:", err)
		return exitFail
	}
	return exitOK
}
