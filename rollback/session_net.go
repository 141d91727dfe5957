package rollback

import (
	"math"
	"time"
)

// receive drains the transport. Nothing a peer sends can make the session
// panic or corrupt its state: a message that fails validation is dropped and
// counted, before it changes anything.
func (s *Session[I]) receive(now time.Time) {
	for {
		from, m, ok := s.tr.Receive()
		if !ok {
			return
		}
		if q, ok := s.peerIndex[from]; ok {
			s.handlePeer(q, m, now)
			continue
		}
		if i, ok := s.specIndex[from]; ok {
			s.handleSpectator(i, m, now)
			continue
		}
		s.stats.UnknownPeerMessages++
	}
}

func (s *Session[I]) handlePeer(q int, m *Message[I], now time.Time) {
	rp := &s.peers[q]
	if rp.givenUp {
		return // its players are (being) disconnected; nothing it says counts now
	}
	switch m.Kind {
	case KindSync:
		if m.Fingerprint != s.fingerprint {
			s.mismatch(q, m.Fingerprint)
			return
		}
		s.heard(q, now)
	case KindInput:
		if !s.validInput(rp, m) {
			rp.stats.MessagesInvalid++
			return
		}
		s.heard(q, now)
		s.handleInput(q, m, now)
	case KindGoodbye:
		s.heard(q, now)
		s.giveUp(q)
	default:
		rp.stats.MessagesUnknown++
	}
}

// mismatch reports, once, a peer whose session has another shape.
func (s *Session[I]) mismatch(q int, remote uint64) {
	rp := &s.peers[q]
	rp.stats.MessagesInvalid++
	if rp.stats.ConfigMismatch {
		return
	}
	rp.stats.ConfigMismatch = true
	err := &ConfigMismatchError{Peer: rp.id, Local: s.fingerprint, Remote: remote}
	s.cfg.Logger.Error("rollback: peer config mismatch", "peer", rp.id, "err", err)
	s.events.push(Event{Kind: EventConfigMismatch, Peer: rp.id, Err: err})
}

// heard notes that a peer is alive (and synchronized: only a peer that
// accepted our fingerprint sends inputs).
func (s *Session[I]) heard(q int, now time.Time) {
	rp := &s.peers[q]
	rp.lastHeard = now
	if rp.interrupted {
		rp.interrupted = false
		s.events.push(Event{Kind: EventPeerResumed, Peer: rp.id})
	}
	if !rp.synced {
		rp.synced = true
		s.events.push(Event{Kind: EventSynchronized, Peer: rp.id})
		if !s.running {
			for i := range s.peers {
				if !s.peers[i].synced {
					return
				}
			}
			s.startRunning()
		}
	}
}

// validInput checks everything in an input message that could hurt: shape,
// frame ranges, sizes. Frames far from ours are lies or garbage.
func (s *Session[I]) validInput(rp *remotePeer, m *Message[I]) bool {
	n := len(rp.players)
	if len(m.Status) != len(s.players) || len(m.Inputs)%n != 0 || len(m.Inputs)/n > maxFramesPerMessage ||
		(len(m.Inputs) > 0 && m.PerFrame != n) {
		return false
	}
	window := Frame(s.histMask + 1)
	if m.Frame < 0 || m.Frame > s.frame+window || m.Ack < NoFrame || m.Ack > s.localLast {
		return false
	}
	for i := range m.Status {
		lf := m.Status[i].LastFrame
		if lf < NoFrame || lf > s.frame+window {
			return false
		}
	}
	if m.HasPing && (m.PingFrame < 0 || m.PingFrame > s.frame+window || m.PingTime < 0 ||
		math.IsNaN(float64(m.Advantage)) || math.IsInf(float64(m.Advantage), 0) || math.Abs(float64(m.Advantage)) > float64(window)) {
		return false
	}
	if m.HasPong && (m.PongTime < 0 || m.PongHold < 0) {
		return false
	}
	if m.HasChecksum && m.ChecksumFrame <= 0 {
		return false
	}
	return true
}

func (s *Session[I]) handleInput(q int, m *Message[I], now time.Time) {
	rp := &s.peers[q]
	n := len(rp.players)
	frames := len(m.Inputs) / n
	// New inputs: only the contiguous continuation of what we hold counts.
	last := s.players[rp.players[0]].lastReceived
	for k := range frames {
		f := m.Frame + Frame(k)
		if f <= last {
			continue
		}
		if f != last+1 || int(f-s.confirmed) >= s.histMask+1 {
			break // a gap (reordering) or no room: the sender repeats it later
		}
		for j, p := range rp.players {
			pl := &s.players[p]
			in := m.Inputs[k*n+j]
			slot := int(f) & s.histMask
			if f < s.frame {
				rp.stats.InputsLate++
				if pl.inputs[slot] != in {
					s.markIncorrect(f, q)
				}
			}
			pl.inputs[slot] = in
			pl.lastReceived = f
		}
		last = f
		rp.stats.InputsReceived += uint64(n)
	}

	// The peer's view of every player; monotonic, so stale or reordered
	// messages change nothing.
	for p := range m.Status {
		st, v := m.Status[p], &rp.view[p]
		if st.LastFrame > v.LastFrame && !v.Disconnected {
			v.LastFrame = st.LastFrame
		}
		if st.Disconnected && !v.Disconnected {
			v.Disconnected = true
			s.peerGaveUp(q, p)
		}
	}
	if m.Ack > NoFrame {
		for _, p := range s.local {
			v := &rp.view[p]
			if m.Ack > v.LastFrame && !v.Disconnected {
				v.LastFrame = m.Ack
			}
		}
	}

	if m.HasPing {
		rp.pongPending, rp.pongTime, rp.pongHeardAt = true, m.PingTime, now
		rp.remoteFrame, rp.remoteFrameAt, rp.remoteAdv = m.PingFrame, now, m.Advantage
		rp.haveFrameInfo = true
		s.timeSyncDirty = true
	}
	if m.HasPong {
		rtt := now.Sub(s.epoch) - m.PongTime - m.PongHold
		if rtt >= 0 && rtt < time.Minute {
			rp.rtt, rp.rttValid = rtt, true
		}
	}
	if m.HasChecksum {
		s.remoteChecksum(q, m.ChecksumFrame, m.Checksum)
	}
}

// peerGaveUp reacts to a peer saying it gave up on player p: we give up on
// p's peer too (so every peer agrees quickly), or, if p is ours, on the peer
// that cut us off — it ignores us from now on.
func (s *Session[I]) peerGaveUp(q int, p Player) {
	host := s.players[p].peerIdx
	if host < 0 {
		s.giveUp(q)
		return
	}
	s.giveUp(host)
}

// remoteChecksum compares a peer's checksum now, or keeps it until this
// peer has confirmed that frame itself.
func (s *Session[I]) remoteChecksum(q int, f Frame, sum uint64) {
	if s.peers[q].sums.offer(f, sum, f <= s.sumDone) {
		s.compareChecksum(q, f, sum)
	}
}

// updateTimeSync recomputes how far this peer runs ahead of the others.
// Each side estimates its own advantage (its frame minus the peer's frame,
// projected over half the round trip) and reports it; averaging the two
// views removes what the two sides see alike; an asymmetric path still
// biases it by half the one-way difference, which round trips cannot see.
// Frames are always read after the tick's advance, on both sides, so the
// estimate has no bias of a frame.
func (s *Session[I]) updateTimeSync(now time.Time) {
	var sum float64
	var count int
	for q := range s.peers {
		rp := &s.peers[q]
		if rp.givenUp || rp.interrupted || !rp.haveFrameInfo || !rp.rttValid {
			continue // a silent peer's frame is a guess, not a measurement
		}
		rp.localAdv = s.localAdvantage(rp, now)
		ahead := (float64(rp.localAdv) - float64(rp.remoteAdv)) / 2
		rp.stats.FramesAhead = float32(ahead)
		sum += ahead
		count++
	}
	if count == 0 {
		return
	}
	s.framesAhead = float32(sum / float64(count))
	if math.Abs(float64(s.framesAhead)) >= 1 && now.Sub(s.lastTimeSyncEv) >= time.Second {
		s.lastTimeSyncEv = now
		s.events.push(Event{Kind: EventTimeSync, FramesAhead: s.framesAhead})
	}
}

// localAdvantage estimates how many frames this peer is ahead of rp now.
func (s *Session[I]) localAdvantage(rp *remotePeer, now time.Time) float32 {
	if !rp.haveFrameInfo || !rp.rttValid {
		return 0
	}
	elapsed := rp.rtt/2 + now.Sub(rp.remoteFrameAt)
	remote := float64(rp.remoteFrame) + elapsed.Seconds()*float64(s.cfg.FrameRate)
	return float32(float64(s.frame) - remote)
}

// sendSync asks every peer to synchronize (sent every tick until running;
// a peer that hears us answers with its own sync, or inputs once running).
func (s *Session[I]) sendSync() {
	s.msg.Reset()
	s.msg.Kind = KindSync
	s.msg.Fingerprint = s.fingerprint
	for q := range s.peers {
		s.tr.Send(s.peers[q].id, &s.msg)
	}
}

// sendInputs sends every peer the local inputs it has not acknowledged,
// this peer's view of every player, and piggybacked ping, pong, checksum.
func (s *Session[I]) sendInputs(now time.Time, sendSum bool) {
	for q := range s.peers {
		rp := &s.peers[q]
		if rp.givenUp {
			continue
		}
		m := &s.msg
		m.Reset()
		m.Kind = KindInput
		from := rp.view[s.local[0]].LastFrame + 1
		if from < 0 {
			from = 0
		}
		// Far behind, the oldest go first: the receiver needs them in order.
		to := min(s.localLast, from+maxFramesPerMessage-1)
		m.Frame, m.PerFrame = from, len(s.local)
		for f := from; f <= to; f++ {
			slot := int(f) & s.histMask
			for _, p := range s.local {
				m.Inputs = append(m.Inputs, s.players[p].inputs[slot])
			}
		}
		rp.stats.InputsSent += uint64(len(m.Inputs))
		m.Ack = s.players[rp.players[0]].lastReceived
		for p := range s.players {
			pl := &s.players[p]
			m.Status = append(m.Status, PlayerStatus{LastFrame: pl.lastReceived, Disconnected: pl.givenUp})
		}
		if !now.Before(rp.nextPing) {
			rp.nextPing = now.Add(pingInterval)
			m.HasPing, m.PingTime, m.PingFrame = true, now.Sub(s.epoch), s.frame
			m.Advantage = s.localAdvantage(rp, now)
		}
		if rp.pongPending {
			rp.pongPending = false
			m.HasPong, m.PongTime, m.PongHold = true, rp.pongTime, now.Sub(rp.pongHeardAt)
		}
		if sendSum {
			m.HasChecksum, m.ChecksumFrame, m.Checksum = true, s.outSumFrame, s.outSum
		}
		s.tr.Send(rp.id, m)
	}
}
