package rollback

import "time"

// snapshotRetry: a spectator that still asks to synchronize this long after
// its snapshot was sent lost it (or restarted), so it gets a new one.
const snapshotRetry = time.Second

// oldestHeld is the oldest frame whose inputs the input rings still hold
// for every player: rings are written ahead of the confirmed frame (remote
// inputs as they arrive, local ones at frame+delay, predictions), so the
// bound comes from the newest frame written, not from the confirmed one.
func (s *Session[I]) oldestHeld() Frame {
	newest := max(s.localLast, s.frame, s.confirmed)
	for p := range s.players {
		newest = max(newest, s.players[p].lastReceived)
	}
	return newest - Frame(s.histMask)
}

// spectatorLink is a player peer's side of one spectator: it streams every
// confirmed input, starting with a snapshot if the spectator is late.
type spectatorLink struct {
	id        PeerID
	active    bool
	started   bool
	lastHeard time.Time
	startedAt time.Time
	acked     Frame // last frame the spectator holds
	sent      uint64
	invalid   uint64
}

func newSpectatorLink(id PeerID) spectatorLink {
	return spectatorLink{id: id, acked: NoFrame}
}

func (s *Session[I]) handleSpectator(i int, m *Message[I], now time.Time) {
	sp := &s.spectators[i]
	switch m.Kind {
	case KindSync:
		if m.Fingerprint != s.fingerprint {
			sp.invalid++
			return
		}
		sp.lastHeard = now
		// A spectator asks to sync only until it has a start: if it still
		// asks long after one was sent, it lost it or restarted.
		if !sp.active || (sp.started && now.Sub(sp.startedAt) >= snapshotRetry) {
			sp.active, sp.started = true, false
		}
	case KindInput:
		if len(m.Inputs) != 0 || m.Ack < NoFrame || m.Ack > s.confirmed {
			sp.invalid++
			return
		}
		sp.lastHeard = now
		sp.acked = max(sp.acked, m.Ack)
	case KindGoodbye:
		sp.active = false
	}
}

// sendSpectators streams confirmed inputs to every active spectator.
func (s *Session[I]) sendSpectators(now time.Time, sendSum bool) {
	for i := range s.spectators {
		sp := &s.spectators[i]
		if !sp.active {
			continue
		}
		if now.Sub(sp.lastHeard) >= s.cfg.DisconnectTimeout {
			sp.active = false
			continue
		}
		oldest := s.oldestHeld()
		if sp.started && sp.acked+1 < oldest {
			sp.started = false // fell too far behind: start again from a snapshot
		}
		if !sp.started && !s.startSpectator(sp, now, oldest) {
			continue
		}
		m := &s.msg
		m.Reset()
		m.Kind = KindInput
		m.Frame, m.PerFrame = sp.acked+1, len(s.players)
		m.Ack = NoFrame
		to := min(s.confirmed, m.Frame+maxFramesPerMessage-1)
		for f := m.Frame; f <= to; f++ {
			for p := range s.players {
				in, _ := s.inputFor(p, f, false)
				m.Inputs = append(m.Inputs, in)
			}
		}
		for p := range s.players {
			pl := &s.players[p]
			if pl.agreed {
				m.Status = append(m.Status, PlayerStatus{LastFrame: pl.disconnectFrame - 1, Disconnected: true})
			} else {
				m.Status = append(m.Status, PlayerStatus{LastFrame: s.confirmed})
			}
		}
		if sendSum {
			m.HasChecksum, m.ChecksumFrame, m.Checksum = true, s.outSumFrame, s.outSum
		}
		sp.sent += uint64(len(m.Inputs))
		s.tr.Send(sp.id, m)
	}
}

// startSpectator picks where a spectator starts: frame 0 if the input rings
// still reach back there, else a snapshot of the newest state that is final
// on every peer. It reports whether streaming can begin.
func (s *Session[I]) startSpectator(sp *spectatorLink, now time.Time, oldest Frame) bool {
	if oldest <= 0 {
		sp.started, sp.startedAt, sp.acked = true, now, NoFrame
		return true
	}
	for f := min(s.confirmed+1, s.frame); f > s.frame-Frame(s.states.mask+1); f-- {
		state, ok := s.states.get(f)
		if !ok {
			continue
		}
		m := &s.msg
		m.Reset()
		m.Kind = KindSnapshot
		m.Frame = f
		m.State = append(m.State, state...)
		s.tr.Send(sp.id, m)
		sp.started, sp.startedAt, sp.acked = true, now, f-1
		return true
	}
	return false
}
