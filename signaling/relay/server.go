package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
)

// closeWait bounds how long Close waits for pion's goroutines to notice
// that their sockets are closed.
const closeWait = 5 * time.Second

// Server is a running STUN/TURN server. Its methods are safe for concurrent
// use.
type Server struct {
	cfg  Config
	log  *slog.Logger
	turn *turn.Server
	conn *trackedConn // the listening socket

	mu      sync.Mutex
	total   int                       // live relay sockets
	perUser map[string]int            // live relay sockets per user
	relays  map[*trackedConn]struct{} // relay sockets whose reader has not yet exited

	publicIP netip.Addr       // advertised relay IP (TURN only)
	ownPorts []netip.AddrPort // the listening socket as peers could name it

	closeOnce sync.Once
	closeErr  error

	hooks hooks
}

// Start binds cfg.ListenAddr and serves STUN (and TURN if cfg.Secret is set)
// until Close.
func Start(cfg Config) (*Server, error) {
	return start(cfg, hooks{})
}

// hooks lets tests observe events without sleeping.
type hooks struct {
	onRelease func(user string) // after an allocation slot is given back
}

func start(cfg Config, h hooks) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var pc net.PacketConn
	if cfg.Net != nil {
		pc, err = cfg.Net.ListenPacket("udp4", cfg.ListenAddr)
	} else {
		pc, err = net.ListenPacket("udp4", cfg.ListenAddr) //nolint:noctx // no context to honour
	}
	if err != nil {
		return nil, fmt.Errorf("relay: listen %s: %w", cfg.ListenAddr, err)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "relay"),
		perUser: make(map[string]int),
		relays:  make(map[*trackedConn]struct{}),
		hooks:   h,
	}
	s.conn = newTrackedConn(pc, nil)

	pcc := turn.PacketConnConfig{PacketConn: s.conn}
	sc := turn.ServerConfig{
		PacketConnConfigs: []turn.PacketConnConfig{pcc},
		LoggerFactory:     SlogLoggerFactory(cfg.Logger),
		Realm:             cfg.Realm,
	}
	turnOn := len(cfg.Secret) > 0
	if turnOn {
		gen, err := s.relayGenerator(pc.LocalAddr())
		if err != nil {
			_ = pc.Close()
			return nil, err
		}
		sc.PacketConnConfigs[0].RelayAddressGenerator = gen
		sc.PacketConnConfigs[0].PermissionHandler = s.permitPeer
		sc.AuthHandler = s.authenticate
		sc.QuotaHandler = s.quotaOK
	}
	ts, err := turn.NewServer(sc)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("relay: start TURN server: %w", err)
	}
	s.turn = ts
	s.log.Info("STUN/TURN server listening", "addr", pc.LocalAddr().String(), "turn", turnOn, "realm", cfg.Realm)
	return s, nil
}

// relayGenerator builds the relay-socket allocator: pion's static or
// port-range generator, wrapped to enforce limits and the lifetime cap.
func (s *Server) relayGenerator(bound net.Addr) (turn.RelayAddressGenerator, error) {
	ua, ok := bound.(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("%w: unexpected listen address %v", ErrInvalidConfig, bound)
	}
	boundIP, _ := netip.AddrFromSlice(ua.IP)
	boundIP = boundIP.Unmap()
	bindHost := "0.0.0.0"
	if boundIP.IsValid() && !boundIP.IsUnspecified() {
		bindHost = boundIP.String()
	}
	public := s.cfg.PublicIP
	if !public.IsValid() {
		if bindHost == "0.0.0.0" {
			return nil, ErrPublicIPRequired
		}
		public = boundIP
	}
	publicIP := net.IP(public.AsSlice())

	var inner turn.RelayAddressGenerator
	if s.cfg.RelayPortMin == 0 {
		inner = &turn.RelayAddressGeneratorStatic{RelayAddress: publicIP, Address: bindHost, Net: s.cfg.Net}
	} else {
		span := s.cfg.RelayPortMax - s.cfg.RelayPortMin + 1
		inner = &turn.RelayAddressGeneratorPortRange{
			RelayAddress: publicIP,
			Address:      bindHost,
			MinPort:      uint16(s.cfg.RelayPortMin), //nolint:gosec // validated 1..65535
			MaxPort:      uint16(s.cfg.RelayPortMax), //nolint:gosec // validated 1..65535
			MaxRetries:   min(max(2*span, 10), 200),
			Net:          s.cfg.Net,
		}
	}
	s.publicIP = public
	s.ownPorts = []netip.AddrPort{
		netip.AddrPortFrom(public, uint16(ua.Port)),  //nolint:gosec // a bound port
		netip.AddrPortFrom(boundIP, uint16(ua.Port)), //nolint:gosec // a bound port
	}
	return &limitedGenerator{s: s, inner: inner}, nil
}

// permitPeer is the TURN permission handler (CreatePermission, ChannelBind).
func (s *Server) permitPeer(_ net.Addr, peerIP net.IP) bool {
	peer, ok := netip.AddrFromSlice(peerIP)
	if !ok {
		return false
	}
	peer = peer.Unmap()
	return peer == s.publicIP || s.cfg.AllowPeer(peer)
}

// isOwnPort reports whether a relay socket is asked to send to the server's
// own STUN/TURN port, which would let a client loop TURN through itself.
func (s *Server) isOwnPort(addr net.Addr) bool {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return false
	}
	ap := netip.AddrPortFrom(ip.Unmap(), uint16(ua.Port)) //nolint:gosec // from a UDP address
	for _, own := range s.ownPorts {
		if ap == own {
			return true
		}
	}
	return false
}

// Addr returns the address the server is bound to (the real port when
// ListenAddr had port 0).
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Allocations returns the number of live relay allocations.
func (s *Server) Allocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Close stops the server: it closes the listening socket and every relay
// socket, and waits (bounded) until pion's goroutines have seen their sockets
// close. Later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.turn.Close()
		deadline := time.NewTimer(closeWait)
		defer deadline.Stop()
		// Once the read loop has exited it closes every allocation, which
		// ends each relay socket's reader; no new relays appear after that.
		select {
		case <-s.conn.readDone:
		case <-deadline.C:
			s.closeErr = errors.Join(s.closeErr, errors.New("relay: timed out waiting for the read loop to stop"))
			return
		}
		s.mu.Lock()
		pending := make([]*trackedConn, 0, len(s.relays))
		for c := range s.relays {
			pending = append(pending, c)
		}
		s.mu.Unlock()
		for _, c := range pending {
			select {
			case <-c.done:
			case <-deadline.C:
				s.closeErr = errors.Join(s.closeErr, errors.New("relay: timed out waiting for relay readers to stop"))
				return
			}
		}
		s.log.Info("STUN/TURN server closed", "addr", s.conn.LocalAddr().String())
	})
	return s.closeErr
}

// authenticate is the TURN auth handler: it accepts unexpired usernames of
// the REST scheme and returns the long-term key derived from the expected
// password; pion then checks MESSAGE-INTEGRITY against it (constant-time),
// so a wrong secret, a tampered username or a forged password all fail
// there. Neither the key nor the password is logged.
func (s *Server) authenticate(ra *turn.RequestAttributes) (userID string, key []byte, ok bool) {
	expiry, user, err := ParseUsername(ra.Username)
	if err != nil {
		s.log.Debug("TURN auth refused: malformed username", "src", addrString(ra.SrcAddr))
		return "", nil, false
	}
	if ra.Realm != s.cfg.Realm {
		s.log.Debug("TURN auth refused: wrong realm", "src", addrString(ra.SrcAddr), "user", user)
		return "", nil, false
	}
	if !s.cfg.Now().Before(expiry) {
		s.log.Debug("TURN auth refused: credentials expired", "src", addrString(ra.SrcAddr), "user", user, "expiry", expiry)
		return "", nil, false
	}
	password := password64(s.cfg.Secret, ra.Username)
	return user, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
}

// quotaOK is the TURN quota handler (answers 486 when false). The binding
// check happens again, atomically, when the relay socket is allocated.
func (s *Server) quotaOK(userID, _ string, src net.Addr) bool {
	s.mu.Lock()
	n := s.perUser[userID]
	s.mu.Unlock()
	if s.cfg.MaxAllocationsPerUser >= 0 && n >= s.cfg.MaxAllocationsPerUser {
		s.log.Info("TURN allocation refused: per-user quota reached", "user", userID, "src", addrString(src), "limit", s.cfg.MaxAllocationsPerUser)
		return false
	}
	return true
}

// reserve takes one allocation slot for user, or reports why not.
func (s *Server) reserve(user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxAllocations >= 0 && s.total >= s.cfg.MaxAllocations {
		return fmt.Errorf("%w: server-wide limit %d", ErrCapacity, s.cfg.MaxAllocations)
	}
	if s.cfg.MaxAllocationsPerUser >= 0 && s.perUser[user] >= s.cfg.MaxAllocationsPerUser {
		return fmt.Errorf("%w: per-user limit %d", ErrCapacity, s.cfg.MaxAllocationsPerUser)
	}
	s.total++
	s.perUser[user]++
	return nil
}

// release gives back a slot taken by reserve.
func (s *Server) release(user string) {
	s.mu.Lock()
	s.total--
	if s.perUser[user]--; s.perUser[user] <= 0 {
		delete(s.perUser, user)
	}
	s.mu.Unlock()
	if s.hooks.onRelease != nil {
		s.hooks.onRelease(user)
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// limitedGenerator wraps a pion relay address generator: it enforces the
// allocation limits at the moment a relay socket is created (atomically, so
// concurrent requests cannot overshoot), releases the slot when the socket is
// closed, and closes sockets that reach MaxAllocationLifetime.
type limitedGenerator struct {
	s     *Server
	inner turn.RelayAddressGenerator
}

func (g *limitedGenerator) Validate() error { return g.inner.Validate() }

func (g *limitedGenerator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	s := g.s
	if err := s.reserve(conf.UserID); err != nil {
		s.log.Info("TURN allocation refused", "user", conf.UserID, "err", err)
		return nil, nil, err
	}
	pc, addr, err := g.inner.AllocatePacketConn(conf)
	if err != nil {
		s.release(conf.UserID)
		s.log.Warn("TURN relay socket allocation failed", "user", conf.UserID, "err", err)
		return nil, nil, err
	}
	user := conf.UserID
	c := newTrackedConn(pc, func() { s.release(user) })
	c.refuseDst = s.isOwnPort
	c.onDone = func() {
		s.mu.Lock()
		delete(s.relays, c)
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.relays[c] = struct{}{}
	s.mu.Unlock()
	if lim := s.cfg.MaxAllocationLifetime; lim > 0 {
		c.setTimer(time.AfterFunc(lim, func() {
			s.log.Info("TURN allocation reached its lifetime cap", "user", user, "relay", addr.String(), "cap", lim)
			_ = c.Close()
		}))
	}
	s.log.Debug("TURN relay allocated", "user", user, "relay", addr.String())
	return c, addr, nil
}

func (g *limitedGenerator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, ErrTCPRelayUnsupported
}

func (g *limitedGenerator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, ErrTCPRelayUnsupported
}

// trackedConn is a net.PacketConn that reports when its reader has seen an
// error (pion's loops exit on the first read error), runs onClose exactly
// once, and can carry a lifetime-cap timer. done is closed, and onDone run,
// once both Close (including onClose) has finished and the reader has exited.
type trackedConn struct {
	net.PacketConn
	onClose   func()
	onDone    func()
	refuseDst func(net.Addr) bool // WriteTo destinations to drop (nil: none)
	readDone  chan struct{}
	done      chan struct{}
	pending   atomic.Int32 // events left before done: Close and reader exit
	readOnce  sync.Once
	closeOnce sync.Once

	mu       sync.Mutex
	timer    *time.Timer
	isClosed bool
}

func newTrackedConn(pc net.PacketConn, onClose func()) *trackedConn {
	c := &trackedConn{PacketConn: pc, onClose: onClose, readDone: make(chan struct{}), done: make(chan struct{})}
	c.pending.Store(2)
	return c
}

func (c *trackedConn) finish() {
	if c.pending.Add(-1) == 0 {
		close(c.done)
		if c.onDone != nil {
			c.onDone()
		}
	}
}

func (c *trackedConn) setTimer(t *time.Timer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isClosed {
		t.Stop()
		return
	}
	c.timer = t
}

func (c *trackedConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if err != nil {
		c.readOnce.Do(func() {
			close(c.readDone)
			c.finish()
		})
	}
	return n, addr, err
}

func (c *trackedConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.refuseDst != nil && c.refuseDst(addr) {
		return 0, fmt.Errorf("%w: %v is the server's own port", ErrPeerForbidden, addr)
	}
	return c.PacketConn.WriteTo(p, addr)
}

// Close closes the socket once; later calls return nil (pion may close an
// allocation twice during shutdown, and its manager stops at the first
// error).
func (c *trackedConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.isClosed = true
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
		err = c.PacketConn.Close()
		if c.onClose != nil {
			c.onClose()
		}
		c.finish()
	})
	return err
}
