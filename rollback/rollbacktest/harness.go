package rollbacktest

import (
	"errors"
	"fmt"
	"time"

	"github.com/lynnet/lyn/rollback"
)

// RunConfig describes a run of several peer-to-peer sessions over one
// in-memory Network. The zero value of every field but NewGame and Input is a
// sensible default; ReferenceRun fills those two with the reference game.
type RunConfig[I comparable] struct {
	// Peers is the number of peers (default 2); PlayersPerPeer the players
	// each hosts (default 1; more is couch play).
	Peers, PlayersPerPeer int
	// Frames is how many frames every live peer must confirm (default 2000).
	Frames int
	// MaxTicks bounds the run (default 20 × Frames + 1000).
	MaxTicks int
	// Seed seeds the network's chaos.
	Seed uint64
	// Chaos applies to every link.
	Chaos Chaos
	// Spectators is how many spectator ids peer 0 accepts; start each with
	// Runner.StartSpectator.
	Spectators int
	// Session is the template of every peer's rollback.Config: Players,
	// Self, Spectators and Clock are filled in by the runner, which records
	// every peer itself; a Recorder set here also receives peer 0's frames
	// (a replay.Writer, say).
	Session rollback.Config[I]
	// NewGame makes one peer's game.
	NewGame func(players int) rollback.Game[I]
	// Input is the input player p gives for frame f (the frame it will take
	// effect at, that is Frame()+InputDelay() when it is added). A function
	// of the frame, not of the tick, so the run can check that each input
	// arrived intact where it belongs.
	Input func(p rollback.Player, f rollback.Frame) I
	// Transport, if set, gives peer i (id PeerID(i)) its transport instead
	// of the in-memory network: real UDP or WebRTC in netcode's tests.
	// Chaos, cuts and spectators then do not apply.
	Transport func(i int, id rollback.PeerID) rollback.Transport[I]
	// TickSleep is real time slept after every tick, for transports whose
	// packets take real time to arrive. The clock stays the fake one: give
	// such runs a generous Session.DisconnectTimeout.
	TickSleep time.Duration
	// OnTick, if set, runs before every tick: cut links, crash peers,
	// change input delays.
	OnTick func(r *Runner[I], tick int) error
}

// Result is what a run observed.
type Result struct {
	Ticks int
	// Confirmed is every peer's confirmed frame at the end.
	Confirmed []rollback.Frame
	// ChecksumsCompared counts (frame, peer pair) checksum comparisons made
	// from the peers' recordings; all of them agreed unless err says not.
	ChecksumsCompared int
	// InputsChecked counts recorded inputs checked against Input.
	InputsChecked int
	// Stats are every peer's session stats at the end.
	Stats []rollback.Stats
	// Events are every peer's events, in order.
	Events [][]rollback.Event
	// Checksums are the confirmed checksums of the first live peer, by frame.
	Checksums map[rollback.Frame]uint64
}

// ErrRunTooLong is returned when a run does not confirm Frames frames
// within MaxTicks ticks.
var ErrRunTooLong = errors.New("rollbacktest: run did not finish in time")

// MismatchError says two peers confirmed different things for one frame.
type MismatchError struct {
	Frame        rollback.Frame
	What         string // "checksum", "input of player N", …
	PeerA, PeerB int    // PeerB is -1 when A is compared with RunConfig.Input
	A, B         any
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("rollbacktest: frame %d: %s differs: peer %d has %v, peer %d has %v", e.Frame, e.What, e.PeerA, e.A, e.PeerB, e.B)
}

// Runner drives the sessions of a run tick by tick; Run does it to the end.
type Runner[I comparable] struct {
	cfg        RunConfig[I]
	Clock      *FakeClock
	Net        *Network[I]
	Sessions   []*rollback.Session[I]
	Spectators []*rollback.Spectator[I]
	recs       []*recording[I]
	crashed    []bool
	held       []int
	delayMoved []bool // the peer's input delay changed at some point
	events     [][]rollback.Event
	specEvents [][]rollback.Event
	tick       int
	frameTime  time.Duration
}

// PeerID returns the id of peer i (ids start at 1 so that 0 means nothing).
func PeerID(i int) rollback.PeerID { return rollback.PeerID(i + 1) }

// SpectatorID returns the id of spectator k.
func SpectatorID(k int) rollback.PeerID { return rollback.PeerID(1000 + k) }

// ReferenceRun returns a RunConfig for the reference game with inputs from
// ReferenceInput(seed).
func ReferenceRun(peers int, seed uint64) RunConfig[Input] {
	return RunConfig[Input]{
		Peers:   peers,
		Seed:    seed,
		NewGame: func(players int) rollback.Game[Input] { return NewGame(players, seed) },
		Input:   ReferenceInput(seed),
	}
}

// ReferenceInput returns a pure function of (player, frame) that looks like
// play: each player holds a combination of buttons for 1 to 12 frames.
func ReferenceInput(seed uint64) func(rollback.Player, rollback.Frame) Input {
	return func(p rollback.Player, f rollback.Frame) Input {
		// Segments of varying length: hash the segment index, not the frame.
		seg := uint64(f) / 6
		h := mix64(seed ^ uint64(p)*0x9e3779b97f4a7c15 ^ seg*0xbf58476d1ce4e5b9)
		if h&7 == 0 { // sometimes change mid-segment, so predictions miss
			h = mix64(h ^ uint64(f))
		}
		return Input(h) & (Up | Down | Left | Right | Action)
	}
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// NewRunner builds the network and every peer's session.
func NewRunner[I comparable](cfg RunConfig[I]) (*Runner[I], error) {
	if cfg.NewGame == nil || cfg.Input == nil {
		return nil, errors.New("rollbacktest: RunConfig needs NewGame and Input")
	}
	if cfg.Peers == 0 {
		cfg.Peers = 2
	}
	if cfg.PlayersPerPeer == 0 {
		cfg.PlayersPerPeer = 1
	}
	if cfg.Frames == 0 {
		cfg.Frames = 2000
	}
	if cfg.MaxTicks == 0 {
		cfg.MaxTicks = 20*cfg.Frames + 1000
	}
	rate := cfg.Session.FrameRate
	if rate == 0 {
		rate = rollback.DefaultFrameRate
	}
	r := &Runner[I]{
		cfg:        cfg,
		Clock:      NewFakeClock(time.Unix(1_700_000_000, 0)),
		frameTime:  time.Second / time.Duration(rate),
		crashed:    make([]bool, cfg.Peers),
		held:       make([]int, cfg.Peers),
		delayMoved: make([]bool, cfg.Peers),
		events:     make([][]rollback.Event, cfg.Peers),
	}
	r.Net = NewNetwork[I](NetworkConfig{Clock: r.Clock, Seed: cfg.Seed, Chaos: cfg.Chaos})
	var players []rollback.PeerID
	for i := range cfg.Peers {
		for range cfg.PlayersPerPeer {
			players = append(players, PeerID(i))
		}
	}
	for i := range cfg.Peers {
		sc := cfg.Session
		sc.Players, sc.Self, sc.Clock = players, PeerID(i), r.Clock
		sc.Spectators = nil
		if i == 0 {
			for k := range cfg.Spectators {
				sc.Spectators = append(sc.Spectators, SpectatorID(k))
			}
		}
		rec := newRecording[I](len(players))
		sc.Recorder = rec
		if i == 0 && cfg.Session.Recorder != nil {
			sc.Recorder = teeRecorder[I]{rec, cfg.Session.Recorder}
		}
		var tr rollback.Transport[I] = r.Net.Endpoint(PeerID(i))
		if cfg.Transport != nil {
			tr = cfg.Transport(i, PeerID(i))
		}
		s, err := rollback.NewSession(sc, cfg.NewGame(len(players)), tr)
		if err != nil {
			return nil, err
		}
		r.Sessions = append(r.Sessions, s)
		r.recs = append(r.recs, rec)
	}
	r.Spectators = make([]*rollback.Spectator[I], cfg.Spectators)
	r.specEvents = make([][]rollback.Event, cfg.Spectators)
	return r, nil
}

// StartSpectator starts spectator k now, following peer 0.
func (r *Runner[I]) StartSpectator(k int, cfg rollback.SpectatorConfig[I]) (*rollback.Spectator[I], error) {
	cfg.Players, cfg.Host, cfg.Clock = r.cfg.Session.Players, PeerID(0), r.Clock
	if cfg.Players == nil {
		for i := range r.cfg.Peers {
			for range r.cfg.PlayersPerPeer {
				cfg.Players = append(cfg.Players, PeerID(i))
			}
		}
	}
	sp, err := rollback.NewSpectator(cfg, r.cfg.NewGame(len(cfg.Players)), r.Net.Endpoint(SpectatorID(k)))
	if err != nil {
		return nil, err
	}
	r.Spectators[k] = sp
	return sp, nil
}

// Crash stops driving peer i and cuts it off the network, as if its machine
// died.
func (r *Runner[I]) Crash(i int) {
	r.crashed[i] = true
	r.Net.SetPeerDown(PeerID(i), true)
}

// Hold skips peer i's next n ticks, as a machine that stalls or starts late.
func (r *Runner[I]) Hold(i, n int) { r.held[i] += n }

// Crashed reports whether peer i was crashed.
func (r *Runner[I]) Crashed(i int) bool { return r.crashed[i] }

// Tick advances the clock by one frame time and runs one AdvanceFrame on
// every live peer and spectator.
func (r *Runner[I]) Tick() error {
	if r.cfg.OnTick != nil {
		if err := r.cfg.OnTick(r, r.tick); err != nil {
			return err
		}
	}
	r.Clock.Advance(r.frameTime)
	for i, s := range r.Sessions {
		if r.crashed[i] {
			continue
		}
		if r.held[i] > 0 {
			r.held[i]--
			continue
		}
		if s.InputDelay() != r.cfg.Session.InputDelay {
			r.delayMoved[i] = true
		}
		target := s.Frame() + rollback.Frame(s.InputDelay())
		for _, p := range s.LocalPlayers() {
			if err := s.AddLocalInput(p, r.cfg.Input(p, target)); err != nil {
				return err
			}
		}
		err := s.AdvanceFrame()
		r.events[i] = s.Events(r.events[i])
		if err != nil && !errors.Is(err, rollback.ErrNotSynchronized) && !errors.Is(err, rollback.ErrPredictionLimit) {
			return fmt.Errorf("peer %d tick %d: %w", i, r.tick, err)
		}
	}
	for k, sp := range r.Spectators {
		if sp == nil {
			continue
		}
		err := sp.AdvanceFrame()
		r.specEvents[k] = sp.Events(r.specEvents[k])
		if err != nil && !errors.Is(err, rollback.ErrCatchingUp) {
			return fmt.Errorf("spectator %d tick %d: %w", k, r.tick, err)
		}
	}
	r.tick++
	if r.cfg.TickSleep > 0 {
		time.Sleep(r.cfg.TickSleep)
	}
	return nil
}

// Events returns every event peer i has reported so far.
func (r *Runner[I]) Events(i int) []rollback.Event { return r.events[i] }

// SpectatorEvents returns every event spectator k has reported so far.
func (r *Runner[I]) SpectatorEvents(k int) []rollback.Event { return r.specEvents[k] }

// Done reports whether every live peer has confirmed frames frames.
func (r *Runner[I]) Done(frames int) bool {
	for i, s := range r.Sessions {
		if !r.crashed[i] && int(s.ConfirmedFrame()) < frames {
			return false
		}
	}
	return true
}

// RunUntil ticks until every live peer has confirmed frames frames.
func (r *Runner[I]) RunUntil(frames int) error {
	for !r.Done(frames) {
		if r.tick >= r.cfg.MaxTicks {
			return fmt.Errorf("%w: %d ticks, confirmed %v", ErrRunTooLong, r.tick, r.confirmed())
		}
		if err := r.Tick(); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner[I]) confirmed() []rollback.Frame {
	out := make([]rollback.Frame, len(r.Sessions))
	for i, s := range r.Sessions {
		out[i] = s.ConfirmedFrame()
	}
	return out
}

// Check compares what the live peers confirmed: every input of every frame,
// every checksum; and, where no input delay changed, that each input is the
// one Input gave for that player and frame. A desync event also fails it.
func (r *Runner[I]) Check() (Result, error) {
	res := Result{Ticks: r.tick, Confirmed: r.confirmed(), Events: r.events}
	for _, s := range r.Sessions {
		res.Stats = append(res.Stats, s.Stats())
	}
	for i, evs := range r.events {
		for _, e := range evs {
			if e.Kind == rollback.EventDesync || e.Kind == rollback.EventConfigMismatch {
				return res, fmt.Errorf("peer %d: %w", i, e.Err)
			}
		}
	}
	live := []int{}
	for i := range r.Sessions {
		if !r.crashed[i] {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return res, nil
	}
	a := live[0]
	ra := r.recs[a]
	res.Checksums = ra.sums
	if ra.err != nil {
		return res, fmt.Errorf("peer %d recording: %w", a, ra.err)
	}
	for _, b := range live[1:] {
		rb := r.recs[b]
		if rb.err != nil {
			return res, fmt.Errorf("peer %d recording: %w", b, rb.err)
		}
		n := min(len(ra.inputs), len(rb.inputs))
		for f := range n {
			for p := range ra.inputs[f] {
				if ra.inputs[f][p] != rb.inputs[f][p] {
					return res, &MismatchError{Frame: rollback.Frame(f), PeerA: a, PeerB: b,
						What: fmt.Sprintf("input of player %d", p), A: ra.inputs[f][p], B: rb.inputs[f][p]}
				}
			}
		}
		for f, sa := range ra.sums {
			if sb, ok := rb.sums[f]; ok {
				res.ChecksumsCompared++
				if sa != sb {
					return res, &MismatchError{Frame: f, PeerA: a, PeerB: b, What: "checksum",
						A: fmt.Sprintf("%016x", sa), B: fmt.Sprintf("%016x", sb)}
				}
			}
		}
	}
	// Each peer's own inputs, as everyone confirmed them, are what it gave
	// (except for a peer whose delay changed: frames it skipped repeat the
	// previous input, by design).
	delay := r.cfg.Session.InputDelay
	for f, row := range ra.inputs {
		for p, pi := range row {
			host := p / r.cfg.PlayersPerPeer
			if pi.Status != rollback.Confirmed || f < delay || r.delayMoved[host] {
				continue
			}
			want := r.cfg.Input(p, rollback.Frame(f))
			if pi.Input != want {
				return res, &MismatchError{Frame: rollback.Frame(f), PeerA: a, PeerB: -1,
					What: fmt.Sprintf("input of player %d vs what it gave", p), A: pi.Input, B: want}
			}
			res.InputsChecked++
		}
	}
	return res, nil
}

// Run runs cfg to the end: every live peer confirms cfg.Frames frames, then
// Check compares what they confirmed.
func Run[I comparable](cfg RunConfig[I]) (Result, error) {
	r, err := NewRunner(cfg)
	if err != nil {
		return Result{}, err
	}
	if err := r.RunUntil(r.cfg.Frames); err != nil {
		res, _ := r.Check()
		return res, err
	}
	return r.Check()
}

// teeRecorder hands everything to two recorders.
type teeRecorder[I comparable] [2]rollback.Recorder[I]

func (t teeRecorder[I]) RecordFrame(f rollback.Frame, in []rollback.PlayerInput[I]) {
	t[0].RecordFrame(f, in)
	t[1].RecordFrame(f, in)
}

func (t teeRecorder[I]) RecordChecksum(f rollback.Frame, sum uint64) {
	t[0].RecordChecksum(f, sum)
	t[1].RecordChecksum(f, sum)
}

// recording is a rollback.Recorder that keeps everything in memory.
type recording[I comparable] struct {
	players int
	inputs  [][]rollback.PlayerInput[I]
	sums    map[rollback.Frame]uint64
	err     error
}

func newRecording[I comparable](players int) *recording[I] {
	return &recording[I]{players: players, sums: map[rollback.Frame]uint64{}}
}

func (r *recording[I]) RecordFrame(f rollback.Frame, in []rollback.PlayerInput[I]) {
	if r.err == nil && (int(f) != len(r.inputs) || len(in) != r.players) {
		r.err = fmt.Errorf("frame %d recorded after %d frames with %d inputs", f, len(r.inputs), len(in))
	}
	r.inputs = append(r.inputs, append([]rollback.PlayerInput[I](nil), in...))
}

func (r *recording[I]) RecordChecksum(f rollback.Frame, sum uint64) {
	if r.err == nil && int(f) != len(r.inputs) {
		r.err = fmt.Errorf("checksum of frame %d recorded after %d frames", f, len(r.inputs))
	}
	r.sums[f] = sum
}

// SyncTest runs game alone for frames frames in a sync-test session that
// re-simulates distance frames every frame, with inputs from input. It
// returns a *rollback.NondeterminismError naming the first frame whose state
// differed, or nil if the game is deterministic over the run.
func SyncTest[I comparable](game rollback.Game[I], players, frames, distance int, input func(rollback.Player, rollback.Frame) I) error {
	st, err := rollback.NewSyncTest(rollback.SyncTestConfig[I]{Players: players, CheckDistance: distance}, game)
	if err != nil {
		return err
	}
	for f := range frames {
		for p := range players {
			if err := st.AddLocalInput(p, input(p, rollback.Frame(f))); err != nil {
				return err
			}
		}
		if err := st.AdvanceFrame(); err != nil {
			return err
		}
	}
	return nil
}
