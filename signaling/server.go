//go:build !js

package signaling

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// Server is the signaling server: an http.Handler. ServeHTTP answers GET /healthz and
// GET /metrics itself; every other path is a room, "/" + name, where name is 1..64 of
// [A-Za-z0-9._-]. Mount it under a prefix with http.StripPrefix.
type Server struct {
	cfg   Config
	log   *slog.Logger
	stats metrics

	mu      sync.Mutex
	closed  bool
	rooms   map[string]*room
	tokens  map[[32]byte]*peer
	ipConns map[string]int
	conns   map[*conn]struct{}
	peers   int // members of all rooms, including those in grace
	inGrace int

	wg sync.WaitGroup // one per connection handler
}

type room struct {
	name    string
	players int     // room size N
	members []*peer // join order
	start   *Start  // set once started
}

type peer struct {
	id       PeerID
	role     Role
	room     *room
	token    string
	tokenKey [32]byte
	conn     *conn       // nil while in grace
	grace    *time.Timer // running while in grace
	pending  [][]byte    // messages queued during grace
	gone     bool
}

// NewServer returns a Server for cfg; zero fields take their documented defaults.
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		rooms:   make(map[string]*room),
		tokens:  make(map[[32]byte]*peer),
		ipConns: make(map[string]int),
		conns:   make(map[*conn]struct{}),
	}
	s.stats.init()
	return s
}

// HTTPServer returns an http.Server serving s on addr with the handshake timeout applied
// to reading request headers. Embedders using their own http.Server should set
// ReadHeaderTimeout likewise.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: s.cfg.HandshakeTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// ServeHTTP routes /healthz, /metrics and rooms.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		s.serveHealth(w)
		return
	case "/metrics":
		s.serveMetrics(w)
		return
	}
	name := r.URL.Path[min(1, len(r.URL.Path)):]
	ip := s.cfg.ClientIP(r)
	if code, ok := s.acquire(ip); !ok {
		s.reject(string(code), "remote", ip)
		status := http.StatusTooManyRequests
		if code == CodeShuttingDown {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, string(code), status)
		return
	}
	handedOff := false
	defer func() {
		if !handedOff {
			s.release(ip)
		}
	}()

	c := &conn{s: s, ip: ip}
	c.lastSeen.Store(time.Now().UnixNano())
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: len(s.cfg.AllowedOrigins) == 0,
		OriginPatterns:     s.cfg.AllowedOrigins,
		OnPongReceived:     func(context.Context, []byte) { c.touch() },
		OnPingReceived:     func(context.Context, []byte) bool { c.touch(); return true },
	})
	if err != nil {
		// Accept has written the HTTP error. The origin check is the only refusal that
		// is not a malformed request.
		reason := "bad-upgrade"
		if r.Header.Get("Origin") != "" && len(s.cfg.AllowedOrigins) > 0 {
			reason = "bad-origin"
		}
		s.reject(reason, "remote", ip, "err", err)
		return
	}
	ws.SetReadLimit(s.cfg.MaxMessageBytes)
	c.ws = ws
	c.limiter = rate.NewLimiter(rate.Limit(s.cfg.MessagesPerSecond), s.cfg.MessageBurst)

	if !s.register(c) {
		ws.Close(websocket.StatusGoingAway, string(CodeShuttingDown))
		return
	}
	if e := s.join(c, name, r.URL.Query()); e != nil {
		s.reject(string(e.Code), "room", truncate(name, 80), "remote", ip)
		c.fail(e, websocket.StatusPolicyViolation)
	}
	c.mu.Lock() // onTimer reads c.timer under c.mu
	c.timer = time.AfterFunc(s.cfg.PingInterval, c.onTimer)
	c.mu.Unlock()
	// Serve the connection on a fresh goroutine and let net/http's return: its stack has
	// grown parsing the request, and the request and response would stay reachable. This
	// halves the memory of an idle connection.
	handedOff = true
	go func() {
		defer s.release(ip)
		exit := s.readLoop(c)
		s.finish(c, exit)
	}()
}

// acquire admits one more connection from ip, or says why not.
func (s *Server) acquire(ip string) (ErrorCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return CodeShuttingDown, false
	}
	if s.cfg.MaxConnsPerIP > 0 && s.ipConns[ip] >= s.cfg.MaxConnsPerIP {
		return CodeTooManyConnections, false
	}
	s.ipConns[ip]++
	s.wg.Add(1)
	return "", true
}

func (s *Server) release(ip string) {
	s.mu.Lock()
	if s.ipConns[ip]--; s.ipConns[ip] <= 0 {
		delete(s.ipConns, ip)
	}
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// reject counts a refusal and logs it. Never pass tokens in args.
func (s *Server) reject(reason string, args ...any) {
	s.stats.reject(reason)
	s.log.Info("signaling: rejected", append([]any{"reason", reason}, args...)...)
}

func validRoomName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

func newPeerID() PeerID {
	var b [8]byte
	rand.Read(b[:])
	return PeerID(hex.EncodeToString(b[:]))
}

func newResumeToken() (string, [32]byte) {
	var b [32]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, sha256.Sum256([]byte(tok))
}

func newSeed() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Fatal: true}
}

// join admits c to room name as the query asks, or returns why not.
func (s *Server) join(c *conn, name string, q url.Values) *Error {
	if v := q.Get("v"); v != "" && v != strconv.Itoa(ProtocolVersion) {
		return errorf(CodeBadVersion, "server speaks protocol version %d", ProtocolVersion)
	}
	if !validRoomName(name) {
		return errorf(CodeBadRoom, "room name must be 1..64 characters of A-Z a-z 0-9 . _ -")
	}
	if tok := q.Get("resume"); tok != "" {
		return s.resume(c, name, tok)
	}
	role := RolePlayer
	switch q.Get("role") {
	case "", string(RolePlayer):
	case string(RoleSpectator):
		role = RoleSpectator
	default:
		return errorf(CodeBadRequest, `role must be "player" or "spectator"`)
	}
	players := 0
	if v := q.Get("players"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 8 {
			return errorf(CodeBadRequest, "players must be 2..8")
		}
		players = n
	}
	if s.cfg.JoinSecret != nil {
		if err := VerifyJoinToken(s.cfg.JoinSecret, name, q.Get("token"), s.cfg.Now()); err != nil {
			if errors.Is(err, ErrJoinTokenExpired) {
				return errorf(CodeTokenExpired, "join token expired")
			}
			return errorf(CodeBadToken, "join token missing or invalid")
		}
	}

	id := newPeerID()
	var ice []ICEServer
	if s.cfg.ICEServers != nil {
		ice = s.cfg.ICEServers(string(id))
	}
	token, key := newResumeToken()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errorf(CodeShuttingDown, "server is shutting down")
	}
	r := s.rooms[name]
	if r == nil {
		if len(s.rooms) >= s.cfg.MaxRooms {
			return errorf(CodeTooManyRooms, "server has too many rooms, try later")
		}
		r = &room{name: name, players: max(players, 2)}
	} else if players != 0 && players != r.players {
		return errorf(CodePlayersMismatch, "room %s is for %d players", name, r.players)
	}
	if len(r.members) >= s.cfg.MaxPeersPerRoom {
		return errorf(CodeRoomFull, "room is full (%d peers)", s.cfg.MaxPeersPerRoom)
	}
	if role == RolePlayer && r.start != nil {
		return errorf(CodeRoomStarted, "room has started; join as a spectator")
	}
	if len(r.members) == 0 {
		s.rooms[name] = r
	}
	p := &peer{id: id, role: role, room: r, token: token, tokenKey: key, conn: c}
	s.tokens[key] = p
	c.peer = p
	c.send(encode(TypeWelcome, s.welcomeLocked(p, ice, false)))
	s.broadcastLocked(r, encode(TypePeerJoined, PeerJoined{Peer: PeerInfo{ID: id, Role: role}}), nil)
	r.members = append(r.members, p)
	s.peers++
	s.log.Debug("signaling: joined", "room", name, "peer", id, "role", role, "remote", c.ip)

	if role == RolePlayer && r.start == nil {
		var order []PeerID
		for _, m := range r.members {
			if m.role == RolePlayer {
				order = append(order, m.id)
			}
		}
		if len(order) == r.players {
			r.start = &Start{Order: order, Seed: newSeed()}
			s.stats.started.Add(1)
			s.broadcastLocked(r, encode(TypeStart, r.start), nil)
			s.log.Debug("signaling: room started", "room", name, "players", len(order))
		}
	}
	return nil
}

func (s *Server) welcomeLocked(p *peer, ice []ICEServer, resumed bool) *Welcome {
	peers := make([]PeerInfo, 0, len(p.room.members))
	for _, m := range p.room.members {
		if m != p {
			peers = append(peers, PeerInfo{ID: m.id, Role: m.role})
		}
	}
	if ice == nil {
		ice = []ICEServer{}
	}
	return &Welcome{
		Version: ProtocolVersion, ID: p.id, Room: p.room.name, Role: p.role, Players: p.room.players,
		Peers: peers, ICEServers: ice, ResumeToken: p.token, Resumed: resumed, Start: p.room.start,
	}
}

// resume re-attaches the peer holding tok to c.
func (s *Server) resume(c *conn, name, tok string) *Error {
	key := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errorf(CodeShuttingDown, "server is shutting down")
	}
	p := s.tokens[key]
	if p == nil || p.gone || p.room.name != name {
		return errorf(CodeBadResume, "unknown or expired resume token")
	}
	if old := p.conn; old != nil {
		// The client noticed the drop before we did: the new socket wins.
		old.peer = nil
		old.replaced()
	}
	if p.grace != nil {
		p.grace.Stop()
		p.grace = nil
		s.inGrace--
	}
	p.conn = c
	c.peer = p
	var ice []ICEServer
	if s.cfg.ICEServers != nil {
		ice = s.cfg.ICEServers(string(p.id))
	}
	c.send(encode(TypeWelcome, s.welcomeLocked(p, ice, true)))
	for _, m := range p.pending {
		c.send(m)
	}
	p.pending = nil
	s.stats.resumes.Add(1)
	s.log.Debug("signaling: resumed", "room", name, "peer", p.id, "remote", c.ip)
	return nil
}

// broadcastLocked delivers msg to every member of r but except.
func (s *Server) broadcastLocked(r *room, msg []byte, except *peer) {
	var overflow []*peer
	for _, m := range r.members {
		if m != except && !s.deliverLocked(m, msg) {
			overflow = append(overflow, m)
		}
	}
	for _, m := range overflow {
		s.removePeerLocked(m, "grace queue overflow")
	}
}

// deliverLocked sends msg to p now or queues it while p is in grace. It reports false if
// p's grace queue overflowed; the caller then removes p.
func (s *Server) deliverLocked(p *peer, msg []byte) bool {
	if p.gone {
		return true
	}
	if p.conn != nil {
		p.conn.send(msg)
		return true
	}
	if len(p.pending) >= s.cfg.MaxPendingMessages {
		return false
	}
	p.pending = append(p.pending, msg)
	return true
}

// removePeerLocked takes p out of its room for good and tells the others.
func (s *Server) removePeerLocked(p *peer, why string) {
	if p.gone {
		return
	}
	p.gone = true
	p.pending = nil
	if p.grace != nil {
		p.grace.Stop()
		p.grace = nil
		s.inGrace--
	}
	delete(s.tokens, p.tokenKey)
	r := p.room
	for i, m := range r.members {
		if m == p {
			r.members = append(r.members[:i], r.members[i+1:]...)
			break
		}
	}
	s.peers--
	s.log.Debug("signaling: left", "room", r.name, "peer", p.id, "why", why)
	if len(r.members) == 0 {
		delete(s.rooms, r.name)
		return
	}
	s.broadcastLocked(r, encode(TypePeerLeft, PeerLeft{ID: p.id}), nil)
}

// relay forwards a signal from c's peer to exactly one member of its room.
func (s *Server) relay(c *conn, m clientMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := c.peer
	if p == nil || p.gone {
		return
	}
	var target *peer
	for _, t := range p.room.members {
		if t.id == m.To {
			target = t
			break
		}
	}
	switch {
	case target == nil:
		c.sendError(&Error{Code: CodeUnknownPeer, Message: "no peer " + strconv.Quote(string(m.To)) + " in this room"})
		return
	case target == p:
		c.sendError(&Error{Code: CodeBadRequest, Message: "signal addressed to yourself"})
		return
	}
	msg := encode(TypeSignal, Signal{From: p.id, Data: m.Data})
	if !s.deliverLocked(target, msg) {
		s.removePeerLocked(target, "grace queue overflow")
		return
	}
	s.stats.relayed.Add(1)
}

// readExit says how a connection's read loop ended.
type readExit int

const (
	exitLeave   readExit = iota // the peer is gone for good
	exitDropped                 // the socket dropped: grace applies
)

func (s *Server) readLoop(c *conn) readExit {
	for {
		typ, buf, err := readMessage(c.ws)
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrMessageTooBig):
				s.reject("message-too-big", "remote", c.ip)
				return exitLeave
			case c.wasKicked():
				return exitLeave
			}
			switch websocket.CloseStatus(err) {
			case websocket.StatusNormalClosure, websocket.StatusGoingAway:
				return exitLeave
			}
			return exitDropped
		}
		c.touch()
		// Decoding copies what it keeps, so the buffer goes back before the message is
		// handled.
		var m clientMessage
		if typ != websocket.MessageText {
			err = &decodeError{CodeBadMessage, "binary frames are not part of the protocol"}
		} else {
			m, err = decodeClientMessage(buf.Bytes())
		}
		putReadBuffer(buf)
		if c.wasKicked() {
			continue // draining until the close completes
		}
		if !c.limiter.Allow() {
			s.reject(string(CodeRateLimited), "remote", c.ip)
			c.fail(errorf(CodeRateLimited, "more than %g messages per second", s.cfg.MessagesPerSecond), websocket.StatusPolicyViolation)
			continue
		}
		if err != nil {
			var de *decodeError
			errors.As(err, &de)
			c.bad++
			if c.bad >= s.cfg.MaxBadMessages {
				s.reject(string(CodeTooManyBadMessages), "remote", c.ip)
				c.fail(errorf(CodeTooManyBadMessages, "%d bad messages, last: %s", c.bad, de.Reason), websocket.StatusPolicyViolation)
				continue
			}
			c.sendError(&Error{Code: de.Code, Message: de.Reason})
			continue
		}
		switch m.Type {
		case TypeSignal:
			s.relay(c, m)
		case TypeLeave:
			s.mu.Lock()
			if p := c.peer; p != nil && p.conn == c {
				s.removePeerLocked(p, "left")
			}
			s.mu.Unlock()
			c.closeWith(websocket.StatusNormalClosure, "bye")
		}
	}
}

// finish runs once a connection's read loop has ended. It first stops the connection's
// helpers: only then is it known whether the server cut the connection (a write timeout
// closes the socket under the read loop) or the network dropped it.
func (s *Server) finish(c *conn, exit readExit) {
	c.shutdown()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	c.mu.Lock()
	unsent, kicked := c.queue, c.kicked
	c.queue, c.closing = nil, true // sends from now on are dropped
	c.mu.Unlock()
	p := c.peer
	if p == nil || p.conn != c || p.gone {
		return
	}
	if exit == exitDropped && !kicked && s.cfg.ResumeGrace > 0 && !s.closed && len(unsent) <= s.cfg.MaxPendingMessages {
		// Whatever was not yet written waits for the resume with what comes meanwhile.
		p.conn = nil
		p.pending = unsent
		s.inGrace++
		p.grace = time.AfterFunc(s.cfg.ResumeGrace, func() { s.expireGrace(p) })
		s.log.Debug("signaling: dropped, in grace", "room", p.room.name, "peer", p.id)
		return
	}
	s.removePeerLocked(p, "closed")
}

func (s *Server) expireGrace(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || p.gone || p.conn != nil {
		return
	}
	s.removePeerLocked(p, "grace expired")
}

// Shutdown closes every connection with status 1001 (going away) and waits for all of the
// server's goroutines to end. If ctx ends first, remaining connections are cut and
// Shutdown returns ctx.Err() once they are gone. New connections are refused with 503.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	for _, p := range s.tokens {
		if p.grace != nil {
			p.grace.Stop()
			p.grace = nil
		}
	}
	s.mu.Unlock()
	s.log.Info("signaling: shutting down", "connections", len(conns))
	for _, c := range conns {
		c.closeWith(websocket.StatusGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range conns { // cutting the sockets ends every blocked read and write
			c.closeNow("shutdown deadline")
		}
		<-done
		return ctx.Err()
	}
}

// roomMembers lists a room's peer ids (tests and debugging).
func (s *Server) roomMembers(name string) []PeerID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []PeerID
	if r := s.rooms[name[min(1, len(name)):]]; r != nil {
		for _, m := range r.members {
			ids = append(ids, m.id)
		}
	}
	return ids
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// readBuffers holds message buffers between reads, so that an idle connection holds
// none.
var readBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putReadBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 { // let the odd huge message's buffer go
		readBuffers.Put(buf)
	}
}

// readMessage reads one message into a pooled buffer; give it back with putReadBuffer.
// The read has no context: a blocked read ends when the socket is closed (by the peer, a
// timeout or Shutdown), which saves registering a context per message.
func readMessage(ws *websocket.Conn) (websocket.MessageType, *bytes.Buffer, error) {
	typ, r, err := ws.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	buf := readBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		putReadBuffer(buf)
		return 0, nil, err
	}
	return typ, buf, nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
