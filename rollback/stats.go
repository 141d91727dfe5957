package rollback

import "time"

// PeerStats describes one remote player peer as this peer sees it.
type PeerStats struct {
	Peer         PeerID
	Synchronized bool
	Interrupted  bool // silent for longer than DisconnectNotifyStart
	Disconnected bool // given up on (its players are or will be disconnected)
	// RTT is the last measured round trip (0 until measured).
	RTT time.Duration
	// FramesAhead is how many frames this peer runs ahead of that one.
	FramesAhead float32
	// RollbackLast and RollbackP99 are the depths, in frames, of the
	// rollbacks this peer's late inputs caused: the last one and the 99th
	// percentile of all of them.
	RollbackLast, RollbackP99 int
	Rollbacks                 uint64
	// InputsSent counts inputs put on the wire, repeats included.
	InputsSent uint64
	// InputsReceived counts new inputs accepted from that peer.
	InputsReceived uint64
	// InputsLate counts inputs that arrived after their frame had been
	// simulated with a prediction.
	InputsLate uint64
	// MessagesInvalid counts messages dropped because they failed validation;
	// MessagesUnknown those of a kind this version does not know.
	MessagesInvalid, MessagesUnknown uint64
	ChecksumsCompared, Desyncs       uint64
	ConfigMismatch                   bool
}

// Stats describes a session as a whole.
type Stats struct {
	Frame, ConfirmedFrame Frame
	Peers                 int
	FramesAdvanced        uint64
	// Rollbacks counts rollbacks; RollbackFrames the frames re-simulated.
	Rollbacks, RollbackFrames uint64
	// Stalls counts AdvanceFrame calls that did not advance because the
	// prediction limit was reached.
	Stalls      uint64
	FramesAhead float32
	// ChecksumsMissed counts checksum frames skipped because the state was
	// no longer saved; LostRollbacks rollbacks impossible for the same
	// reason (both stay 0 unless the rings are too small).
	ChecksumsMissed, LostRollbacks uint64
	// UnknownPeerMessages counts messages from peers not in the session.
	UnknownPeerMessages uint64
	// EventsDropped counts events dropped because the game did not read them.
	EventsDropped uint64
}

// Stats returns the session's counters.
func (s *Session[I]) Stats() Stats {
	st := s.stats
	st.Frame, st.ConfirmedFrame, st.FramesAhead = s.frame, s.confirmed, s.framesAhead
	st.EventsDropped = s.events.dropped
	return st
}

// PeerStats returns what this peer knows of a remote player peer.
func (s *Session[I]) PeerStats(peer PeerID) (PeerStats, bool) {
	q, ok := s.peerIndex[peer]
	if !ok {
		return PeerStats{}, false
	}
	return s.peerStats(q), true
}

// AppendPeerStats appends the stats of every remote player peer to dst.
func (s *Session[I]) AppendPeerStats(dst []PeerStats) []PeerStats {
	for q := range s.peers {
		dst = append(dst, s.peerStats(q))
	}
	return dst
}

func (s *Session[I]) peerStats(q int) PeerStats {
	rp := &s.peers[q]
	st := rp.stats
	st.Synchronized, st.Interrupted, st.Disconnected = rp.synced, rp.interrupted, rp.givenUp
	if rp.rttValid {
		st.RTT = rp.rtt
	}
	st.RollbackLast, st.RollbackP99, st.Rollbacks = rp.rollbacks.last, rp.rollbacks.percentile(0.99), rp.rollbacks.total
	return st
}

// TimeSync is advice on pacing frames so that peers run in step.
type TimeSync struct {
	// FramesAhead is how far this peer runs ahead of the others, on average
	// (negative: behind).
	FramesAhead float32
	// FrameDuration is how long to wait before the next frame: the nominal
	// 1/FrameRate, stretched by at most 10 % when ahead and shrunk when
	// behind, so that the gap closes over about half a second without
	// skipping or repeating whole frames.
	FrameDuration time.Duration
}

// TimeSync returns the current pacing advice.
func (s *Session[I]) TimeSync() TimeSync {
	nominal := time.Second / time.Duration(s.cfg.FrameRate)
	adjust := float64(s.framesAhead) / timeSyncCorrectionFrames
	adjust = max(-maxSpeedAdjust, min(maxSpeedAdjust, adjust))
	return TimeSync{FramesAhead: s.framesAhead, FrameDuration: time.Duration(float64(nominal) * (1 + adjust))}
}
