package rollback

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"time"
)

const (
	// pingInterval is how often each peer is pinged (piggybacked on an input
	// message, so it costs bytes, not packets).
	pingInterval = 100 * time.Millisecond
	// checksumRepeats is how many consecutive messages carry a new checksum,
	// so one lost packet does not hide a desync.
	checksumRepeats = 4
	// maxFramesPerMessage bounds the inputs one message repeats; the wire
	// format may send fewer to stay under its packet size.
	maxFramesPerMessage = 128
	// goodbyeCopies: a goodbye travels on the lossy channel, so send a few.
	goodbyeCopies = 3
	// timeSyncCorrectionFrames: the advised speed change removes a frame
	// advantage over about this many frames (half a second at 60 Hz).
	timeSyncCorrectionFrames = 30
	// maxSpeedAdjust bounds the advised speed change (10 %).
	maxSpeedAdjust = 0.10
)

// Session is a peer-to-peer rollback session: this peer's local players and
// the remote peers' players, in one deterministic game.
//
// A Session is not safe for concurrent use: call it from the game loop.
type Session[I comparable] struct {
	cfg  Config[I]
	game Game[I]
	tr   Transport[I]

	players    []player[I]
	local      []Player // players this peer hosts, in player order
	peers      []remotePeer
	peerIndex  map[PeerID]int // remote player peers → index in peers
	spectators []spectatorLink
	specIndex  map[PeerID]int

	fingerprint uint64
	epoch       time.Time
	running     bool
	closed      bool

	frame          Frame // the game's current state is the state at frame
	localLast      Frame // last frame holding local inputs
	delay          int   // current input delay
	staged         []I   // local inputs for the next frame, by index in local
	stagedSet      []bool
	firstIncorrect Frame // earliest frame simulated with a wrong input, NoFrame if none
	badPeer        int   // peer index whose input caused firstIncorrect, -1 if none

	states    stateRing
	sums      checksumRing
	histMask  int   // input ring mask
	confirmed Frame // every input of every frame <= confirmed is final on every peer

	recorded      Frame // last frame handed to the Recorder
	sumDone       Frame // last checksum frame confirmed (sent, recorded, compared)
	outSumFrame   Frame
	outSum        uint64
	outSumRepeats int
	checksumsOn   bool

	advanceInputs []PlayerInput[I]
	recordInputs  []PlayerInput[I]
	msg           Message[I]

	framesAhead    float32
	timeSyncDirty  bool
	lastTimeSyncEv time.Time

	events eventQueue
	stats  Stats
}

// player is one player's input stream as this peer knows it.
type player[I comparable] struct {
	peer    PeerID
	peerIdx int // index in Session.peers, -1 when local
	inputs  []I // ring: the input used or received for each frame
	// lastReceived is the last frame for which this peer holds the real
	// input and every earlier one.
	lastReceived Frame
	// givenUp: this peer stopped accepting the player's input. Once every
	// peer has, they agree: from disconnectFrame on the input is Disconnected.
	givenUp         bool
	agreed          bool
	disconnectFrame Frame
}

// remotePeer is what this peer knows of another player peer.
type remotePeer struct {
	id      PeerID
	players []Player
	view    []PlayerStatus // the peer's reported status of every player

	synced      bool
	givenUp     bool
	interrupted bool
	lastHeard   time.Time

	nextPing      time.Time
	pongPending   bool
	pongTime      time.Duration
	pongHeardAt   time.Time
	rtt           time.Duration
	rttValid      bool
	remoteFrame   Frame
	remoteFrameAt time.Time
	remoteAdv     float32
	localAdv      float32
	haveFrameInfo bool

	sums checksumMatch

	rollbacks histogram
	stats     PeerStats
}

// NewSession starts a peer-to-peer session. The session is synchronizing
// until every peer has been heard from: call AdvanceFrame every tick anyway.
func NewSession[I comparable](cfg Config[I], game Game[I], tr Transport[I]) (*Session[I], error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if game == nil || tr == nil {
		return nil, fmt.Errorf("%w: nil game or transport", ErrInvalidConfig)
	}
	n := len(cfg.Players)
	history := ceilPow2(max(cfg.InputHistory, 2*(cfg.MaxPrediction+MaxInputDelay)+16))
	// Rollbacks reach back at most MaxPrediction frames for a misprediction,
	// and at most 2*MaxPrediction + input delay for a disconnect that another
	// peer saw earlier than this one (see agreeDisconnects).
	stateSlots := 2*cfg.MaxPrediction + MaxInputDelay + 2 + 8 // 8 frames of slack over the worst case measured
	s := &Session[I]{
		cfg:            cfg,
		game:           game,
		tr:             tr,
		peerIndex:      map[PeerID]int{},
		specIndex:      map[PeerID]int{},
		fingerprint:    fingerprint[I](cfg.Players),
		epoch:          cfg.Clock.Now(),
		localLast:      NoFrame,
		delay:          cfg.InputDelay,
		firstIncorrect: NoFrame,
		badPeer:        -1,
		states:         newStateRing(stateSlots),
		sums:           newChecksumRing(history/cfg.ChecksumInterval + 4),
		histMask:       history - 1,
		confirmed:      NoFrame,
		recorded:       NoFrame,
		outSumFrame:    NoFrame,
		checksumsOn:    !cfg.DisableDesyncDetection || cfg.Recorder != nil,
		players:        make([]player[I], n),
		advanceInputs:  make([]PlayerInput[I], n),
		recordInputs:   make([]PlayerInput[I], n),
	}
	for p, id := range cfg.Players {
		pl := &s.players[p]
		pl.peer, pl.peerIdx = id, -1
		pl.inputs = make([]I, history)
		pl.lastReceived = NoFrame
		pl.disconnectFrame = NoFrame
		if id == cfg.Self {
			s.local = append(s.local, p)
			continue
		}
		idx, ok := s.peerIndex[id]
		if !ok {
			idx = len(s.peers)
			s.peerIndex[id] = idx
			rp := remotePeer{id: id, view: make([]PlayerStatus, n), sums: newChecksumMatch()}
			for i := range rp.view {
				rp.view[i].LastFrame = NoFrame
			}
			rp.rollbacks.counts = make([]uint64, stateSlots+1)
			rp.stats.Peer = id
			s.peers = append(s.peers, rp)
		}
		pl.peerIdx = idx
		s.peers[idx].players = append(s.peers[idx].players, p)
	}
	if len(s.local) == 0 {
		return nil, fmt.Errorf("%w: peer %d hosts no player (use a spectator session)", ErrInvalidConfig, cfg.Self)
	}
	for _, id := range cfg.Spectators {
		if _, dup := s.specIndex[id]; dup || id == cfg.Self {
			return nil, fmt.Errorf("%w: spectator %d listed twice or is this peer", ErrInvalidConfig, id)
		}
		if _, isPlayer := s.peerIndex[id]; isPlayer {
			return nil, fmt.Errorf("%w: spectator %d also hosts a player", ErrInvalidConfig, id)
		}
		s.specIndex[id] = len(s.spectators)
		s.spectators = append(s.spectators, newSpectatorLink(id))
	}
	s.staged = make([]I, len(s.local))
	s.stagedSet = make([]bool, len(s.local))
	s.msg.Inputs = make([]I, 0, maxFramesPerMessage*len(s.local))
	s.msg.Status = make([]PlayerStatus, 0, n)
	s.stats.Peers = len(s.peers)
	for i := range s.peers {
		s.events.push(Event{Kind: EventSynchronizing, Peer: s.peers[i].id})
	}
	if len(s.peers) == 0 {
		s.startRunning()
	}
	return s, nil
}

// fingerprint identifies the session's shape, so that peers configured
// differently refuse each other instead of desyncing.
func fingerprint[I comparable](players []PeerID) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "lyn-rollback-1|%s|%d", reflect.TypeFor[I]().String(), len(players))
	for _, id := range players {
		fmt.Fprintf(h, "|%d", id)
	}
	return h.Sum64()
}

// Fingerprint returns the session's fingerprint, which every peer of the
// same session shares.
func (s *Session[I]) Fingerprint() uint64 { return s.fingerprint }

// Frame returns the current frame: the frame the next AdvanceFrame advances.
func (s *Session[I]) Frame() Frame { return s.frame }

// ConfirmedFrame returns the last frame whose inputs every peer holds; it
// will never be rolled back.
func (s *Session[I]) ConfirmedFrame() Frame { return s.confirmed }

// Running reports whether every peer has been heard from.
func (s *Session[I]) Running() bool { return s.running }

// LocalPlayers returns the players this peer hosts.
func (s *Session[I]) LocalPlayers() []Player { return s.local }

// InputDelay returns the current input delay in frames.
func (s *Session[I]) InputDelay() int { return s.delay }

// SetInputDelay changes the input delay of this peer's players while the
// game runs. When it grows, the frames in between repeat the last input;
// when it shrinks, inputs are dropped until the delay is caught up. Both
// happen in the input stream that every peer receives, so no peer desyncs.
func (s *Session[I]) SetInputDelay(frames int) error {
	if s.closed {
		return ErrClosed
	}
	if frames < 0 || frames > MaxInputDelay {
		return fmt.Errorf("%w: input delay %d, want 0 to %d", ErrInvalidConfig, frames, MaxInputDelay)
	}
	s.delay = frames
	return nil
}

// AddLocalInput sets the input of a local player for the next call to
// AdvanceFrame, which sends it for frame Frame()+InputDelay(). The input is
// copied. Add one for every local player before every AdvanceFrame; while the
// session stalls (ErrPredictionLimit) the frame's input has already been
// sent, and inputs added meanwhile are dropped as a shrunk delay would.
func (s *Session[I]) AddLocalInput(p Player, in I) error {
	if s.closed {
		return ErrClosed
	}
	for i, lp := range s.local {
		if lp == p {
			s.staged[i], s.stagedSet[i] = in, true
			return nil
		}
	}
	return fmt.Errorf("%w: player %d", ErrNotLocalPlayer, p)
}

// Events appends the events that happened since the last call to dst and
// returns it. Pass a reused slice to avoid allocating.
func (s *Session[I]) Events(dst []Event) []Event { return s.events.drain(dst) }

// Disconnect gives up on a remote peer now, as if it had timed out: every
// peer then agrees on the frame from which its players are disconnected.
func (s *Session[I]) Disconnect(peer PeerID) error {
	if s.closed {
		return ErrClosed
	}
	idx, ok := s.peerIndex[peer]
	if !ok {
		return fmt.Errorf("%w: peer %d hosts no player", ErrInvalidConfig, peer)
	}
	s.giveUp(idx)
	return nil
}

// Close tells the other peers this one is leaving and ends the session.
func (s *Session[I]) Close() error {
	if s.closed {
		return nil
	}
	s.msg.Reset()
	s.msg.Kind = KindGoodbye
	for range goodbyeCopies {
		for i := range s.peers {
			if !s.peers[i].givenUp {
				s.tr.Send(s.peers[i].id, &s.msg)
			}
		}
		for i := range s.spectators {
			s.tr.Send(s.spectators[i].id, &s.msg)
		}
	}
	s.closed = true
	return nil
}

// AdvanceFrame runs one tick: it reads what arrived, rolls back if a real
// input differs from its prediction, advances one frame with the staged
// local inputs, and sends inputs to the peers. It returns
//   - ErrNotSynchronized while some peer has not been heard from yet,
//   - ErrMissingLocalInput if a local player has no input,
//   - ErrPredictionLimit when it would predict too far ahead,
//
// in which cases no frame was advanced (a rollback may still have run);
// call it again next tick. Other errors come from Game.Load.
func (s *Session[I]) AdvanceFrame() error {
	if s.closed {
		return ErrClosed
	}
	now := s.cfg.Clock.Now()
	s.receive(now)
	if !s.running {
		s.sendSync()
		return ErrNotSynchronized
	}
	s.checkTimeouts(now)
	s.agreeDisconnects()
	err := s.rollback()
	if err == nil {
		err = s.advance()
		// Only states known to be correct may be confirmed and compared.
		s.updateConfirmed()
	}
	if s.timeSyncDirty {
		s.timeSyncDirty = false
		s.updateTimeSync(now)
	}
	sendSum := s.outSumRepeats > 0
	if sendSum {
		s.outSumRepeats--
	}
	s.sendInputs(now, sendSum)
	s.sendSpectators(now, sendSum)
	return err
}

// advance commits the staged local inputs, then advances one frame if no
// remote input would be predicted too far ahead. The local inputs are
// committed (and sent) even when it cannot advance: in lockstep every peer
// waits for the others' input of the very frame it is sending its own for.
func (s *Session[I]) advance() error {
	for i := range s.local {
		if !s.stagedSet[i] {
			return ErrMissingLocalInput
		}
	}
	// The local input lands at frame+delay. Frames skipped because the delay
	// grew repeat the previous input; a shrunk delay drops inputs until the
	// frames catch up.
	target := s.frame + Frame(s.delay)
	if target > s.localLast {
		if int(target-s.confirmed) >= s.histMask {
			s.stats.Stalls++
			return ErrPredictionLimit // peers are too far behind acknowledging
		}
		for f := s.localLast + 1; f <= target; f++ {
			for i, p := range s.local {
				pl := &s.players[p]
				switch {
				case f == target:
					pl.inputs[int(f)&s.histMask] = s.staged[i]
				case f > 0:
					pl.inputs[int(f)&s.histMask] = pl.inputs[int(f-1)&s.histMask]
				default:
					var zero I
					pl.inputs[int(f)&s.histMask] = zero
				}
				pl.lastReceived = f
			}
		}
		s.localLast = target
	}
	clear(s.stagedSet)
	for p := range s.players {
		pl := &s.players[p]
		if pl.peerIdx < 0 || (pl.agreed && s.frame >= pl.disconnectFrame) {
			continue
		}
		if int(s.frame-pl.lastReceived) > s.cfg.MaxPrediction {
			s.stats.Stalls++
			return ErrPredictionLimit
		}
	}
	s.step()
	s.stats.FramesAdvanced++
	return nil
}

// step saves the current state and advances the game by one frame with the
// best inputs known, writing predictions into the input rings so that a
// later real input can be compared with what was used.
func (s *Session[I]) step() {
	f := s.frame
	state := saveState(&s.states, s.game, f)
	if s.checksumsOn && f > 0 && int(f)%s.cfg.ChecksumInterval == 0 {
		s.sums.put(int(f)/s.cfg.ChecksumInterval, f, checksumSaved(s.game, state))
	}
	for p := range s.players {
		in, st := s.inputFor(p, f, true)
		s.advanceInputs[p] = PlayerInput[I]{Input: in, Status: st}
	}
	s.game.Advance(s.advanceInputs)
	s.frame++
}

// inputFor returns player p's input for frame f and its status. With
// predict, a missing input is predicted and remembered as the one used.
func (s *Session[I]) inputFor(p Player, f Frame, predict bool) (I, InputStatus) {
	pl := &s.players[p]
	if pl.agreed && f >= pl.disconnectFrame {
		var zero I
		return zero, Disconnected
	}
	slot := int(f) & s.histMask
	if f <= pl.lastReceived {
		return pl.inputs[slot], Confirmed
	}
	var last I
	if pl.lastReceived >= 0 {
		last = pl.inputs[int(pl.lastReceived)&s.histMask]
	}
	guess := last
	if s.cfg.Predict != nil {
		guess = s.cfg.Predict(p, last)
	}
	if predict {
		pl.inputs[slot] = guess
	}
	return guess, Predicted
}

// rollback re-simulates from the first frame that used a wrong input.
func (s *Session[I]) rollback() error {
	if s.firstIncorrect == NoFrame || s.firstIncorrect >= s.frame {
		s.firstIncorrect, s.badPeer = NoFrame, -1
		return nil
	}
	from, now := s.firstIncorrect, s.frame
	state, ok := s.states.get(from)
	if !ok {
		// The rings are sized so this cannot happen; if it does the state is
		// lost, and desync detection will say so rather than this panicking.
		s.cfg.Logger.Error("rollback: state no longer saved", "frame", from, "current", now)
		s.stats.LostRollbacks++
		s.firstIncorrect, s.badPeer = NoFrame, -1
		return nil
	}
	if err := s.game.Load(state); err != nil {
		return fmt.Errorf("rollback: loading own state of frame %d: %w", from, err)
	}
	depth := int(now - from)
	s.stats.Rollbacks++
	s.stats.RollbackFrames += uint64(depth)
	if s.badPeer >= 0 {
		s.peers[s.badPeer].rollbacks.add(depth)
	}
	s.frame = from
	s.firstIncorrect, s.badPeer = NoFrame, -1
	for s.frame < now {
		s.step()
	}
	return nil
}

// markIncorrect records that frame f was simulated with a wrong input.
func (s *Session[I]) markIncorrect(f Frame, peerIdx int) {
	if f >= s.frame {
		return
	}
	if s.firstIncorrect == NoFrame || f < s.firstIncorrect {
		s.firstIncorrect, s.badPeer = f, peerIdx
	}
}

// updateConfirmed advances the globally confirmed frame and, in frame order,
// hands confirmed frames to the recorder, sends and compares checksums.
func (s *Session[I]) updateConfirmed() {
	c := s.localLast
	for p := range s.players {
		pl := &s.players[p]
		if pl.agreed {
			continue
		}
		c = min(c, pl.lastReceived)
		for q := range s.peers {
			if !s.peers[q].givenUp {
				c = min(c, s.peers[q].view[p].LastFrame)
			}
		}
	}
	if c > s.confirmed {
		s.confirmed = c
	}
	for {
		next := s.recorded + 1
		// The checksum of the state at a checksum frame comes before that
		// frame's inputs: it needs the state simulated, with final inputs.
		if s.checksumsOn && next > s.sumDone && next > 0 && int(next)%s.cfg.ChecksumInterval == 0 {
			// The state at s.frame is the game's live state, saved only when
			// the frame is advanced.
			if next >= s.frame || next-1 > s.confirmed {
				return
			}
			s.confirmChecksum(next)
		}
		if next > s.confirmed {
			return
		}
		if s.cfg.Recorder != nil {
			for p := range s.players {
				in, st := s.inputFor(p, next, false)
				s.recordInputs[p] = PlayerInput[I]{Input: in, Status: st}
			}
			s.cfg.Recorder.RecordFrame(next, s.recordInputs)
		}
		s.recorded = next
	}
}

// confirmChecksum handles the checksum of frame f once its state is final
// on every peer: record it, send it, compare it with what peers sent.
func (s *Session[I]) confirmChecksum(f Frame) {
	s.sumDone = f
	sum, ok := s.sums.get(int(f)/s.cfg.ChecksumInterval, f)
	if !ok {
		s.stats.ChecksumsMissed++
		return
	}
	if s.cfg.Recorder != nil {
		s.cfg.Recorder.RecordChecksum(f, sum)
	}
	if s.cfg.DisableDesyncDetection {
		return
	}
	s.outSumFrame, s.outSum, s.outSumRepeats = f, sum, checksumRepeats
	for q := range s.peers {
		if remote, ok := s.peers[q].sums.take(f); ok {
			s.compareChecksum(q, f, remote)
		}
	}
}

// compareChecksum compares a peer's checksum of frame f with ours.
func (s *Session[I]) compareChecksum(q int, f Frame, remote uint64) {
	rp := &s.peers[q]
	local, ok := s.sums.get(int(f)/s.cfg.ChecksumInterval, f)
	if !ok || !rp.sums.check(f) {
		return
	}
	rp.stats.ChecksumsCompared++
	if local == remote {
		return
	}
	rp.stats.Desyncs++
	err := &DesyncError{Frame: f, Peer: rp.id, Local: local, Remote: remote}
	s.cfg.Logger.Error("rollback: desync", "frame", f, "peer", rp.id, "local", local, "remote", remote)
	s.events.push(Event{Kind: EventDesync, Peer: rp.id, Frame: f, Err: err})
}

// startRunning is called once every peer has been heard from.
func (s *Session[I]) startRunning() {
	s.running = true
	now := s.cfg.Clock.Now()
	for i := range s.peers {
		s.peers[i].lastHeard = now
	}
	s.events.push(Event{Kind: EventRunning})
}

// giveUp stops accepting a peer's input and announces it in the status
// every message carries; agreeDisconnects then settles the frame.
func (s *Session[I]) giveUp(q int) {
	rp := &s.peers[q]
	if rp.givenUp {
		return
	}
	rp.givenUp = true
	for _, p := range rp.players {
		s.players[p].givenUp = true
	}
	s.cfg.Logger.Info("rollback: giving up on peer", "peer", rp.id, "frame", s.frame)
	// Peers that were waiting for this one may now agree.
	s.agreeDisconnects()
}

// agreeDisconnects settles the disconnect frame of every given-up player
// once every peer still in the session has given up on it too. The frame is
// one past the smallest last frame any of them holds, so it is the same on
// every peer; inputs after it that some peer already used are rolled back.
func (s *Session[I]) agreeDisconnects() {
	for p := range s.players {
		pl := &s.players[p]
		if !pl.givenUp || pl.agreed {
			continue
		}
		last := pl.lastReceived
		all := true
		for q := range s.peers {
			rp := &s.peers[q]
			if rp.givenUp {
				continue
			}
			if !rp.view[p].Disconnected {
				all = false
				break
			}
			last = min(last, rp.view[p].LastFrame)
		}
		if !all {
			continue
		}
		pl.agreed = true
		pl.disconnectFrame = last + 1
		s.markIncorrect(pl.disconnectFrame, -1)
		s.events.push(Event{Kind: EventPeerDisconnected, Peer: pl.peer, Player: p, Frame: pl.disconnectFrame})
	}
}

// checkTimeouts announces silent peers and gives up on those silent too long.
func (s *Session[I]) checkTimeouts(now time.Time) {
	for q := range s.peers {
		rp := &s.peers[q]
		if rp.givenUp {
			continue
		}
		silent := now.Sub(rp.lastHeard)
		if silent >= s.cfg.DisconnectTimeout {
			s.giveUp(q)
			continue
		}
		if silent >= s.cfg.DisconnectNotifyStart && !rp.interrupted {
			rp.interrupted = true
			s.events.push(Event{Kind: EventPeerInterrupted, Peer: rp.id, DisconnectIn: s.cfg.DisconnectTimeout - silent})
		}
	}
}
