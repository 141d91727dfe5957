//go:build !js

package netcode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lynnet/lyn/internal/pionlog"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling"
	"github.com/lynnet/lyn/signaling/relay"
	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// natKind is the kind of NAT a peer sits behind (RFC 4787 terms).
type natKind int

const (
	natNone           natKind = iota // a public address, no NAT
	natFullCone                      // endpoint-independent mapping and filtering
	natAddrRestricted                // endpoint-independent mapping, address-dependent filtering
	natPortRestricted                // endpoint-independent mapping, address and port-dependent filtering
	natSymmetric                     // address and port-dependent mapping and filtering
)

var natKinds = []natKind{natNone, natFullCone, natAddrRestricted, natPortRestricted, natSymmetric}

func (k natKind) String() string {
	return [...]string{"none", "full-cone", "addr-restricted", "port-restricted", "symmetric"}[k]
}

// vnetNAT is k's behaviour for a vnet router (nil: no NAT).
func (k natKind) vnetNAT() *vnet.NATType {
	switch k {
	case natFullCone:
		return &vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointIndependent}
	case natAddrRestricted:
		return &vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrDependent}
	case natPortRestricted:
		return &vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
	case natSymmetric:
		return &vnet.NATType{MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
	}
	return nil
}

// natDirect says whether theory lets peers behind a and b reach each other
// without a relay. A symmetric NAT maps each destination to its own port,
// so the srflx address its peer learned through STUN is not the one its
// checks come from; that only matters when the peer's NAT filters by port
// too (port-restricted or symmetric) and so drops them. Every other pair
// punches a hole: each side's first check opens its own NAT for the other's.
func natDirect(a, b natKind) bool {
	portFiltered := func(k natKind) bool { return k == natPortRestricted || k == natSymmetric }
	return !(a == natSymmetric && portFiltered(b) || b == natSymmetric && portFiltered(a))
}

// The simulated internet: one WAN router for the public addresses (the
// STUN/TURN server's and those of the peers without NAT, and each NAT's
// outside address), and one LAN router with its own NAT and subnet per NAT'd
// peer. Every router hop takes its MinDelay, so a datagram between two
// NAT'd peers takes natLANDelay+natWANDelay+natLANDelay one way.
const (
	natWANDelay = 20 * time.Millisecond
	natLANDelay = 5 * time.Millisecond
	natTURNIP   = "203.0.113.2" // TEST-NET-3: public as far as relay.PublicPeersOnly knows
	natTURNPort = 3478
)

// natWorld is a vnet internet with lyn's STUN/TURN relay on it, a real
// lyn signaling server reached in memory, and one Net per peer.
type natWorld struct {
	kinds  []natKind
	wan    *vnet.Router // routes between the public addresses
	nets   []*vnet.Net
	relay  *relay.Server
	http   *http.Client // dials the signaling server in memory
	server *signaling.Server
}

// newNATWorld builds the network for peers behind kinds and starts the
// relay (lyn's own, with a TURN secret) and the signaling server, whose
// welcome hands every peer the relay's STUN URL and TURN URL with fresh
// credentials. It must run in a synctest bubble: signaling runs over
// in-memory pipes rather than loopback TCP because goroutines blocked on a
// real socket never let the bubble's clock advance. Cleanups stop it all
// after later cleanups (the sessions) ran. The welcome lists the ICE
// servers in before ahead of the relay's.
func newNATWorld(t *testing.T, kinds []natKind, before ...signaling.ICEServer) *natWorld {
	t.Helper()
	logs := pionlog.Factory{}
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "203.0.113.0/24", MinDelay: natWANDelay, LoggerFactory: logs})
	if err != nil {
		t.Fatal(err)
	}
	newNet := func(r *vnet.Router, ip string) *vnet.Net {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.AddNet(n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	turnNet := newNet(wan, natTURNIP)
	w := &natWorld{kinds: kinds, wan: wan}
	for i, k := range kinds {
		public := fmt.Sprintf("203.0.113.%d", 10+i)
		if k == natNone {
			w.nets = append(w.nets, newNet(wan, public))
			continue
		}
		lan, err := vnet.NewRouter(&vnet.RouterConfig{
			StaticIPs: []string{public}, CIDR: fmt.Sprintf("10.0.%d.0/24", i+1),
			NATType: k.vnetNAT(), MinDelay: natLANDelay, LoggerFactory: logs,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := wan.AddRouter(lan); err != nil {
			t.Fatal(err)
		}
		w.nets = append(w.nets, newNet(lan, fmt.Sprintf("10.0.%d.2", i+1)))
	}
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := wan.Stop(); err != nil {
			t.Error(err)
		}
		synctest.Wait() // the routers' goroutines see the stop
	})

	secret := []byte("nat-matrix-secret")
	w.relay, err = relay.Start(relay.Config{
		ListenAddr: fmt.Sprintf("%s:%d", natTURNIP, natTURNPort),
		Secret:     secret,
		Net:        turnNet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.relay.Close(); err != nil {
			t.Error(err)
		}
	})
	w.server = signaling.NewServer(signaling.Config{ICEServers: func(peer string) []signaling.ICEServer {
		user, pass := relay.Credentials(secret, peer, time.Hour, time.Now())
		urls := relay.ICEServerURLs(natTURNIP, natTURNPort)
		return append(slices.Clone(before), signaling.ICEServer{URLs: urls[:1]}, signaling.ICEServer{URLs: urls[1:], Username: user, Credential: pass})
	}})
	w.http = serveInMemory(t, w.server)
	return w
}

// joinConfig is peer i's JoinConfig for room.
func (w *natWorld) joinConfig(i int, room string, players int) JoinConfig[rt.Input] {
	return vnetJoinConfig(w.nets[i], w.http, room, players)
}

// vnetJoinConfig is the JoinConfig of a player of the reference game on
// host (UDP4, no mDNS) that reaches the signaling server through client.
func vnetJoinConfig(host transport.Net, client *http.Client, room string, players int) JoinConfig[rt.Input] {
	return JoinConfig[rt.Input]{
		URL:     "ws://signal.lyn.test/" + room,
		Players: players,
		Codec:   inputCodec,
		NewGame: func(seed uint64, players int) rollback.Game[rt.Input] { return rt.NewGame(players, seed) },
		Net: Config{
			Net:              host,
			NetworkTypes:     []webrtc.NetworkType{webrtc.NetworkTypeUDP4},
			MulticastDNSMode: ice.MulticastDNSModeDisabled,
		},
		HTTPClient: client,
	}
}

// serveInMemory serves h over in-memory pipes and returns an http.Client
// that reaches it whatever the URL's host. A cleanup shuts srv down.
func serveInMemory(t *testing.T, srv *signaling.Server) *http.Client {
	t.Helper()
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	hs := &http.Server{Handler: srv}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, signaling.ErrServerClosed) {
			t.Errorf("signaling shutdown: %v", err)
		}
		hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		tr.CloseIdleConnections()
	})
	return &http.Client{Transport: tr}
}

// pipeListener is a net.Listener of in-memory pipes made by dial.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// joinEach joins every cfgs[i] concurrently and returns the sessions in
// the order of cfgs (not the start order) and how long, on the bubble's
// clock, the last Join took. A cleanup closes them.
func joinEach(t *testing.T, cfgs []JoinConfig[rt.Input]) ([]*Session[rt.Input], time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sessions := make([]*Session[rt.Input], len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	start := time.Now()
	for i, cfg := range cfgs {
		wg.Go(func() { sessions[i], errs[i] = Join(ctx, cfg) })
	}
	wg.Wait()
	took := time.Since(start)
	t.Cleanup(func() {
		for _, s := range sessions {
			if s != nil {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("join: %v", err)
	}
	return sessions, took
}

// gameRecorder keeps every confirmed frame's inputs and the checksums.
type gameRecorder struct {
	inputs [][]rt.Input // by frame, by player
	sums   map[rollback.Frame]uint64
}

func (r *gameRecorder) RecordFrame(f rollback.Frame, in []rollback.PlayerInput[rt.Input]) {
	row := make([]rt.Input, len(in))
	for i, p := range in {
		row[i] = p.Input
	}
	r.inputs = append(r.inputs, row)
}

func (r *gameRecorder) RecordChecksum(f rollback.Frame, sum uint64) { r.sums[f] = sum }

// playJoined plays the reference game on sessions (created with a
// gameRecorder each, in recs) until every one confirmed frames frames,
// one tick per 1/60 s of the bubble's clock, and checks that every peer
// confirmed exactly the inputs every player sent and that they agree on
// every checksum. It returns the checksums compared.
func playJoined(t *testing.T, sessions []*Session[rt.Input], recs []*gameRecorder, frames int) int {
	t.Helper()
	input := rt.ReferenceInput(7)
	for tick := 0; ; tick++ {
		tickJoined(t, sessions, input, nil)
		done := true
		for _, s := range sessions {
			done = done && s.ConfirmedFrame() >= rollback.Frame(frames)
		}
		if done {
			t.Logf("%d frames confirmed by every peer after %d ticks", frames, tick+1)
			break
		}
		if tick > 20*frames {
			t.Fatalf("%d frames not confirmed after %d ticks", frames, tick)
		}
	}
	return checkRecorded(t, recs, input, frames)
}

// tickJoined runs one tick of every session: its local player's input,
// AdvanceFrame, its events, then a sleep of 1/60 s. An event other than
// the harmless ones is fatal unless event (if not nil) returns true for it.
func tickJoined(t *testing.T, sessions []*Session[rt.Input], input func(rollback.Player, rollback.Frame) rt.Input, event func(i int, e rollback.Event) bool) {
	t.Helper()
	for i, s := range sessions {
		p := s.LocalPlayer()
		if err := s.AddLocalInput(p, input(p, s.Frame()+rollback.Frame(s.InputDelay()))); err != nil {
			t.Fatal(err)
		}
		if err := s.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
			t.Fatalf("player %d: %v", p, err)
		}
		for _, e := range s.Events(nil) {
			bad := e.Kind == rollback.EventDesync || e.Kind == rollback.EventPeerDisconnected
			if bad && (event == nil || !event(i, e)) {
				t.Fatalf("player %d: %v", p, e)
			}
		}
	}
	time.Sleep(time.Second / rollback.DefaultFrameRate)
}

// checkRecorded checks that every peer confirmed, for frames frames,
// exactly the inputs every player sent, and that their checksums agree.
// It returns the checksums compared.
func checkRecorded(t *testing.T, recs []*gameRecorder, input func(rollback.Player, rollback.Frame) rt.Input, frames int) int {
	t.Helper()
	compared := 0
	for i, r := range recs {
		if len(r.inputs) < frames {
			t.Fatalf("peer %d recorded %d frames", i, len(r.inputs))
		}
		for f, row := range r.inputs[:frames] {
			for p, in := range row {
				if want := input(rollback.Player(p), rollback.Frame(f)); in != want {
					t.Fatalf("peer %d confirmed input %v for player %d at frame %d, sent %v", i, in, p, f, want)
				}
			}
		}
		if i == 0 {
			continue
		}
		for f, sum := range recs[0].sums {
			if o, ok := r.sums[f]; ok {
				compared++
				if o != sum {
					t.Fatalf("frame %d: checksum %x on peer 0, %x on peer %d", f, sum, o, i)
				}
			}
		}
	}
	if compared < (len(recs)-1)*(frames/rollback.DefaultChecksumInterval-1) {
		t.Fatalf("only %d checksums compared", compared)
	}
	return compared
}
