package rollback

import (
	"fmt"
	"log/slog"
	"time"
)

// DefaultCatchUpSpeed is how many frames a spectator advances per tick at
// most while it is behind the live game.
const DefaultCatchUpSpeed = 8

// liveMargin: a spectator holding at most this many frames it has not
// simulated yet counts as live and advances one frame per tick.
const liveMargin = 2

// SpectatorConfig describes a spectator: a peer that hosts no player and
// follows the confirmed inputs one player peer (the host) streams to it.
type SpectatorConfig[I comparable] struct {
	// Players is the same list the players' sessions were given.
	Players []PeerID
	// Host is the player peer that lists this spectator in its
	// Config.Spectators and streams to it.
	Host PeerID
	// CatchUpSpeed is how many frames one AdvanceFrame may run while behind
	// (default 8): a late spectator runs faster than real time until live.
	CatchUpSpeed int
	// ChecksumInterval must match the players' (default 30); the spectator
	// compares its checksums with the host's. DisableDesyncDetection turns
	// that off.
	ChecksumInterval       int
	DisableDesyncDetection bool
	// DisconnectNotifyStart: silence from the host after which
	// EventPeerInterrupted is sent (default 500 ms).
	DisconnectNotifyStart time.Duration
	// InputHistory: frames of input buffered ahead of the simulation
	// (default 256).
	InputHistory int
	// Recorder receives every frame simulated, from frame 0 only: a
	// spectator that starts from a snapshot records nothing.
	Recorder Recorder[I]
	Clock    Clock
	Logger   *slog.Logger
}

// Spectator follows a game it does not play in.
type Spectator[I comparable] struct {
	cfg         SpectatorConfig[I]
	game        Game[I]
	tr          Transport[I]
	fingerprint uint64
	closed      bool

	started      bool
	live         bool
	frame        Frame
	lastReceived Frame
	inputs       [][]I // per player ring
	disconnectAt []Frame
	mask         int
	recording    bool

	sums     checksumRing
	hostSums checksumMatch
	scratch  []byte

	lastHeard   time.Time
	interrupted bool
	advance     []PlayerInput[I]
	msg         Message[I]
	events      eventQueue
	stats       SpectatorStats
}

// SpectatorStats are a spectator's counters.
type SpectatorStats struct {
	Frame, LastReceived                Frame
	FramesAdvanced                     uint64
	Snapshots                          uint64
	MessagesInvalid, MessagesUnknown   uint64
	ChecksumsCompared, Desyncs         uint64
	UnknownPeerMessages, EventsDropped uint64
}

// NewSpectator starts a spectator session. Call AdvanceFrame every tick.
func NewSpectator[I comparable](cfg SpectatorConfig[I], game Game[I], tr Transport[I]) (*Spectator[I], error) {
	if len(cfg.Players) == 0 || len(cfg.Players) > MaxPlayers {
		return nil, fmt.Errorf("%w: %d players", ErrInvalidConfig, len(cfg.Players))
	}
	if game == nil || tr == nil {
		return nil, fmt.Errorf("%w: nil game or transport", ErrInvalidConfig)
	}
	if cfg.CatchUpSpeed < 0 || cfg.ChecksumInterval < 0 || cfg.InputHistory < 0 || cfg.DisconnectNotifyStart < 0 {
		return nil, fmt.Errorf("%w: negative setting", ErrInvalidConfig)
	}
	if cfg.CatchUpSpeed == 0 {
		cfg.CatchUpSpeed = DefaultCatchUpSpeed
	}
	if cfg.ChecksumInterval == 0 {
		cfg.ChecksumInterval = DefaultChecksumInterval
	}
	if cfg.InputHistory == 0 {
		cfg.InputHistory = DefaultInputHistory
	}
	if cfg.DisconnectNotifyStart == 0 {
		cfg.DisconnectNotifyStart = DefaultDisconnectNotifyStart
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := len(cfg.Players)
	history := ceilPow2(max(cfg.InputHistory, 2*maxFramesPerMessage))
	sp := &Spectator[I]{
		cfg:          cfg,
		game:         game,
		tr:           tr,
		fingerprint:  fingerprint[I](cfg.Players),
		lastReceived: NoFrame,
		inputs:       make([][]I, n),
		disconnectAt: make([]Frame, n),
		mask:         history - 1,
		sums:         newChecksumRing(history/cfg.ChecksumInterval + 4),
		advance:      make([]PlayerInput[I], n),
		lastHeard:    cfg.Clock.Now(),
	}
	sp.hostSums = newChecksumMatch()
	for p := range sp.inputs {
		sp.inputs[p] = make([]I, history)
		sp.disconnectAt[p] = NoFrame
	}
	sp.msg.Status = make([]PlayerStatus, 0, n)
	sp.events.push(Event{Kind: EventSynchronizing, Peer: cfg.Host})
	return sp, nil
}

// Frame returns the frame the next advance simulates.
func (sp *Spectator[I]) Frame() Frame { return sp.frame }

// Live reports whether the spectator has caught up with the game.
func (sp *Spectator[I]) Live() bool { return sp.live }

// Events appends what happened since the last call to dst.
func (sp *Spectator[I]) Events(dst []Event) []Event { return sp.events.drain(dst) }

// Stats returns the spectator's counters.
func (sp *Spectator[I]) Stats() SpectatorStats {
	st := sp.stats
	st.Frame, st.LastReceived, st.EventsDropped = sp.frame, sp.lastReceived, sp.events.dropped
	return st
}

// Close tells the host to stop streaming.
func (sp *Spectator[I]) Close() error {
	if sp.closed {
		return nil
	}
	sp.msg.Reset()
	sp.msg.Kind = KindGoodbye
	for range goodbyeCopies {
		sp.tr.Send(sp.cfg.Host, &sp.msg)
	}
	sp.closed = true
	return nil
}

// AdvanceFrame reads what the host sent and advances: one frame per call
// when live, up to CatchUpSpeed frames when behind. It returns
// ErrCatchingUp when it has nothing to advance with yet, or an error from
// Game.Load if the host's snapshot is bad.
func (sp *Spectator[I]) AdvanceFrame() error {
	if sp.closed {
		return ErrClosed
	}
	now := sp.cfg.Clock.Now()
	err := sp.receive(now)
	sp.send()
	if err != nil {
		return err
	}
	if silent := now.Sub(sp.lastHeard); silent >= sp.cfg.DisconnectNotifyStart && !sp.interrupted {
		sp.interrupted = true
		sp.events.push(Event{Kind: EventPeerInterrupted, Peer: sp.cfg.Host})
	}
	if !sp.started {
		return ErrCatchingUp
	}
	ahead := int(sp.lastReceived - sp.frame + 1)
	if ahead <= 0 {
		return ErrCatchingUp
	}
	n := 1
	if ahead > liveMargin {
		n = min(ahead, sp.cfg.CatchUpSpeed)
	}
	for range n {
		sp.step()
	}
	if !sp.live && int(sp.lastReceived-sp.frame+1) <= liveMargin {
		sp.live = true
		sp.events.push(Event{Kind: EventRunning})
	}
	return nil
}

func (sp *Spectator[I]) step() {
	f := sp.frame
	if f > 0 && int(f)%sp.cfg.ChecksumInterval == 0 && (sp.recording || !sp.cfg.DisableDesyncDetection) {
		var sum uint64
		sum, sp.scratch = ChecksumOf(sp.game, sp.scratch)
		sp.sums.put(int(f)/sp.cfg.ChecksumInterval, f, sum)
		if sp.recording {
			sp.cfg.Recorder.RecordChecksum(f, sum)
		}
		if remote, ok := sp.hostSums.take(f); ok {
			sp.compare(f, remote)
		}
	}
	slot := int(f) & sp.mask
	for p := range sp.advance {
		if d := sp.disconnectAt[p]; d != NoFrame && f >= d {
			var zero I
			sp.advance[p] = PlayerInput[I]{Input: zero, Status: Disconnected}
		} else {
			sp.advance[p] = PlayerInput[I]{Input: sp.inputs[p][slot], Status: Confirmed}
		}
	}
	if sp.recording {
		sp.cfg.Recorder.RecordFrame(f, sp.advance)
	}
	sp.game.Advance(sp.advance)
	sp.frame++
	sp.stats.FramesAdvanced++
}

func (sp *Spectator[I]) compare(f Frame, remote uint64) {
	if sp.cfg.DisableDesyncDetection {
		return
	}
	local, ok := sp.sums.get(int(f)/sp.cfg.ChecksumInterval, f)
	if !ok || !sp.hostSums.check(f) {
		return
	}
	sp.stats.ChecksumsCompared++
	if local != remote {
		sp.stats.Desyncs++
		err := &DesyncError{Frame: f, Peer: sp.cfg.Host, Local: local, Remote: remote}
		sp.events.push(Event{Kind: EventDesync, Peer: sp.cfg.Host, Frame: f, Err: err})
	}
}

func (sp *Spectator[I]) receive(now time.Time) error {
	for {
		from, m, ok := sp.tr.Receive()
		if !ok {
			return nil
		}
		if from != sp.cfg.Host {
			sp.stats.UnknownPeerMessages++
			continue
		}
		switch m.Kind {
		case KindSnapshot:
			if m.Frame <= 0 || (sp.started && m.Frame <= sp.frame) {
				sp.stats.MessagesInvalid++
				continue
			}
			if err := sp.game.Load(m.State); err != nil {
				sp.stats.MessagesInvalid++
				return fmt.Errorf("rollback: spectator: host's snapshot of frame %d: %w", m.Frame, err)
			}
			sp.heard(now)
			sp.stats.Snapshots++
			sp.started, sp.live, sp.recording = true, false, false
			sp.frame, sp.lastReceived = m.Frame, m.Frame-1
		case KindInput:
			if !sp.validInput(m) {
				sp.stats.MessagesInvalid++
				continue
			}
			sp.heard(now)
			sp.handleInput(m)
		case KindGoodbye:
			sp.heard(now)
		default:
			sp.stats.MessagesUnknown++
		}
	}
}

func (sp *Spectator[I]) heard(now time.Time) {
	sp.lastHeard = now
	if sp.interrupted {
		sp.interrupted = false
		sp.events.push(Event{Kind: EventPeerResumed, Peer: sp.cfg.Host})
	}
}

func (sp *Spectator[I]) validInput(m *Message[I]) bool {
	n := len(sp.inputs)
	if len(m.Status) != n || len(m.Inputs)%n != 0 || len(m.Inputs)/n > maxFramesPerMessage || m.Frame < 0 ||
		(len(m.Inputs) > 0 && m.PerFrame != n) {
		return false
	}
	// Before the start (snapshot or frame 0) the host's inputs may overtake
	// its snapshot on another channel; they are not invalid, just early.
	if limit := sp.lastReceived + Frame(sp.mask+1); sp.started && m.Frame > limit {
		return false
	}
	// Status frames may run far ahead of this spectator's window (the host
	// confirms while we catch up); they only say when players disconnected.
	for _, st := range m.Status {
		if st.LastFrame < NoFrame {
			return false
		}
	}
	return !m.HasChecksum || m.ChecksumFrame > 0
}

func (sp *Spectator[I]) handleInput(m *Message[I]) {
	if !sp.started {
		if m.Frame != 0 {
			return // the snapshot is still on its way
		}
		sp.started, sp.recording = true, sp.cfg.Recorder != nil
	}
	n := len(sp.inputs)
	for p, st := range m.Status {
		if st.Disconnected && sp.disconnectAt[p] == NoFrame {
			sp.disconnectAt[p] = st.LastFrame + 1
			sp.events.push(Event{Kind: EventPeerDisconnected, Peer: sp.cfg.Players[p], Player: p, Frame: st.LastFrame + 1})
		}
	}
	for k := range len(m.Inputs) / n {
		f := m.Frame + Frame(k)
		if f <= sp.lastReceived {
			continue
		}
		// The ring must not overwrite frames not simulated yet.
		if f != sp.lastReceived+1 || int(f-sp.frame) > sp.mask {
			break
		}
		for p := range n {
			sp.inputs[p][int(f)&sp.mask] = m.Inputs[k*n+p]
		}
		sp.lastReceived = f
	}
	if m.HasChecksum && sp.hostSums.offer(m.ChecksumFrame, m.Checksum, m.ChecksumFrame < sp.frame) {
		sp.compare(m.ChecksumFrame, m.Checksum)
	}
}

// send asks for a start (sync) until streaming begins, then acknowledges.
func (sp *Spectator[I]) send() {
	m := &sp.msg
	m.Reset()
	if !sp.started {
		m.Kind = KindSync
		m.Fingerprint = sp.fingerprint
	} else {
		m.Kind = KindInput
		m.Frame = sp.lastReceived + 1
		m.Ack = sp.lastReceived
	}
	sp.tr.Send(sp.cfg.Host, m)
}
