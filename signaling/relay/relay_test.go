package relay

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lynnet/lyn/internal/syncbuf"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var testSecret = []byte("test-secret-do-not-log")

// ioTimeout bounds every blocking read in the tests; nothing here waits for
// it unless something is broken.
const ioTimeout = 5 * time.Second

// fakeClock is a settable clock for Config.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// startTest starts a server on loopback with TURN on; it is closed at the
// end of the test (after the clients, which are registered later).
func startTest(t *testing.T, cfg Config, h hooks) *Server {
	t.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	s, err := start(cfg, h)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newClient returns a pion TURN client on its own loopback socket.
func newClient(t *testing.T, srv *Server, username, password string) *turn.Client {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: srv.Addr().String(),
		TURNServerAddr: srv.Addr().String(),
		Username:       username,
		Password:       password,
		Conn:           pc,
		LoggerFactory:  SlogLoggerFactory(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}

// allocate makes one allocation with fresh client; the relay is released at
// the end of the test.
func allocate(t *testing.T, srv *Server, username, password string) (*turn.Client, net.PacketConn, error) {
	t.Helper()
	c := newClient(t, srv, username, password)
	relayConn, err := c.Allocate()
	if err != nil {
		return c, nil, err
	}
	t.Cleanup(func() { _ = relayConn.Close() })
	return c, relayConn, nil
}

func TestSTUNBinding(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret []byte
	}{{"stun-only", []byte{}}, {"with-turn", testSecret}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startTest(t, Config{Secret: tc.secret}, hooks{})
			c := newClient(t, srv, "", "")
			mapped, err := c.SendBindingRequest()
			if err != nil {
				t.Fatalf("binding: %v", err)
			}
			got, ok := mapped.(*net.UDPAddr)
			if !ok {
				t.Fatalf("mapped address %T %v", mapped, mapped)
			}
			if !got.IP.Equal(net.IPv4(127, 0, 0, 1)) || got.Port == 0 {
				t.Fatalf("XOR-MAPPED-ADDRESS = %v, want 127.0.0.1:<client port>", got)
			}
		})
	}
}

func TestSTUNBindingMatchesSocket(t *testing.T) {
	srv := startTest(t, Config{}, hooks{})
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: srv.Addr().String(), Conn: pc, LoggerFactory: SlogLoggerFactory(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	mapped, err := c.SendBindingRequest()
	if err != nil {
		t.Fatal(err)
	}
	if mapped.String() != pc.LocalAddr().String() {
		t.Fatalf("XOR-MAPPED-ADDRESS = %v, want %v", mapped, pc.LocalAddr())
	}
}

func TestTURNRoundTrip(t *testing.T) {
	srv := startTest(t, Config{}, hooks{})
	user, pass := Credentials(testSecret, "alice", time.Hour, time.Now())
	c, relayConn, err := allocate(t, srv, user, pass)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	relayAddr := relayConn.LocalAddr().(*net.UDPAddr)
	if !relayAddr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("relayed address %v, want 127.0.0.1 (derived PublicIP)", relayAddr)
	}
	if n := srv.Allocations(); n != 1 {
		t.Fatalf("Allocations() = %d, want 1", n)
	}

	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if err := c.CreatePermission(peer.LocalAddr()); err != nil {
		t.Fatalf("CreatePermission: %v", err)
	}

	// Client → relay → peer.
	if _, err := relayConn.WriteTo([]byte("ping"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(ioTimeout))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	if string(buf[:n]) != "ping" || from.String() != relayAddr.String() {
		t.Fatalf("peer got %q from %v, want %q from %v", buf[:n], from, "ping", relayAddr)
	}

	// Peer → relay → client.
	if _, err := peer.WriteTo([]byte("pong"), relayAddr); err != nil {
		t.Fatal(err)
	}
	_ = relayConn.SetReadDeadline(time.Now().Add(ioTimeout))
	n, from, err = relayConn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("relay read: %v", err)
	}
	if string(buf[:n]) != "pong" || from.String() != peer.LocalAddr().String() {
		t.Fatalf("client got %q from %v, want %q from %v", buf[:n], from, "pong", peer.LocalAddr())
	}
}

func TestTURNRefusesBadCredentials(t *testing.T) {
	clock := newFakeClock(time.Unix(1_800_000_000, 0))
	srv := startTest(t, Config{Now: clock.Now}, hooks{})
	now := clock.Now()
	goodUser, goodPass := Credentials(testSecret, "alice", time.Minute, now)
	_, wrongSecretPass := Credentials([]byte("other-secret"), "alice", time.Minute, now)
	tamperedUser := strings.Replace(goodUser, "alice", "mallory", 1)
	laterUser, _ := Credentials(testSecret, "alice", 2*time.Minute, now)

	cases := []struct{ name, user, pass string }{
		{"wrong secret", goodUser, wrongSecretPass},
		{"tampered user", tamperedUser, goodPass},
		{"tampered expiry", laterUser, goodPass},
		{"garbage abc", "abc", goodPass},
		{"overflow expiry", "99999999999999999999999:x", goodPass},
		{"negative expiry", "-5:x", goodPass},
		{"plus sign", "+1900000000:x", goodPass},
		{"no user", strings.Split(goodUser, ":")[0] + ":", goodPass},
		{"no expiry", ":alice", goodPass},
		{"empty", "", goodPass},
		{"not base64 password", goodUser, "%%%"},
		{"empty password", goodUser, ""},
		{"expired", "", ""}, // filled below
	}
	// Credentials that were valid, then the clock moves past their expiry.
	expUser, expPass := Credentials(testSecret, "bob", 30*time.Second, now)
	cases[len(cases)-1].user, cases[len(cases)-1].pass = expUser, expPass

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "expired" {
				clock.Advance(31 * time.Second)
			}
			_, relayConn, err := allocate(t, srv, tc.user, tc.pass)
			if err == nil {
				t.Fatalf("allocation with %s succeeded (relay %v)", tc.name, relayConn.LocalAddr())
			}
			if n := srv.Allocations(); n != 0 {
				t.Fatalf("Allocations() = %d, want 0", n)
			}
		})
	}

	// The server survived all of that and still serves good credentials.
	user, pass := Credentials(testSecret, "carol", time.Minute, clock.Now())
	if _, _, err := allocate(t, srv, user, pass); err != nil {
		t.Fatalf("valid allocation after refusals: %v", err)
	}
}

func TestExpiryBoundary(t *testing.T) {
	clock := newFakeClock(time.Unix(1_800_000_000, 0))
	srv := startTest(t, Config{Now: clock.Now}, hooks{})
	user, pass := Credentials(testSecret, "dave", 10*time.Second, clock.Now())
	clock.Advance(10*time.Second - time.Nanosecond)
	if _, _, err := allocate(t, srv, user, pass); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	clock.Advance(time.Nanosecond)
	if _, _, err := allocate(t, srv, user, pass); err == nil {
		t.Fatal("allocation at the expiry instant succeeded")
	}
}

// releases returns hooks that report each released slot on a channel.
func releases() (hooks, <-chan string) {
	ch := make(chan string, 64)
	return hooks{onRelease: func(u string) { ch <- u }}, ch
}

func waitRelease(t *testing.T, ch <-chan string, wantUser string) {
	t.Helper()
	select {
	case u := <-ch:
		if u != wantUser {
			t.Fatalf("released slot of %q, want %q", u, wantUser)
		}
	case <-time.After(ioTimeout):
		t.Fatal("no allocation was released")
	}
}

func TestLimitTotal(t *testing.T) {
	h, released := releases()
	srv := startTest(t, Config{MaxAllocations: 2}, h)
	now := time.Now()
	var relays []net.PacketConn
	for _, u := range []string{"u1", "u2"} {
		user, pass := Credentials(testSecret, u, time.Hour, now)
		_, rc, err := allocate(t, srv, user, pass)
		if err != nil {
			t.Fatalf("allocation %s: %v", u, err)
		}
		relays = append(relays, rc)
	}
	user3, pass3 := Credentials(testSecret, "u3", time.Hour, now)
	_, _, err := allocate(t, srv, user3, pass3)
	if err == nil || !strings.Contains(err.Error(), "508") {
		t.Fatalf("third allocation: err = %v, want a 508 refusal", err)
	}
	if n := srv.Allocations(); n != 2 {
		t.Fatalf("Allocations() = %d, want 2", n)
	}

	// Freeing one (client deallocates) makes room again.
	if err := relays[0].Close(); err != nil {
		t.Fatal(err)
	}
	waitRelease(t, released, "u1")
	if _, _, err := allocate(t, srv, user3, pass3); err != nil {
		t.Fatalf("allocation after a release: %v", err)
	}
}

func TestLimitPerUser(t *testing.T) {
	srv := startTest(t, Config{MaxAllocationsPerUser: 2}, hooks{})
	now := time.Now()
	user, pass := Credentials(testSecret, "greedy", time.Hour, now)
	for i := range 2 {
		if _, _, err := allocate(t, srv, user, pass); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
	}
	// Same user, even with freshly minted credentials (another expiry).
	user2, pass2 := Credentials(testSecret, "greedy", 2*time.Hour, now)
	_, _, err := allocate(t, srv, user2, pass2)
	if err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("third allocation for one user: err = %v, want a 486 refusal", err)
	}
	other, otherPass := Credentials(testSecret, "modest", time.Hour, now)
	if _, _, err := allocate(t, srv, other, otherPass); err != nil {
		t.Fatalf("another user: %v", err)
	}
	if n := srv.Allocations(); n != 3 {
		t.Fatalf("Allocations() = %d, want 3", n)
	}
}

// TestReserveAtomic checks the authoritative limit directly, including under
// concurrency (the quota handler is only a pre-check).
func TestReserveAtomic(t *testing.T) {
	s := &Server{cfg: Config{MaxAllocations: 10, MaxAllocationsPerUser: 3}, perUser: map[string]int{}}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if s.reserve([]string{"a", "b", "c", "d", "e"}[i%5]) == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 || s.total != 10 {
		t.Fatalf("granted %d (total %d), want 10", ok.Load(), s.total)
	}
	for u, n := range s.perUser {
		if n > 3 {
			t.Fatalf("user %s holds %d > 3", u, n)
		}
	}
	if err := s.reserve("z"); !errors.Is(err, ErrCapacity) {
		t.Fatalf("reserve past the limit: %v, want ErrCapacity", err)
	}
}

func TestLifetimeCap(t *testing.T) {
	h, released := releases()
	srv := startTest(t, Config{MaxAllocationLifetime: 150 * time.Millisecond}, h)
	user, pass := Credentials(testSecret, "longlived", time.Hour, time.Now())
	if _, _, err := allocate(t, srv, user, pass); err != nil {
		t.Fatal(err)
	}
	waitRelease(t, released, "longlived")
	if n := srv.Allocations(); n != 0 {
		t.Fatalf("Allocations() = %d after the cap, want 0", n)
	}
}

func TestPortRange(t *testing.T) {
	// A range of 20 high ports on loopback; a few may be taken by others.
	const lo, hi = 47310, 47329
	srv := startTest(t, Config{RelayPortMin: lo, RelayPortMax: hi}, hooks{})
	user, pass := Credentials(testSecret, "ranged", time.Hour, time.Now())
	for range 3 {
		_, rc, err := allocate(t, srv, user, pass)
		if err != nil {
			t.Fatal(err)
		}
		if p := rc.LocalAddr().(*net.UDPAddr).Port; p < lo || p > hi {
			t.Fatalf("relay port %d outside %d-%d", p, lo, hi)
		}
	}
}

func TestPublicIPOverride(t *testing.T) {
	// Listen on all interfaces, advertise loopback (as a NATed host would
	// advertise its public IP).
	srv := startTest(t, Config{ListenAddr: "0.0.0.0:0", PublicIP: netip.MustParseAddr("127.0.0.1")}, hooks{})
	port := srv.Addr().(*net.UDPAddr).Port
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	user, pass := Credentials(testSecret, "natted", time.Hour, time.Now())
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Username:       user, Password: pass, Conn: pc, LoggerFactory: SlogLoggerFactory(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if ip := rc.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("relayed IP %v, want the PublicIP 127.0.0.1", ip)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"turn on all interfaces without PublicIP", Config{ListenAddr: "0.0.0.0:0", Secret: testSecret}, ErrPublicIPRequired},
		{"half a port range", Config{ListenAddr: "127.0.0.1:0", RelayPortMin: 5000}, ErrInvalidConfig},
		{"inverted port range", Config{ListenAddr: "127.0.0.1:0", RelayPortMin: 6000, RelayPortMax: 5000}, ErrInvalidConfig},
		{"port range too high", Config{ListenAddr: "127.0.0.1:0", RelayPortMin: 6000, RelayPortMax: 70000}, ErrInvalidConfig},
		{"IPv6 PublicIP", Config{ListenAddr: "127.0.0.1:0", PublicIP: netip.MustParseAddr("::1")}, ErrInvalidConfig},
		{"unspecified PublicIP", Config{ListenAddr: "127.0.0.1:0", PublicIP: netip.IPv4Unspecified()}, ErrInvalidConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Start(tc.cfg)
			if err == nil {
				_ = s.Close()
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// STUN only needs no PublicIP, even on all interfaces.
	s, err := Start(Config{ListenAddr: "0.0.0.0:0"})
	if err != nil {
		t.Fatalf("STUN-only on 0.0.0.0: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawClient speaks STUN to the server directly. pion's client drops
// unauthenticated error responses to authenticated requests (and then
// retries until it times out), and cannot pick a realm or send a Refresh on
// demand; this can.
type rawClient struct {
	t     *testing.T
	conn  net.Conn
	nonce stun.Nonce
}

func newRawClient(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	conn, err := net.Dial("udp4", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawClient{t: t, conn: conn}
}

func (r *rawClient) roundTrip(method stun.Method, setters ...stun.Setter) *stun.Message {
	r.t.Helper()
	req := stun.MustBuild(append([]stun.Setter{stun.TransactionID,
		stun.NewType(method, stun.ClassRequest)}, setters...)...)
	if _, err := r.conn.Write(req.Raw); err != nil {
		r.t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = r.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	n, err := r.conn.Read(buf)
	if err != nil {
		r.t.Fatalf("no response: %v", err)
	}
	res := &stun.Message{Raw: buf[:n]}
	if err := res.Decode(); err != nil {
		r.t.Fatal(err)
	}
	if res.TransactionID != req.TransactionID {
		r.t.Fatal("response to another transaction")
	}
	var nonce stun.Nonce
	if nonce.GetFrom(res) == nil {
		r.nonce = nonce
	}
	return res
}

// authed sends an authenticated request (fetching a nonce first if needed)
// and returns the error code, 0 for success.
func (r *rawClient) authed(method stun.Method, username, password, realm string, extra ...stun.Setter) stun.ErrorCode {
	r.t.Helper()
	if r.nonce == nil {
		r.roundTrip(method, extra...) // 401 challenge with NONCE and REALM
		if r.nonce == nil {
			r.t.Fatal("challenge without NONCE")
		}
	}
	setters := append(extra, stun.NewUsername(username), stun.NewRealm(realm), &r.nonce,
		stun.NewLongTermIntegrity(username, realm, password), stun.Fingerprint)
	res := r.roundTrip(method, setters...)
	if res.Type.Class == stun.ClassSuccessResponse {
		return 0
	}
	var attr stun.ErrorCodeAttribute
	if err := attr.GetFrom(res); err != nil {
		r.t.Fatalf("error response without ERROR-CODE: %v", res)
	}
	return attr.Code
}

// udpTransport is REQUESTED-TRANSPORT: UDP (17), as RFC 5766 section 14.7
// encodes it.
var udpTransport = &stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}

// rawAllocate sends an Allocate request with long-term credentials for realm
// and returns the error code (0 for success).
func rawAllocate(t *testing.T, srv *Server, username, password, realm string) stun.ErrorCode {
	t.Helper()
	return newRawClient(t, srv).authed(stun.MethodAllocate, username, password, realm, udpTransport)
}

// TestRefreshNeedsUnexpiredCredentials: an allocation cannot be kept alive
// past its credentials' expiry, since every Refresh is authenticated.
func TestRefreshNeedsUnexpiredCredentials(t *testing.T) {
	clock := newFakeClock(time.Unix(1_800_000_000, 0))
	srv := startTest(t, Config{Now: clock.Now}, hooks{})
	user, pass := Credentials(testSecret, "refresher", time.Minute, clock.Now())
	rc := newRawClient(t, srv)
	if code := rc.authed(stun.MethodAllocate, user, pass, DefaultRealm, udpTransport); code != 0 {
		t.Fatalf("allocate: %d", code)
	}
	if code := rc.authed(stun.MethodRefresh, user, pass, DefaultRealm); code != 0 {
		t.Fatalf("refresh before expiry: %d", code)
	}
	clock.Advance(time.Minute)
	if code := rc.authed(stun.MethodRefresh, user, pass, DefaultRealm); code != stun.CodeUnauthorized {
		t.Fatalf("refresh after expiry: got %d, want 401", code)
	}
	// Fresh credentials for the same user keep it going.
	user2, pass2 := Credentials(testSecret, "refresher", time.Minute, clock.Now())
	if code := rc.authed(stun.MethodRefresh, user2, pass2, DefaultRealm); code != 0 {
		t.Fatalf("refresh with renewed credentials: %d", code)
	}
	// (A Refresh by another user is not answered at all by pion — no 437 —
	// so it is not asserted here; the allocation is looked up by 5-tuple
	// and user.)
}

func TestTURNRefusedWithoutSecret(t *testing.T) {
	srv := startTest(t, Config{Secret: []byte{}}, hooks{})
	user, pass := Credentials(nil, "x", time.Hour, time.Now())
	if code := rawAllocate(t, srv, user, pass, DefaultRealm); code != stun.CodeBadRequest {
		t.Fatalf("STUN-only server answered Allocate with %d, want 400", code)
	}
}

func TestRawAllocateRealm(t *testing.T) {
	srv := startTest(t, Config{}, hooks{})
	user, pass := Credentials(testSecret, "raw", time.Hour, time.Now())
	if code := rawAllocate(t, srv, user, pass, "other-realm"); code != stun.CodeUnauthorized {
		t.Fatalf("wrong realm: got %d, want 401", code)
	}
	if code := rawAllocate(t, srv, user, pass, DefaultRealm); code != 0 {
		t.Fatalf("right realm: got %d, want success", code)
	}
	// That allocation is owned by a closed socket; it expires on its own,
	// and Close must clean it up regardless.
}

func TestCloseLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, err := Start(Config{ListenAddr: "127.0.0.1:0", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	// Live allocations with traffic when the server goes away.
	for _, u := range []string{"a", "b"} {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		user, pass := Credentials(testSecret, u, time.Hour, time.Now())
		c, err := turn.NewClient(&turn.ClientConfig{
			TURNServerAddr: addr, Username: user, Password: pass, Conn: pc,
			LoggerFactory: SlogLoggerFactory(nil),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Listen(); err != nil {
			t.Fatal(err)
		}
		rc, err := c.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rc.WriteTo([]byte("x"), rc.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		defer c.Close()
		defer rc.Close()
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := s.Allocations(); n != 0 {
		t.Fatalf("Allocations() = %d after Close", n)
	}
	if _, err := net.Dial("udp4", addr); err != nil {
		t.Fatal(err) // dialing UDP never fails; the port is just free again
	}
}

// TestLogsNoSecrets runs a full allocation with every log level on and
// checks neither the secret nor the password reaches the log.
func TestLogsNoSecrets(t *testing.T) {
	var buf syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: LevelTrace}))
	srv := startTest(t, Config{Logger: logger}, hooks{})
	user, pass := Credentials(testSecret, "loud", time.Hour, time.Now())
	if _, _, err := allocate(t, srv, user, pass); err != nil {
		t.Fatal(err)
	}
	_, _, _ = allocate(t, srv, user, "forged-password")
	_, _, _ = allocate(t, srv, "abc", pass)
	out := buf.String()
	if !strings.Contains(out, "pion=turn") {
		t.Fatalf("pion's logs did not come through the adapter:\n%s", out)
	}
	for _, secret := range []string{string(testSecret), pass} {
		if strings.Contains(out, secret) {
			t.Fatalf("log contains a secret %q:\n%s", secret, out)
		}
	}
}

func TestSlogLoggerFactoryLevels(t *testing.T) {
	var buf syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: LevelTrace,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	l := SlogLoggerFactory(logger).NewLogger("test")
	l.Tracef("t%d", 1)
	l.Debug("d")
	l.Infof("i%s", "!")
	l.Warn("w")
	l.Errorf("e%v", 5)
	want := `level=DEBUG-4 msg=t1 pion=test
level=DEBUG msg=d pion=test
level=INFO msg=i! pion=test
level=WARN msg=w pion=test
level=ERROR msg=e5 pion=test
`
	if got := buf.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// nil discards without panicking.
	SlogLoggerFactory(nil).NewLogger("x").Errorf("%d", 1)
}

func TestPeerPolicy(t *testing.T) {
	otherLoopback, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	defer otherLoopback.Close()

	t.Run("default refuses loopback peers", func(t *testing.T) {
		srv := startTest(t, Config{}, hooks{})
		user, pass := Credentials(testSecret, "ssrf", time.Hour, time.Now())
		c, _, err := allocate(t, srv, user, pass)
		if err != nil {
			t.Fatal(err)
		}
		err = c.CreatePermission(otherLoopback.LocalAddr())
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("CreatePermission(127.0.0.2) err = %v, want 403", err)
		}
	})
	t.Run("custom policy", func(t *testing.T) {
		srv := startTest(t, Config{AllowPeer: func(netip.Addr) bool { return true }}, hooks{})
		user, pass := Credentials(testSecret, "lan", time.Hour, time.Now())
		c, _, err := allocate(t, srv, user, pass)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CreatePermission(otherLoopback.LocalAddr()); err != nil {
			t.Fatalf("CreatePermission with an allow-all policy: %v", err)
		}
	})
}

func TestPublicPeersOnly(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"8.8.8.8", true}, {"203.0.113.7", true}, {"2001:4860:4860::8888", true},
		{"::ffff:8.8.8.8", true},
		{"127.0.0.1", false}, {"127.9.9.9", false}, {"::1", false},
		{"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false}, {"fd00::1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"100.64.0.1", false},
		{"0.0.0.0", false}, {"0.1.2.3", false}, {"::", false}, {"255.255.255.255", false},
		{"224.0.0.1", false}, {"ff02::1", false}, {"::ffff:127.0.0.1", false},
	} {
		if got := PublicPeersOnly(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("PublicPeersOnly(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	if PublicPeersOnly(netip.Addr{}) {
		t.Error("zero Addr allowed")
	}
}

func TestRelayRefusesOwnPort(t *testing.T) {
	srv := startTest(t, Config{}, hooks{})
	own := srv.Addr().(*net.UDPAddr)
	if !srv.isOwnPort(own) {
		t.Fatalf("%v not recognised as the server's own port", own)
	}
	if srv.isOwnPort(&net.UDPAddr{IP: own.IP, Port: own.Port + 1}) {
		t.Fatal("another port on the same IP refused")
	}
	// Through a real relay socket: the write is refused before it leaves.
	user, pass := Credentials(testSecret, "loop", time.Hour, time.Now())
	if _, _, err := allocate(t, srv, user, pass); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	var rc *trackedConn
	for c := range srv.relays {
		rc = c
	}
	srv.mu.Unlock()
	if _, err := rc.WriteTo([]byte("loop"), own); !errors.Is(err, ErrPeerForbidden) {
		t.Fatalf("relay WriteTo(own port) err = %v, want ErrPeerForbidden", err)
	}
}
