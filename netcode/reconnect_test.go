//go:build !js

package netcode

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// reconnectPath is the vnet path of the reconnect tests: 20 ms one way,
// no loss (the cuts are the point).
var reconnectPath = vnetPath{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}

// cutter drops every datagram to or from the hosts it is told to cut, as a
// pulled cable or a dead Wi-Fi would. It is the drop function of a
// vnetJitter filter.
type cutter struct {
	mu  sync.Mutex
	cut map[string]bool // by IP
}

func (c *cutter) set(ip string, cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut == nil {
		c.cut = map[string]bool{}
	}
	c.cut[ip] = cut
}

func (c *cutter) drop(ch vnet.Chunk) bool {
	src, _, _ := net.SplitHostPort(ch.SourceAddr().String())
	dst, _, _ := net.SplitHostPort(ch.DestinationAddr().String())
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut[src] || c.cut[dst]
}

// hostIP is the vnet address of peer index i (vnetNetwork's numbering).
func hostIP(i int) string { return fmt.Sprintf("10.0.0.%d", i+1) }

// connectOver connects peers 1..len(nets), peer i+1 on nets[i], through
// hub; cfg is every peer's template. A cleanup closes the meshes.
func connectOver(t *testing.T, nets []transport.Net, hub *MemorySignaling, cfg Config) []*Mesh {
	t.Helper()
	meshes, err := connectNets(t, nets, hub.Signaler, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return meshes
}

// reconnectWorld is n peers on one vnet router (10.0.0.1 ..), plus extra
// spare hosts, with a cutter in the router. It runs in a synctest bubble.
type reconnectWorld struct {
	nets []*vnet.Net
	cut  *cutter
	hub  *MemorySignaling
	jit  *vnetJitter
}

func newReconnectWorld(t *testing.T, hosts int, seed uint64) *reconnectWorld {
	t.Helper()
	w := &reconnectWorld{cut: &cutter{}, hub: NewMemorySignaling()}
	w.hub.Delay = reconnectPath.Delay
	w.jit = &vnetJitter{path: reconnectPath, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	w.jit.setDrop(w.cut.drop)
	var delays map[string]*vnet.DelayFilter
	w.nets, delays = vnetNetwork(t, hosts, reconnectPath.Delay, 0, nil, w.jit.filter)
	w.jit.into = delays
	return w
}

// reconnectRun is a reference-game run over meshes whose sessions report
// interruptions after 500 ms of silence and give a peer up after
// disconnect (on the harness's clock, which moves with the bubble's).
func reconnectRun(meshes []*Mesh, frames int, disconnect time.Duration) rt.RunConfig[rt.Input] {
	cfg := realRun(len(meshes), 21, frames, func(i int) Packets { return meshes[i] })
	cfg.TickSleep = time.Second / rollback.DefaultFrameRate
	cfg.Session.DisconnectNotifyStart = 500 * time.Millisecond
	cfg.Session.DisconnectTimeout = disconnect
	return cfg
}

// cutPlan cuts peer (an index) off the network from tick from for the
// given virtual time, then restores it, and notes when every other peer's
// session heard from it again (EventPeerResumed).
type cutPlan struct {
	peer     int
	from     int
	length   time.Duration
	cut      func(peer int, on bool) // what cutting means; default: drop its host's datagrams
	cutAt    time.Time
	restored time.Time
	before   []int           // EventPeerResumed count of each peer at the restore
	resumed  []time.Duration // from the restore to EventPeerResumed, by peer
}

func (p *cutPlan) onTick(w *reconnectWorld) func(r *rt.Runner[rt.Input], tick int) error {
	if p.cut == nil {
		p.cut = func(peer int, on bool) { w.cut.set(hostIP(peer), on) }
	}
	return func(r *rt.Runner[rt.Input], tick int) error {
		switch {
		case tick == p.from:
			p.cut(p.peer, true)
			p.cutAt = time.Now()
		case tick > p.from && p.restored.IsZero() && time.Since(p.cutAt) >= p.length:
			p.cut(p.peer, false)
			p.restored = time.Now()
			p.resumed = make([]time.Duration, len(r.Sessions))
			for i := range r.Sessions {
				p.before = append(p.before, countEvents(r.Events(i), rollback.EventPeerResumed))
			}
		case !p.restored.IsZero():
			for i := range r.Sessions {
				if p.resumed[i] == 0 && countEvents(r.Events(i), rollback.EventPeerResumed) > p.before[i] {
					p.resumed[i] = time.Since(p.restored)
				}
			}
		}
		return nil
	}
}

func countEvents(evs []rollback.Event, kind rollback.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// playChecked runs r to frames and checks what rollbacktest checks: every
// input of every live peer arrived intact, checksums agree, no desync.
func playChecked(t *testing.T, r *rt.Runner[rt.Input], frames int) rt.Result {
	t.Helper()
	runErr := r.RunUntil(frames)
	res, err := r.Check()
	if runErr != nil || err != nil {
		for i := range r.Sessions {
			t.Logf("peer %d events: %v", i+1, r.Events(i))
		}
	}
	if runErr != nil {
		t.Fatalf("%v (confirmed %v)", runErr, res.Confirmed)
	}
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for i := range r.Sessions {
		if !r.Crashed(i) {
			live++
		}
	}
	if res.InputsChecked < live*(frames-10) || res.ChecksumsCompared < (live-1)*(frames/rollback.DefaultChecksumInterval-1) {
		t.Fatalf("checked too little: %d inputs, %d checksums", res.InputsChecked, res.ChecksumsCompared)
	}
	return res
}

// TestVNetReconnectAfterCut cuts one peer off the vnet for a while and
// restores it, mid-game, and checks that the game goes on as if nothing
// happened: every input arrives, checksums agree, nobody is disconnected,
// and the other peers' sessions reported the peer interrupted and then
// resumed. A 1.25 s cut comes back by itself (ICE's checks find the path
// again, before Config.ICERestartAfter runs out); a 4 s cut is restarted
// (the offerer restarts ICE through the signaler ~2 s into the cut, while
// the control channel cannot carry anything). It logs, per peer, the time
// from the path's return to the session's EventPeerResumed.
func TestVNetReconnectAfterCut(t *testing.T) {
	for _, tc := range []struct {
		name         string
		peers, which int
		cut          time.Duration
		restart      bool
	}{
		{"2-short", 2, 1, 1250 * time.Millisecond, false},
		{"2", 2, 1, 4 * time.Second, true},
		{"3", 3, 2, 4 * time.Second, true},
		{"3-offerer", 3, 0, 4 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newReconnectWorld(t, tc.peers, 3)
				nets := make([]transport.Net, tc.peers)
				for i := range nets {
					nets[i] = w.nets[i]
				}
				meshes := connectOver(t, nets, w.hub, Config{})
				playCut(t, w, meshes, &cutPlan{peer: tc.which, length: tc.cut}, tc.restart)
			})
		})
	}
}

// playCut plays 600 frames of the reference game over meshes, with plan's
// cut from tick 120, and checks that the game survived it
// (checkCutSurvived; restart: an ICE restart was needed).
func playCut(t *testing.T, w *reconnectWorld, meshes []*Mesh, plan *cutPlan, restart bool) {
	t.Helper()
	const frames = 600
	plan.from = 120
	cfg := reconnectRun(meshes, frames, time.Minute)
	cfg.OnTick = plan.onTick(w)
	r, err := rt.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	playChecked(t, r, frames)
	checkCutSurvived(t, r, meshes, plan, restart)
}

// checkCutSurvived checks the events and netcode stats a cut of plan.peer
// should leave behind, and logs the time to resume.
func checkCutSurvived(t *testing.T, r *rt.Runner[rt.Input], meshes []*Mesh, plan *cutPlan, restart bool) {
	t.Helper()
	cutID := rt.PeerID(plan.peer)
	var resumed []string
	for i := range r.Sessions {
		evs := r.Events(i)
		if n := countEvents(evs, rollback.EventPeerDisconnected); n != 0 {
			t.Errorf("peer %d: %d disconnect events: %v", i, n, evs)
		}
		if i == plan.peer {
			continue
		}
		if !hasEvent(evs, rollback.EventPeerInterrupted, cutID) || !hasEvent(evs, rollback.EventPeerResumed, cutID) {
			t.Errorf("peer %d did not see peer %d interrupted and resumed: %v", i, cutID, evs)
		}
		if plan.resumed[i] == 0 {
			t.Errorf("peer %d: no EventPeerResumed after the path came back", i)
		}
		resumed = append(resumed, fmt.Sprintf("peer %d %v", i+1, plan.resumed[i].Round(time.Millisecond)))
		ps := meshes[i].Link(cutID).Stats()
		if ps.Interruptions == 0 {
			t.Errorf("peer %d link to %d: no interruption counted", i+1, cutID)
		}
		if restart && (ps.Restarts == 0 || ps.LastRestart == 0) {
			t.Errorf("peer %d link to %d: %d restarts (last took %v), want at least 1", i+1, cutID, ps.Restarts, ps.LastRestart)
		}
		if !restart && ps.Restarts != 0 {
			t.Errorf("peer %d link to %d: %d restarts after a short cut, want none", i+1, cutID, ps.Restarts)
		}
		if ps.Restarting || ps.State != webrtc.PeerConnectionStateConnected {
			t.Errorf("peer %d link to %d: restarting %v, state %v", i+1, cutID, ps.Restarting, ps.State)
		}
		t.Logf("peer %d link to %d: %d interruptions, %d restarts, last took %v, %s/%s pair",
			i+1, cutID, ps.Interruptions, ps.Restarts, ps.LastRestart.Round(time.Millisecond), ps.LocalCandidateType, ps.RemoteCandidateType)
	}
	for i, m := range meshes {
		if errs := m.Errors(nil); len(errs) != 0 {
			t.Errorf("peer %d: mesh errors %v", i+1, errs)
		}
	}
	t.Logf("peer %d cut for %v; path restored (or new address up) → EventPeerResumed: %s", cutID, plan.length, strings.Join(resumed, ", "))
}

func hasEvent(evs []rollback.Event, kind rollback.EventKind, peer PeerID) bool {
	for _, e := range evs {
		if e.Kind == kind && e.Peer == peer {
			return true
		}
	}
	return false
}

// switchNet is a host that moves from one network to another, as a phone
// leaving Wi-Fi for its mobile network: it hands pion whichever vnet.Net is
// current, so candidates gathered after the switch (by an ICE restart) have
// the new address, while sockets opened before stay on the old network.
type switchNet struct {
	mu  sync.Mutex
	cur transport.Net
}

func (s *switchNet) net() transport.Net {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *switchNet) switchTo(n transport.Net) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = n
}

func (s *switchNet) ListenPacket(network, address string) (net.PacketConn, error) {
	return s.net().ListenPacket(network, address)
}
func (s *switchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	return s.net().ListenUDP(network, laddr)
}
func (s *switchNet) ListenTCP(network string, laddr *net.TCPAddr) (transport.TCPListener, error) {
	return s.net().ListenTCP(network, laddr)
}
func (s *switchNet) Dial(network, address string) (net.Conn, error) {
	return s.net().Dial(network, address)
}
func (s *switchNet) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	return s.net().DialUDP(network, laddr, raddr)
}
func (s *switchNet) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	return s.net().DialTCP(network, laddr, raddr)
}
func (s *switchNet) ResolveIPAddr(network, address string) (*net.IPAddr, error) {
	return s.net().ResolveIPAddr(network, address)
}
func (s *switchNet) ResolveUDPAddr(network, address string) (*net.UDPAddr, error) {
	return s.net().ResolveUDPAddr(network, address)
}
func (s *switchNet) ResolveTCPAddr(network, address string) (*net.TCPAddr, error) {
	return s.net().ResolveTCPAddr(network, address)
}
func (s *switchNet) Interfaces() ([]*transport.Interface, error) { return s.net().Interfaces() }
func (s *switchNet) InterfaceByIndex(index int) (*transport.Interface, error) {
	return s.net().InterfaceByIndex(index)
}
func (s *switchNet) InterfaceByName(name string) (*transport.Interface, error) {
	return s.net().InterfaceByName(name)
}
func (s *switchNet) CreateDialer(d *net.Dialer) transport.Dialer { return s.net().CreateDialer(d) }
func (s *switchNet) CreateListenConfig(c *net.ListenConfig) transport.ListenConfig {
	return s.net().CreateListenConfig(c)
}

// TestVNetReconnectNewAddress moves a peer to another network mid-game (its
// old address goes dead for good, a new one works) and checks that the
// game goes on with every input and equal checksums: the ICE restart
// gathers candidates at the new address and the pair moves there. The
// moving peer is the answerer in "2" (its restart request and the
// offerer's restart cross) and the offerer in "2-offerer". It logs the
// time from the switch to EventPeerResumed.
func TestVNetReconnectNewAddress(t *testing.T) {
	for _, tc := range []struct {
		name  string
		which int
	}{{"2", 1}, {"2-offerer", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newReconnectWorld(t, 3, 5) // hosts 10.0.0.1-3; .3 is where the mover goes
				nets := []transport.Net{w.nets[0], w.nets[1]}
				mover := &switchNet{cur: nets[tc.which]}
				nets[tc.which] = mover
				meshes := connectOver(t, nets, w.hub, Config{})
				other := 1 - tc.which
				before := meshes[other].Link(rt.PeerID(tc.which)).Stats().RemoteAddress
				playCut(t, w, meshes, &cutPlan{peer: tc.which, cut: func(peer int, on bool) {
					if on { // the old network dies, the new one is there
						w.cut.set(hostIP(peer), true)
						mover.switchTo(w.nets[2])
					}
				}}, true)
				after := meshes[other].Link(rt.PeerID(tc.which)).Stats().RemoteAddress
				if !strings.HasPrefix(after, hostIP(2)+":") {
					t.Errorf("peer %d reaches the mover at %s after the switch (before: %s), want %s", other+1, after, before, hostIP(2))
				}
				t.Logf("peer %d moved from %s to %s", tc.which+1, before, after)
			})
		})
	}
}

// TestVNetPeerGoneAgreement: of 3 peers over WebRTC on a vnet, one dies
// mid-game (its machine stops and its network goes dead, with no goodbye).
// Past the sessions' DisconnectTimeout both others declare its player
// disconnected at the same frame, however differently the silence began
// for each, and play on to the end with equal inputs and checksums; the
// links to it stay down (restarts are tried and fail) without hurting the
// game.
func TestVNetPeerGoneAgreement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newReconnectWorld(t, 3, 7)
		nets := []transport.Net{w.nets[0], w.nets[1], w.nets[2]}
		meshes := connectOver(t, nets, w.hub, Config{})
		const frames, gone = 600, 2
		cfg := reconnectRun(meshes, frames, 1500*time.Millisecond)
		cfg.OnTick = func(r *rt.Runner[rt.Input], tick int) error {
			if tick == 120 {
				r.Crash(gone)
				w.cut.set(hostIP(gone), true)
			}
			return nil
		}
		r, err := rt.NewRunner(cfg)
		if err != nil {
			t.Fatal(err)
		}
		playChecked(t, r, frames)
		var frame []rollback.Frame
		for i := range 2 {
			var got []rollback.Event
			for _, e := range r.Events(i) {
				if e.Kind == rollback.EventPeerDisconnected {
					got = append(got, e)
				}
			}
			if len(got) != 1 || got[0].Peer != rt.PeerID(gone) || got[0].Player != gone {
				t.Fatalf("peer %d: disconnect events %v, want one for peer %d", i+1, got, rt.PeerID(gone))
			}
			if !hasEvent(r.Events(i), rollback.EventPeerInterrupted, rt.PeerID(gone)) {
				t.Errorf("peer %d: no interruption before the disconnect", i+1)
			}
			frame = append(frame, got[0].Frame)
			ps := meshes[i].Link(rt.PeerID(gone)).Stats()
			t.Logf("peer %d: %v; link to %d: %d interruptions, restarting %v", i+1, got[0], gone+1, ps.Interruptions, ps.Restarting)
			if ps.Interruptions == 0 {
				t.Errorf("peer %d: link to the dead peer never interrupted", i+1)
			}
		}
		if frame[0] != frame[1] {
			t.Fatalf("the peers disagree on the disconnect frame: %d and %d", frame[0], frame[1])
		}
	})
}

// joinConfig is the JoinConfig of the peer on host i (w.nets[i]) for room
// on k.
func (w *reconnectWorld) joinConfig(i int, k *killableServer, room string, players int) JoinConfig[rt.Input] {
	return vnetJoinConfig(w.nets[i], k.client, room, players)
}

// killableServer serves a signaling.Server over in-memory pipes (like
// serveInMemory) and can kill it: the listener stops and every connection
// is cut without a close frame, as when the server's machine dies.
type killableServer struct {
	srv    *signaling.Server
	client *http.Client

	mu     sync.Mutex
	conns  []net.Conn
	l      *pipeListener
	killed bool
}

func serveKillable(t *testing.T) *killableServer {
	t.Helper()
	k := &killableServer{srv: signaling.NewServer(signaling.Config{})}
	k.l = &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	hs := &http.Server{Handler: k.srv}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(k.l) }()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := k.l.dial(ctx, network, addr)
		if err == nil {
			k.mu.Lock()
			k.conns = append(k.conns, c)
			k.mu.Unlock()
		}
		return c, err
	}}
	k.client = &http.Client{Transport: tr}
	t.Cleanup(func() {
		k.kill()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := k.srv.Shutdown(ctx); err != nil && !errors.Is(err, signaling.ErrServerClosed) {
			t.Errorf("signaling shutdown: %v", err)
		}
		hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
		tr.CloseIdleConnections()
	})
	return k
}

// kill stops accepting and cuts every connection (the pipes' client ends;
// closing one end of a net.Pipe closes both).
func (k *killableServer) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.killed {
		return
	}
	k.killed = true
	k.l.Close()
	for _, c := range k.conns {
		c.Close()
	}
}

// TestSignalingGone: two players join through a real signaling server, which
// is then killed (no close frame: its connections just die). The game goes
// on: the signaling clients try to resume, give up, and the meshes say so
// (SignalingErr). A 3 s cut of the path then needs an ICE restart that
// cannot be negotiated: both players get a PeerError wrapping
// ErrSignalingGone instead of a hang or a panic, and when the path comes
// back (before ICE gives it up) the game resumes by itself. It plays to its
// end frame with every input delivered and equal checksums; a forced
// restart afterwards fails with ErrSignalingGone.
func TestSignalingGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newReconnectWorld(t, 2, 9)
		k := serveKillable(t)
		recs := make([]*gameRecorder, 2)
		cfgs := make([]JoinConfig[rt.Input], 2)
		for i := range cfgs {
			recs[i] = &gameRecorder{sums: map[rollback.Frame]uint64{}}
			cfgs[i] = w.joinConfig(i, k, "gone", 2)
			cfgs[i].Session.Recorder = recs[i]
			cfgs[i].Session.DisconnectTimeout = 10 * time.Second
		}
		sessions, _ := joinEach(t, cfgs)
		k.kill()
		killed := time.Now()

		input := rt.ReferenceInput(7)
		var goneErrs [2][]PeerError
		tick := func() {
			tickJoined(t, sessions, input, nil)
			for i, s := range sessions {
				goneErrs[i] = s.PeerErrors(goneErrs[i])
			}
		}
		// 1. The clients notice and give up resuming; the game goes on.
		for sessions[0].Mesh().SignalingErr() == nil || sessions[1].Mesh().SignalingErr() == nil {
			if time.Since(killed) > time.Minute {
				t.Fatal("the meshes never noticed that signaling is gone")
			}
			tick()
		}
		t.Logf("signaling gone noticed after %v: %v", time.Since(killed).Round(time.Millisecond), sessions[0].Mesh().SignalingErr())
		for i, s := range sessions {
			err := s.Mesh().SignalingErr()
			if !errors.Is(err, ErrSignalingGone) || !errors.Is(err, signaling.ErrResumeFailed) {
				t.Errorf("player %d: SignalingErr() = %v", i, err)
			}
			if tok := s.conn.client.Welcome().ResumeToken; err != nil && strings.Contains(err.Error(), tok) {
				t.Errorf("player %d: SignalingErr() shows the resume token: %v", i, err)
			}
		}
		// 2. A cut long enough to want a restart.
		w.cut.set(hostIP(0), true)
		for cut := time.Now(); time.Since(cut) < 3*time.Second; {
			tick()
		}
		w.cut.set(hostIP(0), false)
		// 3. To the end.
		const frames = 1500
		for sessions[0].ConfirmedFrame() < frames || sessions[1].ConfirmedFrame() < frames {
			if time.Since(killed) > 2*time.Minute {
				t.Fatalf("stuck at confirmed frames %d and %d", sessions[0].ConfirmedFrame(), sessions[1].ConfirmedFrame())
			}
			tick()
		}
		for i, errs := range goneErrs {
			found := false
			for _, e := range errs {
				found = found || (errors.Is(e, ErrSignalingGone) && e.Peer == otherPlayer(sessions[i]))
			}
			if !found {
				t.Errorf("player %d: no ErrSignalingGone for the cut path among %v", i, errs)
			}
		}
		t.Logf("session 0 (player %d) errors: %v", sessions[0].LocalPlayer(), goneErrs[0])
		checkRecorded(t, recs, input, frames)
		// 4. A forced restart says why it cannot be.
		for i, s := range sessions {
			l := s.Mesh().Link(otherPlayer(s))
			if err := l.Restart(); !errors.Is(err, ErrSignalingGone) {
				t.Errorf("player %d: Restart() = %v, want ErrSignalingGone", i, err)
			}
			if errs := s.PeerErrors(nil); len(errs) != 1 || !errors.Is(errs[0], ErrSignalingGone) {
				t.Errorf("player %d: PeerErrors after Restart: %v", i, errs)
			}
			if ps := l.Stats(); ps.Interruptions == 0 || ps.Restarts != 0 {
				t.Errorf("player %d: %d interruptions, %d restarts; want some and none", i, ps.Interruptions, ps.Restarts)
			}
		}
	})
}

// otherPlayer is the PeerID of the other player of a 2-player session
// (players are numbered 1 and 2 by their place in the start order).
func otherPlayer(s *Session[rt.Input]) PeerID { return PeerID(2 - s.LocalPlayer()) }

// controlStream sends numbered messages on the control channel from one
// Mesh to another and collects the numbers that arrive, to check that
// none is lost or reordered.
type controlStream struct {
	t        *testing.T
	from, to *Mesh
	sent     int
	got      []int
}

func (c *controlStream) send() {
	c.t.Helper()
	if err := c.from.Send(c.to.Self(), ChannelControl, []byte{byte(c.sent >> 8), byte(c.sent)}); err != nil {
		c.t.Fatalf("send %d: %v", c.sent, err)
	}
	c.sent++
}

// receive drains what arrived at c.to (dropping its input packets).
func (c *controlStream) receive() {
	for {
		_, ch, b, ok := c.to.Receive()
		if !ok {
			return
		}
		if ch == ChannelControl {
			c.got = append(c.got, int(b[0])<<8|int(b[1]))
		}
	}
}

// checkOrder fails the test if what arrived is not 0, 1, 2, ... in order.
func (c *controlStream) checkOrder(when string) {
	c.t.Helper()
	for i, n := range c.got {
		if n != i {
			c.t.Fatalf("control message %d arrived as #%d: lost or reordered %s", n, i, when)
		}
	}
}

// TestRestartKeepsChannels restarts ICE on demand (Link.Restart), from the
// offering side and then from the answering side (which asks the offerer),
// on loopback while the control channel streams numbered messages, and
// feeds each peer overtaken and early signals of other negotiations. Both
// restarts complete, no control message is lost or reordered across them,
// and the stray signals change nothing.
func TestRestartKeepsChannels(t *testing.T) {
	hub := NewMemorySignaling()
	meshes := connectAll(t, 2, loopback, hub)
	defer closeAll(t, meshes)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	firstOffer := meshes[0].Link(2).pc.CurrentLocalDescription().SDP
	firstAnswer := meshes[1].Link(1).pc.CurrentLocalDescription().SDP

	stream := &controlStream{t: t, from: meshes[0], to: meshes[1]}
	receive := func() {
		stream.receive()
		time.Sleep(5 * time.Millisecond)
	}
	pump := func() {
		for range 5 {
			stream.send()
		}
		receive()
	}
	waitRestarts := func(want uint64) {
		t.Helper()
		for !(meshes[0].Link(2).Stats().Restarts == want && meshes[1].Link(1).Stats().Restarts == want) {
			if ctx.Err() != nil {
				t.Fatalf("restart %d did not complete: %+v / %+v", want, meshes[0].Link(2).Stats(), meshes[1].Link(1).Stats())
			}
			pump()
		}
	}
	for range 10 {
		pump()
	}
	if err := meshes[0].Link(2).Restart(); err != nil { // the offerer
		t.Fatal(err)
	}
	waitRestarts(1)
	// Stray signals: the first negotiation's offer and answer (overtaken),
	// a candidate of a restart not made yet (held, then dropped unused) and
	// garbage for the current one (ignored).
	stray := []struct {
		from, to PeerID
		s        Signal
	}{
		{1, 2, Signal{Kind: SignalOffer, SDP: firstOffer}},
		{2, 1, Signal{Kind: SignalAnswer, SDP: firstAnswer}},
		{2, 1, Signal{Kind: SignalAnswer, SDP: firstAnswer, Restart: 7}},
		{1, 2, Signal{Kind: SignalCandidate, Restart: 9, Candidate: &webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}}},
		{2, 1, Signal{Kind: SignalCandidate, Restart: 1, Candidate: &webrtc.ICECandidateInit{Candidate: "candidate:garbage"}}},
		{2, 1, Signal{Kind: SignalRestart}}, // a request from before restart 1: crossed it
	}
	for _, s := range stray {
		if err := hub.Signaler(s.from).Send(ctx, s.to, s.s); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		pump()
	}
	if err := meshes[1].Link(1).Restart(); err != nil { // the answerer asks
		t.Fatal(err)
	}
	waitRestarts(2)
	for range 20 {
		pump()
	}
	for len(stream.got) < stream.sent {
		if ctx.Err() != nil {
			t.Fatalf("%d of %d control messages arrived", len(stream.got), stream.sent)
		}
		receive()
	}
	stream.checkOrder("across a restart")
	for i, m := range meshes {
		ps := m.Links()[0].Stats()
		if ps.Restarts != 2 || ps.Restarting || ps.State != webrtc.PeerConnectionStateConnected {
			t.Errorf("peer %d: %d restarts, restarting %v, state %v", i+1, ps.Restarts, ps.Restarting, ps.State)
		}
		if errs := m.Errors(nil); len(errs) != 0 {
			t.Errorf("peer %d: %v", i+1, errs)
		}
		t.Logf("peer %d: restarts %d, last took %v; %d control messages in order", i+1, ps.Restarts, ps.LastRestart, len(stream.got))
	}
}

// TestPlayerLeftStopsRestarts: when the signaling server reports that a
// player left the room, the Link to it is never restarted again (there is
// nobody to signal) even when its path breaks; it stays in the Mesh for
// the session to give up on.
func TestPlayerLeftStopsRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newReconnectWorld(t, 2, 11)
		k := serveKillable(t)
		cfgs := make([]JoinConfig[rt.Input], 2)
		for i := range cfgs {
			cfgs[i] = w.joinConfig(i, k, "left", 2)
		}
		sessions, _ := joinEach(t, cfgs)
		stay, leave := sessions[0], sessions[1]
		link := stay.Mesh().Link(otherPlayer(stay))
		// The leaver quits the room but, for the test, keeps its
		// PeerConnection (a whole Close would close the path too).
		if err := leave.conn.client.Close(); err != nil {
			t.Fatal(err)
		}
		for start := time.Now(); !link.left.Load(); time.Sleep(10 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatal("the peer's departure never reached the mesh")
			}
		}
		w.cut.set(hostIP(1), true)
		time.Sleep(4 * time.Second)
		ps := link.Stats()
		if ps.Interruptions == 0 {
			t.Fatalf("the path to the departed player was never interrupted (state %v): the test shows nothing", ps.State)
		}
		if ps.Restarting || ps.Restarts != 0 || peerErrorCount(t, stay) != 0 {
			t.Errorf("link to a departed player: restarting %v, %d restarts", ps.Restarting, ps.Restarts)
		}
		if err := stay.Mesh().SignalingErr(); err != nil {
			t.Errorf("signaling: %v", err)
		}
	})
}

// TestVNetGivenUpPeerNotRestarted: of 3 players joined through a
// signaling server, over a vnet, one is cut off for good mid-game (its
// machine hangs: its session stops, its pion and its signaling connection
// live on, so the server never says it left). The two others restart ICE
// with it ~2 s into the cut, give it up past their 4 s DisconnectTimeout
// and agree on its disconnect frame. From then on their links to it make
// no restart attempt (for 12 s, past two Config.ICERestartTimeout), ignore
// the hung peer's own restart requests and offers, and are closed, their
// pion goroutines gone; the two play on.
func TestVNetGivenUpPeerNotRestarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const players, hung = 3, 2 // hung: index in cfgs, and host
		w := newReconnectWorld(t, players, 23)
		k := serveKillable(t)
		cfgs := make([]JoinConfig[rt.Input], players)
		for i := range cfgs {
			cfgs[i] = w.joinConfig(i, k, "hung", players)
			cfgs[i].Session.DisconnectNotifyStart = 500 * time.Millisecond
			cfgs[i].Session.DisconnectTimeout = 4 * time.Second
		}
		sessions, _ := joinEach(t, cfgs)
		hungID := PeerID(sessions[hung].LocalPlayer() + 1)
		live := sessions[:hung:hung]
		input := rt.ReferenceInput(5)
		disconnectAt := make([]rollback.Frame, len(live))
		disconnected := func(i int, e rollback.Event) bool {
			if e.Kind != rollback.EventPeerDisconnected || e.Peer != hungID || disconnectAt[i] != 0 {
				return false
			}
			disconnectAt[i] = e.Frame
			return true
		}
		tick := func(sessions []*Session[rt.Input]) {
			tickJoined(t, sessions, input, disconnected)
			for _, s := range sessions {
				if errs := s.PeerErrors(nil); len(errs) != 0 {
					t.Errorf("peer %d: %v", s.LocalPlayer()+1, errs)
				}
			}
		}
		for range 120 {
			tick(sessions)
		}
		w.cut.set(hostIP(hung), true)
		cut, goroutines := time.Now(), runtime.NumGoroutine()
		for disconnectAt[0] == 0 || disconnectAt[1] == 0 {
			if time.Since(cut) > 30*time.Second {
				t.Fatalf("the hung peer is not disconnected %v into the cut: frames %v", time.Since(cut), disconnectAt)
			}
			tick(live)
		}
		if disconnectAt[0] != disconnectAt[1] {
			t.Fatalf("the players disagree on the disconnect frame: %v", disconnectAt)
		}
		t.Logf("peer %d disconnected from frame %d, %v into the cut", hungID, disconnectAt[0], time.Since(cut).Round(time.Millisecond))
		links := make([]*Link, len(live))
		attempts := make([]uint64, len(live))
		for i, s := range live {
			links[i] = s.Mesh().Link(hungID)
			ps := links[i].Stats()
			attempts[i] = ps.RestartAttempts
			if !ps.Disconnected || ps.Restarting {
				t.Errorf("peer %d's link to %d right after the disconnect: disconnected %v, restarting %v", s.LocalPlayer()+1, hungID, ps.Disconnected, ps.Restarting)
			}
		}
		if attempts[0]+attempts[1] == 0 {
			t.Fatal("no restart was attempted during the cut: the test shows nothing")
		}
		for after := time.Now(); time.Since(after) < 12*time.Second; {
			tick(live)
		}
		for i, l := range links {
			ps := l.Stats()
			t.Logf("peer %d's link to %d: %d restart attempts, %d interruptions, state %v", live[i].LocalPlayer()+1, hungID, ps.RestartAttempts, ps.Interruptions, ps.State)
			if ps.RestartAttempts != attempts[i] || ps.Restarting || ps.State != webrtc.PeerConnectionStateClosed {
				t.Errorf("peer %d after the disconnect: %d restart attempts (was %d), restarting %v, state %v", live[i].LocalPlayer()+1, ps.RestartAttempts, attempts[i], ps.Restarting, ps.State)
			}
			if err := l.SendControl([]byte("x")); !errors.Is(err, ErrClosed) {
				t.Errorf("send on a disconnected link: %v, want ErrClosed", err)
			}
			if err := l.Restart(); !errors.Is(err, ErrClosed) {
				t.Errorf("Restart of a disconnected link: %v, want ErrClosed", err)
			}
		}
		// The hung peer's own mesh lives on: only the survivors' links to
		// it are closed.
		t.Logf("goroutines: %d at the cut, %d 12 s after the disconnect", goroutines, runtime.NumGoroutine())
		if n := runtime.NumGoroutine(); n >= goroutines {
			t.Errorf("%d goroutines at the cut, %d once the links to the hung peer are closed", goroutines, n)
		}
		if live[0].ConfirmedFrame() < disconnectAt[0]+600 || live[1].ConfirmedFrame() < disconnectAt[0]+600 {
			t.Errorf("the live players did not play on: confirmed %d and %d", live[0].ConfirmedFrame(), live[1].ConfirmedFrame())
		}
	})
}

// peerErrorCount counts and logs the peer errors of s.
func peerErrorCount(t *testing.T, s *Session[rt.Input]) int {
	errs := s.PeerErrors(nil)
	for _, e := range errs {
		t.Logf("peer error: %v", e)
	}
	return len(errs)
}

// countingSignaler counts the restart signals (Signal.Restart > 0) a peer
// sends.
type countingSignaler struct {
	Signaler
	mu       sync.Mutex
	restarts map[SignalKind]int
}

func (c *countingSignaler) Send(ctx context.Context, to PeerID, s Signal) error {
	if s.Restart > 0 || s.Kind == SignalRestart {
		c.mu.Lock()
		c.restarts[s.Kind]++
		c.mu.Unlock()
	}
	return c.Signaler.Send(ctx, to, s)
}

// TestVNetRestartThroughSignaling cuts the path between two peers for 4 s
// while peer 1 sends a numbered control message every 50 ms. The control
// channel cannot carry anything during the cut, so the restart is
// negotiated through the signaler (counted there: an offer, an answer,
// candidates); once the path is back every control message arrives, in
// order, none lost.
func TestVNetRestartThroughSignaling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newReconnectWorld(t, 2, 13)
		sigs := []*countingSignaler{
			{Signaler: w.hub.Signaler(1), restarts: map[SignalKind]int{}},
			{Signaler: w.hub.Signaler(2), restarts: map[SignalKind]int{}},
		}
		meshes, err := connectNets(t, []transport.Net{w.nets[0], w.nets[1]}, func(id PeerID) Signaler { return sigs[id-1] }, Config{})
		if err != nil {
			t.Fatal(err)
		}
		stream := &controlStream{t: t, from: meshes[0], to: meshes[1]}
		step := func() {
			stream.send()
			time.Sleep(50 * time.Millisecond)
			stream.receive()
		}
		for range 10 {
			step()
		}
		w.cut.set(hostIP(0), true)
		duringCut := len(stream.got)
		for cut := time.Now(); time.Since(cut) < 4*time.Second; {
			step()
		}
		if len(stream.got) > duringCut+1 {
			t.Fatalf("%d control messages crossed a cut path", len(stream.got)-duringCut)
		}
		w.cut.set(hostIP(0), false)
		restored := time.Now()
		for len(stream.got) < stream.sent {
			if time.Since(restored) > 20*time.Second {
				t.Fatalf("%d of %d control messages arrived after the path came back", len(stream.got), stream.sent)
			}
			step()
		}
		stream.checkOrder("across a cut")
		for i, s := range sigs {
			s.mu.Lock()
			t.Logf("peer %d sent restart signals: %v", i+1, s.restarts)
			if i == 0 && (s.restarts[SignalOffer] == 0 || s.restarts[SignalCandidate] == 0) {
				t.Errorf("peer 1 sent no restart offer or candidates through the signaler: %v", s.restarts)
			}
			if i == 1 && (s.restarts[SignalAnswer] == 0 || s.restarts[SignalCandidate] == 0) {
				t.Errorf("peer 2 sent no restart answer or candidates through the signaler: %v", s.restarts)
			}
			s.mu.Unlock()
			if ps := meshes[i].Links()[0].Stats(); ps.Restarts == 0 {
				t.Errorf("peer %d: no restart counted", i+1)
			}
		}
		t.Logf("%d control messages, all in order; the last cut-time one arrived %v after the path came back", stream.sent, time.Since(restored).Round(time.Millisecond))
	})
}

// TestReconnectConfigDefaults: the zero Config gets the documented
// timeouts; negative timeouts are refused, except ICERestartAfter, where
// negative means never restart.
func TestReconnectConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.ICEDisconnectedTimeout != time.Second || c.ICERestartAfter != time.Second || c.ICERestartTimeout != 5*time.Second {
		t.Errorf("defaults: %v %v %v", c.ICEDisconnectedTimeout, c.ICERestartAfter, c.ICERestartTimeout)
	}
	if n := c.maxBindingRequests(); n != 25 {
		t.Errorf("max binding requests for a 5 s restart timeout: %d, want 25", n)
	}
	if c, err := (Config{ICERestartAfter: -1}).withDefaults(); err != nil || c.ICERestartAfter >= 0 {
		t.Errorf("ICERestartAfter -1: %v, %v", c.ICERestartAfter, err)
	}
	for _, bad := range []Config{{ICEDisconnectedTimeout: -1}, {ICERestartTimeout: -1}} {
		if _, err := bad.withDefaults(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestVNetNoRestart: with ICERestartAfter negative a cut path is never
// restarted; it comes back by itself when the network does.
func TestVNetNoRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newReconnectWorld(t, 2, 17)
		meshes := connectOver(t, []transport.Net{w.nets[0], w.nets[1]}, w.hub, Config{ICERestartAfter: -1})
		sent := w.hub.Sent()
		w.cut.set(hostIP(1), true)
		time.Sleep(4 * time.Second)
		w.cut.set(hostIP(1), false)
		time.Sleep(2 * time.Second)
		for i, m := range meshes {
			ps := m.Links()[0].Stats()
			if ps.Interruptions != 1 || ps.Restarts != 0 || ps.Restarting || ps.State != webrtc.PeerConnectionStateConnected {
				t.Errorf("peer %d: %d interruptions, %d restarts, restarting %v, %v", i+1, ps.Interruptions, ps.Restarts, ps.Restarting, ps.State)
			}
		}
		if n := w.hub.Sent() - sent; n != 0 {
			t.Errorf("%d signals sent", n)
		}
		if err := meshes[0].Send(2, ChannelControl, []byte("still there")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if _, _, b, ok := meshes[1].Receive(); !ok || string(b) != "still there" {
			t.Fatalf("after the cut: %q %v", b, ok)
		}
	})
}

// TestRestartRequestFlood: a peer that floods the offerer with restart
// requests gets one restart, not one per request.
func TestRestartRequestFlood(t *testing.T) {
	hub := NewMemorySignaling()
	meshes := connectAll(t, 2, loopback, hub)
	defer closeAll(t, meshes)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 50 {
		// seen far ahead of any restart made: no request looks crossed.
		if err := hub.Signaler(2).Send(ctx, 1, Signal{Kind: SignalRestart, Restart: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	link := meshes[0].Link(2)
	for link.Stats().Restarts == 0 {
		if ctx.Err() != nil {
			t.Fatal("no restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if n := link.gen.Load(); n != 1 {
		t.Fatalf("50 requests made %d restarts", n)
	}
}
