package main

// The liveMatch implementations: a network match (a player's
// netcode.Session or a spectator's netcode.Spectator), a replay and a
// sync-test. This file has no build tag: the browser build (main_js.go)
// uses the network match too, so it imports nothing native-only.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

// defaultDisconnectTimeout is how long the demo keeps a silent peer's seat:
// rollback's default (2 s) ends before netcode's ICE restart (path silent
// for 1 s, restarted 1 s later, a few hundred ms to reconnect) can bring a
// peer back from a network switch.
const defaultDisconnectTimeout = 8 * time.Second

// Tunables of the match runner.
const (
	// statsEvery is how many ticks the HUD's connection stats are kept
	// before asking pion again (NetStats allocates).
	statsEvery = 30
	// skipEvery is the fewest ticks between two ticks skipped to let the
	// other peers catch up (time sync at Ebiten's fixed 60 Hz).
	skipEvery = 10
	// bannerTicks is how long a passing banner (a peer came back, left)
	// stays up.
	bannerTicks = 3 * sim.TicksPerSecond
)

// errMatch wraps every reason a match could not go on.
var errMatch = errors.New("match failed")

// replayMeta is what a recording's header metadata holds: enough to make
// the initial game again.
type replayMeta struct {
	Game    string   `json:"game"`
	Seed    uint64   `json:"seed"`
	Players int      `json:"players"`
	Names   []string `json:"names,omitempty"`
}

// replayGameName marks recordings of this demo.
const replayGameName = "lyn-demo"

// netMatchConfig says which room to join and how to play there.
type netMatchConfig struct {
	// URL is the room, e.g. ws://127.0.0.1:8080/lyn.
	URL string
	// Players is the room's size (2 to 8).
	Players int
	// Spectate joins as a spectator.
	Spectate bool
	// InputDelay is the input delay in frames.
	InputDelay int
	// Bot makes sim.Bot play the local seat (headless peers, the embedded
	// bot); otherwise Tick's local input does.
	Bot bool
	// Names label the players; nil: P1 … P8. The seats are known only once
	// the room starts, so OthersName, if set, then names every seat but
	// the local one (e.g. "bot") and the local seat is P<n>.
	Names      []string
	OthersName string
	// FrameRate is the ticks per second the match is driven at (default
	// 60): the session's time sync and timeouts count with it.
	FrameRate int
	// DisconnectTimeout is how long a silent peer keeps its seat (default
	// defaultDisconnectTimeout, long enough for an ICE restart after a
	// network switch; the browser build may set its own).
	DisconnectTimeout time.Duration
	// Frames, if positive, ends the match once every frame before it is
	// confirmed (HUD.Done); FinalChecksum is then the state's at Frames.
	Frames rollback.Frame
	// Record, if set, receives a replay of the match (replay format).
	Record io.Writer
	// Net configures WebRTC (ICE servers, relay only, loopback, a delaying
	// transport.Net for the bot).
	Net netcode.Config
	// HTTPClient makes the signaling handshakes (nil: the default).
	HTTPClient *http.Client
	// Logger receives netcode's logs (nil: discard).
	Logger *slog.Logger
}

// netMatch is a liveMatch over the network. It is driven by one goroutine.
type netMatch struct {
	cfg   netMatchConfig
	sess  *netcode.Session[sim.Input]   // a player's, or nil
	spec  *netcode.Spectator[sim.Input] // a spectator's, or nil
	game  *sim.Game                     // the game the session runs (predictions included)
	names []string

	confirmed *confirmedGame // follows the confirmed frames: recording, final checksum
	recorder  *replay.Writer[sim.Input]

	events     []rollback.Event
	peerErrs   []netcode.PeerError
	ticks      int
	lastSkip   int
	banner     string
	bannerTill int // tick at which a passing banner ends (0: sticky)
	desync     *rollback.DesyncError
	desyncs    int
	// disconnects lists the players disconnected, with the frame.
	disconnects     []string
	firstDisconnect rollback.Frame // NoFrame: none
	netStats        []netcode.NetStats
	statsTick       int
	hud             hud
	done            bool
	closed          bool
}

// joinMatch joins the room and returns once the match runs (every peer
// connected).
func joinMatch(ctx context.Context, cfg netMatchConfig) (*netMatch, error) {
	m := &netMatch{cfg: cfg, firstDisconnect: rollback.NoFrame}
	m.confirmed = &confirmedGame{target: cfg.Frames}
	jc := netcode.JoinConfig[sim.Input]{
		URL:        cfg.URL,
		Players:    cfg.Players,
		Codec:      sim.Codec{},
		Net:        cfg.Net,
		Logger:     cfg.Logger,
		HTTPClient: cfg.HTTPClient,
		NewGame: func(seed uint64, players int) rollback.Game[sim.Input] {
			m.game = sim.New(seed, players)
			if !cfg.Spectate {
				m.confirmed.game = sim.New(seed, players)
			}
			m.names = playerNames(cfg.Names, players)
			if cfg.Record != nil {
				meta, _ := json.Marshal(replayMeta{Game: replayGameName, Seed: seed, Players: players, Names: m.names})
				w, err := replay.NewWriter(cfg.Record, sim.Codec{}, replay.Header{Players: players, FrameRate: sim.TicksPerSecond, Metadata: meta})
				if err != nil {
					m.confirmed.err = err
				} else {
					m.recorder = w
					m.confirmed.next = w
				}
			}
			if cfg.Spectate {
				// A spectator's game advances confirmed frames only, up to
				// CatchUpSpeed a tick: catch the target frame as it passes.
				return &spectatorGame{Game: m.game, c: m.confirmed}
			}
			return m.game
		},
	}
	jc.Session.InputDelay = cfg.InputDelay
	jc.Session.FrameRate = cfg.FrameRate
	jc.Session.DisconnectTimeout = cmp.Or(cfg.DisconnectTimeout, defaultDisconnectTimeout)
	jc.Session.Recorder = m.confirmed
	jc.SpectatorSession.Recorder = m.confirmed
	var err error
	if cfg.Spectate {
		m.spec, err = netcode.JoinSpectator(ctx, jc)
	} else {
		m.sess, err = netcode.Join(ctx, jc)
	}
	if err != nil {
		return nil, err
	}
	if m.recorder == nil && cfg.Record != nil {
		m.Close()
		return nil, fmt.Errorf("recording: %w", m.confirmed.err)
	}
	m.hud.Local = -1
	if m.sess != nil {
		m.hud.Local = m.sess.LocalPlayer()
	}
	if cfg.OthersName != "" {
		n := 0
		for i := range m.names {
			switch {
			case i == m.hud.Local:
				// The view marks the local seat "(you)" itself.
				m.names[i] = fmt.Sprintf("P%d", i+1)
			case len(m.names) > 2:
				n++
				m.names[i] = fmt.Sprintf("%s %d", cfg.OthersName, n)
			default:
				m.names[i] = cfg.OthersName
			}
		}
	}
	m.hud.Names = m.names
	m.banner = "Waiting for the other players…"
	m.refreshHUD()
	return m, nil
}

// playerNames returns names for every seat: the given ones, then P1 … P8.
func playerNames(given []string, players int) []string {
	names := make([]string, players)
	for i := range names {
		if i < len(given) && given[i] != "" {
			names[i] = given[i]
		} else {
			names[i] = fmt.Sprintf("P%d", i+1)
		}
	}
	return names
}

// Tick advances the match by one tick.
func (m *netMatch) Tick(local []sim.Input) error {
	if m.closed {
		return fmt.Errorf("%w: match closed", errMatch)
	}
	m.ticks++
	if m.sess != nil {
		if err := m.tickPlayer(local); err != nil {
			return err
		}
	} else if err := m.tickSpectator(); err != nil {
		return err
	}
	m.updateBanner()
	if m.cfg.Frames > 0 && m.confirmed.reached {
		m.done = true
	}
	m.refreshHUD()
	return nil
}

func (m *netMatch) tickPlayer(local []sim.Input) error {
	s := m.sess
	// Time sync: Ebiten ticks at a fixed 60 Hz, so a peer that runs ahead
	// of the others skips a tick now and then rather than stretching it.
	if ts := s.TimeSync(); ts.FramesAhead >= 1 && m.ticks-m.lastSkip >= skipEvery && s.Running() {
		m.lastSkip = m.ticks
		return nil
	}
	for i, p := range s.LocalPlayers() {
		var in sim.Input
		switch {
		case m.cfg.Bot:
			in = sim.Bot(m.game, p)
		case i < len(local):
			in = local[i]
		}
		if err := s.AddLocalInput(p, in); err != nil {
			return fmt.Errorf("%w: %w", errMatch, err)
		}
	}
	if err := s.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
		return fmt.Errorf("%w: frame %d: %w", errMatch, s.Frame(), err)
	}
	m.events = s.Events(m.events[:0])
	m.handleEvents()
	m.peerErrs = s.PeerErrors(m.peerErrs[:0])
	for _, pe := range m.peerErrs {
		m.setBanner(fmt.Sprintf("%s: %v", m.peerName(pe.Peer), pe.Err), 2*bannerTicks)
	}
	return nil
}

func (m *netMatch) tickSpectator() error {
	sp := m.spec
	if err := sp.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
		return fmt.Errorf("%w: frame %d: %w", errMatch, sp.Frame(), err)
	}
	m.events = sp.Events(m.events[:0])
	m.handleEvents()
	if sp.Frame() > 0 && m.banner == "Waiting for the other players…" {
		m.banner = ""
	}
	m.peerErrs = sp.PeerErrors(m.peerErrs[:0])
	for _, pe := range m.peerErrs {
		m.setBanner(fmt.Sprintf("%s: %v", m.peerName(pe.Peer), pe.Err), 2*bannerTicks)
	}
	return nil
}

// handleEvents turns the session's events into banners.
func (m *netMatch) handleEvents() {
	for _, e := range m.events {
		switch e.Kind {
		case rollback.EventSynchronizing:
			m.setBanner(fmt.Sprintf("Waiting for %s…", m.peerName(e.Peer)), 0)
		case rollback.EventRunning:
			m.setBanner("", 0)
		case rollback.EventPeerInterrupted:
			m.setBanner(fmt.Sprintf("%s's connection is interrupted (dropped in %.1f s unless it comes back)", m.peerName(e.Peer), e.DisconnectIn.Seconds()), 0)
		case rollback.EventPeerResumed:
			m.setBanner(fmt.Sprintf("%s is back", m.peerName(e.Peer)), bannerTicks)
		case rollback.EventPeerDisconnected:
			m.disconnects = append(m.disconnects, fmt.Sprintf("%s at frame %d", m.names[e.Player], e.Frame))
			if m.firstDisconnect == rollback.NoFrame || e.Frame < m.firstDisconnect {
				m.firstDisconnect = e.Frame
			}
			m.setBanner(fmt.Sprintf("%s left at frame %d", m.names[e.Player], e.Frame), bannerTicks)
		case rollback.EventDesync:
			m.desyncs++
			var de *rollback.DesyncError
			if errors.As(e.Err, &de) && m.desync == nil {
				m.desync = de
			}
		case rollback.EventConfigMismatch:
			m.setBanner(fmt.Sprintf("%s runs another version of the game: %v", m.peerName(e.Peer), e.Err), 0)
		}
	}
}

// updateBanner ends a passing banner whose time is up; a desync's banner
// stays for good.
func (m *netMatch) updateBanner() {
	if m.bannerTill != 0 && m.ticks >= m.bannerTill {
		m.banner, m.bannerTill = "", 0
	}
	if m.desync != nil {
		m.banner = fmt.Sprintf("DESYNC at frame %d with %s", m.desync.Frame, m.peerName(m.desync.Peer))
	}
}

// setBanner shows text, for ticks ticks (0: until replaced).
func (m *netMatch) setBanner(text string, ticks int) {
	m.banner, m.bannerTill = text, 0
	if ticks > 0 && text != "" {
		m.bannerTill = m.ticks + ticks
	}
}

// peerName names a peer by its player (peers 1..N play players 0..N-1).
func (m *netMatch) peerName(p netcode.PeerID) string {
	if i := int(p) - 1; i >= 0 && i < len(m.names) {
		return m.names[i]
	}
	if p >= netcode.FirstSpectatorID {
		return fmt.Sprintf("spectator %d", p-netcode.FirstSpectatorID+1)
	}
	return fmt.Sprintf("peer %d", p)
}

// Game returns the game to draw.
func (m *netMatch) Game() *sim.Game { return m.game }

// HUD returns the overlay's data.
func (m *netMatch) HUD() hud { return m.hud }

func (m *netMatch) refreshHUD() {
	h := &m.hud
	h.Banner, h.Done = m.banner, m.done
	if m.sess != nil {
		h.Frame, h.InputDelay = m.sess.Frame(), m.sess.InputDelay()
	} else {
		h.Frame = m.spec.Frame()
	}
	if m.netStats == nil || m.ticks-m.statsTick >= statsEvery {
		m.statsTick = m.ticks
		if m.sess != nil {
			m.netStats = m.sess.NetStats()
		} else {
			m.netStats = m.spec.NetStats()
		}
	}
	h.Peers = h.Peers[:0]
	for _, ns := range m.netStats {
		row := peerHUD{
			Name:      m.peerName(ns.Peer),
			KbpsIn:    ns.KbpsIn,
			KbpsOut:   ns.KbpsOut,
			Candidate: candidateName(ns.LocalCandidateType),
			Ping:      ns.ICERoundTrip,
		}
		if m.sess != nil {
			if ps, ok := m.sess.PeerStats(ns.Peer); ok {
				if ps.RTT > 0 {
					row.Ping = ps.RTT
				}
				row.FramesAhead = ps.FramesAhead
				row.RollbackLast, row.RollbackP99 = ps.RollbackLast, ps.RollbackP99
				row.Interrupted, row.Disconnected = ps.Interrupted, ps.Disconnected
			}
		}
		h.Peers = append(h.Peers, row)
	}
}

// candidateName is the overlay's name of a candidate type ("" unknown).
func candidateName(t fmt.Stringer) string {
	s := t.String()
	switch s {
	case "host", "srflx", "prflx", "relay":
		return s
	}
	return ""
}

// matchReport is what a finished network match says about itself.
type matchReport struct {
	Player        int // -1 for a spectator
	Frames        rollback.Frame
	Rollbacks     uint64
	RollbackDepth int // deepest P99 over the peers
	Stalls        uint64
	Desyncs       int
	FinalChecksum uint64
	Reached       bool // FinalChecksum is the state's at the target frame
	Disconnects   []string
	// FirstDisconnect is the earliest frame a player was disconnected
	// from (NoFrame: none).
	FirstDisconnect rollback.Frame
	Compared        uint64 // checksums compared with the other peers
	Peers           []peerHUD
}

// report summarizes the match so far.
func (m *netMatch) report() matchReport {
	r := matchReport{Player: m.hud.Local, Frames: m.hud.Frame, Desyncs: m.desyncs,
		FinalChecksum: m.confirmed.sum, Reached: m.confirmed.reached, Disconnects: m.disconnects, FirstDisconnect: m.firstDisconnect, Peers: append([]peerHUD(nil), m.hud.Peers...)}
	if m.sess != nil {
		st := m.sess.Stats()
		r.Rollbacks, r.Stalls = st.Rollbacks, st.Stalls
		for _, ps := range m.sess.AppendPeerStats(nil) {
			r.Compared += ps.ChecksumsCompared
		}
	} else if m.spec != nil {
		r.Compared = m.spec.Stats().ChecksumsCompared
	}
	for _, p := range m.hud.Peers {
		r.RollbackDepth = max(r.RollbackDepth, p.RollbackP99)
	}
	return r
}

// Close leaves the match and finishes the recording.
func (m *netMatch) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	var err error
	if m.sess != nil {
		err = m.sess.Close()
	} else if m.spec != nil {
		err = m.spec.Close()
	}
	if m.recorder != nil {
		err = errors.Join(err, m.recorder.Close())
	}
	return err
}

// confirmedGame is the session's Recorder: it advances a second game with
// the confirmed inputs only, so the state at a given confirmed frame is
// known whatever the session predicted, and passes everything on to a
// replay writer.
type confirmedGame struct {
	game    *sim.Game
	next    rollback.Recorder[sim.Input] // nil: no recording
	target  rollback.Frame               // 0: none
	sum     uint64                       // checksum of the state at target
	reached bool
	err     error
}

func (c *confirmedGame) RecordFrame(frame rollback.Frame, inputs []rollback.PlayerInput[sim.Input]) {
	if c.next != nil {
		c.next.RecordFrame(frame, inputs)
	}
	if c.game == nil || c.reached {
		return
	}
	c.game.Advance(inputs)
	if c.target > 0 && rollback.Frame(c.game.Frame()) == c.target {
		c.sum, c.reached = c.game.Checksum(), true
	}
}

func (c *confirmedGame) RecordChecksum(frame rollback.Frame, checksum uint64) {
	if c.next != nil {
		c.next.RecordChecksum(frame, checksum)
	}
}

// spectatorGame is a spectator's game: it notes the checksum of the state
// at the target frame as the spectator advances through it (from a
// snapshot too, unlike a Recorder).
type spectatorGame struct {
	*sim.Game
	c *confirmedGame
}

func (g *spectatorGame) Advance(inputs []rollback.PlayerInput[sim.Input]) {
	g.Game.Advance(inputs)
	if c := g.c; c.target > 0 && !c.reached && rollback.Frame(g.Game.Frame()) == c.target {
		c.sum, c.reached = g.Game.Checksum(), true
	}
}

// replayMatch plays a recording back, one frame per tick, and checks every
// recorded checksum.
type replayMatch struct {
	r        *replay.Reader[sim.Input]
	game     *sim.Game
	names    []string
	frames   int
	verified int
	err      error // a mismatch or a damaged file; the replay stops there
	done     bool
	hud      hud
}

// openReplay reads a recording's header and makes its initial game.
func openReplay(rd io.Reader) (*replayMatch, error) {
	r, err := replay.NewReader(rd, sim.Codec{})
	if err != nil {
		return nil, err
	}
	h := r.Header()
	var meta replayMeta
	if err := json.Unmarshal(h.Metadata, &meta); err != nil || meta.Game != replayGameName {
		return nil, fmt.Errorf("%w: not a recording of the lyn demo (metadata %q)", replay.ErrCorrupt, truncate(h.Metadata, 60))
	}
	if meta.Players != h.Players || meta.Players < 1 || meta.Players > sim.MaxPlayers {
		return nil, fmt.Errorf("%w: %d players in the metadata, %d in the header", replay.ErrCorrupt, meta.Players, h.Players)
	}
	m := &replayMatch{r: r, game: sim.New(meta.Seed, meta.Players), names: playerNames(meta.Names, meta.Players)}
	m.hud = hud{Local: -1, Names: m.names, Banner: "Replay"}
	return m, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Tick plays the next recorded frame; local input is ignored.
func (m *replayMatch) Tick([]sim.Input) error {
	if m.done {
		return nil
	}
	_, inputs, err := m.r.Next()
	if err == nil || errors.Is(err, io.EOF) {
		if want, sum, ok := m.r.Checksum(); ok {
			if got := m.game.Checksum(); got != sum {
				err = &replay.MismatchError{Frame: want, Recorded: sum, Replayed: got}
			} else {
				m.verified++
			}
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		m.done = true
		m.hud.Banner = fmt.Sprintf("Replay over: %d frames, %d checksums verified", m.frames, m.verified)
	case err != nil:
		m.done, m.err = true, err
		m.hud.Banner = fmt.Sprintf("Replay stopped at frame %d: %v", m.frames, err)
	default:
		m.game.Advance(inputs)
		m.frames++
	}
	m.hud.Frame, m.hud.Done = rollback.Frame(m.frames), m.done
	return nil
}

func (m *replayMatch) Game() *sim.Game { return m.game }
func (m *replayMatch) HUD() hud        { return m.hud }

// syncTestMatch runs the game under rollback's sync-test: every frame is
// simulated again from a saved state and must give the same checksum. The
// local seat (if any) is the keyboard's, the others are bots.
type syncTestMatch struct {
	st     *rollback.SyncTest[sim.Input]
	view   *sim.Game // the state under test, for drawing and for the bots
	seats  int       // local seats read from the keyboard
	frames rollback.Frame
	err    error // the first nondeterminism found
	done   bool
	hud    hud
}

// newSyncTest checks game (whose state view shows) for determinism; a
// positive frames ends it there.
func newSyncTest(game rollback.Game[sim.Input], view *sim.Game, seats int, frames rollback.Frame, checkDistance int) (*syncTestMatch, error) {
	st, err := rollback.NewSyncTest(rollback.SyncTestConfig[sim.Input]{Players: view.Players(), CheckDistance: checkDistance}, game)
	if err != nil {
		return nil, err
	}
	m := &syncTestMatch{st: st, view: view, seats: seats, frames: frames}
	m.hud = hud{Local: -1, Names: playerNames(nil, view.Players()), Banner: "Sync test"}
	if seats > 0 {
		m.hud.Local = 0
	}
	return m, nil
}

func (m *syncTestMatch) Tick(local []sim.Input) error {
	if m.done {
		return nil
	}
	for p := range m.view.Players() {
		in := sim.Bot(m.view, p)
		if p < m.seats && p < len(local) {
			in = local[p]
		}
		if err := m.st.AddLocalInput(p, in); err != nil {
			return fmt.Errorf("%w: %w", errMatch, err)
		}
	}
	if err := m.st.AdvanceFrame(); err != nil {
		var nd *rollback.NondeterminismError
		if !errors.As(err, &nd) {
			return fmt.Errorf("%w: %w", errMatch, err)
		}
		m.err, m.done = err, true
		m.hud.Banner = fmt.Sprintf("NOT DETERMINISTIC: frame %d", nd.Frame)
	}
	m.hud.Frame = m.st.Frame()
	if m.frames > 0 && m.st.Frame() >= m.frames && m.err == nil {
		m.done = true
		m.hud.Banner = fmt.Sprintf("Sync test passed: %d frames", m.st.Frame())
	}
	m.hud.Done = m.done
	return nil
}

func (m *syncTestMatch) Game() *sim.Game { return m.view }
func (m *syncTestMatch) HUD() hud        { return m.hud }

// tickInterval is one tick at fps ticks a second.
func tickInterval(fps int) time.Duration { return time.Second / time.Duration(fps) }

// joiningMatch is a network match that is still connecting: the window
// opens at once and shows a banner until the room is full and every peer
// connected, then it is the match. Close stops a join still under way.
type joiningMatch struct {
	result  chan joinResult
	cancel  context.CancelFunc
	m       *netMatch
	waiting *sim.Game // drawn while waiting
	hud     hud
}

type joinResult struct {
	m   *netMatch
	err error
}

// startJoining joins in the background; waitBanner is shown meanwhile.
func startJoining(ctx context.Context, cfg netMatchConfig, waitBanner string) *joiningMatch {
	ctx, cancel := context.WithCancel(ctx)
	j := &joiningMatch{result: make(chan joinResult, 1), cancel: cancel, waiting: sim.New(1, max(cfg.Players, 2))}
	j.hud = hud{Local: -1, Names: playerNames(cfg.Names, max(cfg.Players, 2)), Banner: waitBanner}
	go func() {
		m, err := joinMatch(ctx, cfg)
		j.result <- joinResult{m, err}
	}()
	return j
}

// Tick ticks the match once it is connected; until then it checks whether
// it is.
func (j *joiningMatch) Tick(local []sim.Input) error {
	if j.m == nil {
		select {
		case r := <-j.result:
			j.result = nil
			if r.err != nil {
				return fmt.Errorf("%w: joining: %w", errMatch, r.err)
			}
			j.m = r.m
		default:
			return nil
		}
	}
	return j.m.Tick(local)
}

// match returns the connected match, or nil.
func (j *joiningMatch) match() *netMatch { return j.m }

func (j *joiningMatch) Game() *sim.Game {
	if j.m == nil {
		return j.waiting
	}
	return j.m.Game()
}

func (j *joiningMatch) HUD() hud {
	if j.m == nil {
		return j.hud
	}
	return j.m.HUD()
}

// Close stops the join or leaves the match.
func (j *joiningMatch) Close() error {
	j.cancel()
	if j.m == nil && j.result != nil {
		if r := <-j.result; r.m != nil {
			j.m = r.m
		}
		j.result = nil
	}
	if j.m != nil {
		return j.m.Close()
	}
	return nil
}
