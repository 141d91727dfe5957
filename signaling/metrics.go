//go:build !js

package signaling

import (
	"bufio"
	"net/http"
	"sort"
	"strconv"
	"sync/atomic"
)

// rejectReasons are the labels of lyn_signaling_rejects_total; fixed so that the map is
// read-only after init and a client cannot grow it.
var rejectReasons = []string{
	string(CodeBadMessage), string(CodeBadRequest), string(CodeBadRoom), string(CodeBadVersion),
	string(CodePlayersMismatch), string(CodeRoomStarted), string(CodeRoomFull), string(CodeTooManyRooms),
	string(CodeTooManyConnections), string(CodeBadToken), string(CodeTokenExpired), string(CodeBadResume),
	string(CodeRateLimited), string(CodeTooManyBadMessages), string(CodeShuttingDown),
	"bad-origin", "bad-upgrade", "message-too-big", "idle-timeout", "slow-consumer", "write-timeout",
}

type metrics struct {
	relayed atomic.Uint64
	started atomic.Uint64
	resumes atomic.Uint64
	rejects map[string]*atomic.Uint64
}

func (m *metrics) init() {
	m.rejects = make(map[string]*atomic.Uint64, len(rejectReasons))
	for _, r := range rejectReasons {
		m.rejects[r] = new(atomic.Uint64)
	}
}

func (m *metrics) reject(reason string) {
	if c := m.rejects[reason]; c != nil {
		c.Add(1)
	}
}

// Stats is a snapshot of the server's counters, the same numbers /metrics exports.
type Stats struct {
	Rooms, Peers, PeersInGrace, Connections int
	RoomsStarted, MessagesRelayed, Resumes  uint64
	Rejects                                 map[string]uint64
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := Stats{Rooms: len(s.rooms), Peers: s.peers, PeersInGrace: s.inGrace, Connections: len(s.conns)}
	s.mu.Unlock()
	st.RoomsStarted = s.stats.started.Load()
	st.MessagesRelayed = s.stats.relayed.Load()
	st.Resumes = s.stats.resumes.Load()
	st.Rejects = make(map[string]uint64, len(s.stats.rejects))
	for r, c := range s.stats.rejects {
		st.Rejects[r] = c.Load()
	}
	return st
}

func (s *Server) serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("shutting down\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// serveMetrics writes the Prometheus text exposition format (version 0.0.4).
func (s *Server) serveMetrics(w http.ResponseWriter) {
	st := s.Stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	b := bufio.NewWriter(w)
	metric := func(name, typ, help string) {
		b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
	}
	value := func(name string, v uint64) {
		b.WriteString(name + " " + strconv.FormatUint(v, 10) + "\n")
	}
	metric("lyn_signaling_rooms", "gauge", "Rooms open now.")
	value("lyn_signaling_rooms", uint64(st.Rooms))
	metric("lyn_signaling_peers", "gauge", "Peers in rooms now, including those in their resume grace period.")
	value("lyn_signaling_peers", uint64(st.Peers))
	metric("lyn_signaling_peers_in_grace", "gauge", "Peers whose socket dropped and who may still resume.")
	value("lyn_signaling_peers_in_grace", uint64(st.PeersInGrace))
	metric("lyn_signaling_connections", "gauge", "Open WebSocket connections.")
	value("lyn_signaling_connections", uint64(st.Connections))
	metric("lyn_signaling_rooms_started_total", "counter", "Rooms that reached their player count and started.")
	value("lyn_signaling_rooms_started_total", st.RoomsStarted)
	metric("lyn_signaling_messages_relayed_total", "counter", "Signals relayed from one peer to another.")
	value("lyn_signaling_messages_relayed_total", st.MessagesRelayed)
	metric("lyn_signaling_resumes_total", "counter", "Successful resumes.")
	value("lyn_signaling_resumes_total", st.Resumes)
	metric("lyn_signaling_rejects_total", "counter", "Refused or closed connections and messages, by reason.")
	reasons := make([]string, 0, len(st.Rejects))
	for r := range st.Rejects {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		value(`lyn_signaling_rejects_total{reason="`+r+`"}`, st.Rejects[r])
	}
	b.Flush()
}
