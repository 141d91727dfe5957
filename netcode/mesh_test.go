//go:build !js

package netcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// No pion goroutine outlives Mesh.Close (GracefulClose waits for them),
	// so nothing needs to be ignored here.
	goleak.VerifyTestMain(m)
}

var loopback = Config{LoopbackOnly: true}

// connectAll connects peers 1..n through one memory hub, concurrently.
func connectAll(t testing.TB, n int, cfg Config, hub *MemorySignaling) []*Mesh {
	t.Helper()
	if hub == nil {
		hub = NewMemorySignaling()
	}
	ids := make([]PeerID, n)
	for i := range ids {
		ids[i] = PeerID(i + 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	meshes := make([]*Mesh, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			meshes[i], errs[i] = Connect(ctx, id, ids, hub.Signaler(id), cfg)
		})
	}
	wg.Wait()
	var failed bool
	for i, err := range errs {
		if err != nil {
			t.Errorf("peer %d: %v", ids[i], err)
			failed = true
		}
	}
	if failed {
		closeAll(t, meshes)
		t.FailNow()
	}
	return meshes
}

func closeAll(t testing.TB, meshes []*Mesh) {
	t.Helper()
	for _, m := range meshes {
		if m != nil {
			if err := m.Close(); err != nil {
				t.Errorf("close %d: %v", m.Self(), err)
			}
		}
	}
}

type received struct {
	from PeerID
	ch   Channel
	data string
}

// drain collects what m receives until done says it has enough, or fails
// after a deadline.
func drain(t testing.TB, m *Mesh, done func([]received) bool) []received {
	t.Helper()
	var got []received
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !done(got) {
		from, ch, data, ok := m.Receive()
		if ok {
			got = append(got, received{from, ch, string(data)})
			continue
		}
		select {
		case <-m.Arrived():
		case <-deadline.C:
			t.Fatalf("peer %d: timed out, got %d packets", m.Self(), len(got))
		}
	}
	return got
}

func testExchange(t *testing.T, n int) {
	meshes := connectAll(t, n, loopback, nil)
	defer closeAll(t, meshes)
	const perPair = 20
	for _, m := range meshes {
		for _, l := range m.Links() {
			for k := range perPair {
				if err := l.SendControl(fmt.Appendf(nil, "ctl %d>%d #%d", m.Self(), l.Peer(), k)); err != nil {
					t.Fatal(err)
				}
				if err := l.SendInput(fmt.Appendf(nil, "in %d>%d #%d", m.Self(), l.Peer(), k)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var wg sync.WaitGroup
	for _, m := range meshes {
		wg.Go(func() {
			wantControl := (n - 1) * perPair
			got := drain(t, m, func(got []received) bool {
				c, i := 0, 0
				for _, r := range got {
					if r.ch == ChannelControl {
						c++
					} else {
						i++
					}
				}
				return c == wantControl && i == wantControl // loopback: no loss expected
			})
			nextControl := map[PeerID]int{}
			seenInput := map[string]bool{}
			for _, r := range got {
				switch r.ch {
				case ChannelControl:
					want := fmt.Sprintf("ctl %d>%d #%d", r.from, m.Self(), nextControl[r.from])
					if r.data != want {
						t.Errorf("peer %d: control got %q, want %q", m.Self(), r.data, want)
					}
					nextControl[r.from]++
				case ChannelInput:
					var from, to PeerID
					var k int
					if _, err := fmt.Sscanf(r.data, "in %d>%d #%d", &from, &to, &k); err != nil || from != r.from || to != m.Self() || k >= perPair || seenInput[r.data] {
						t.Errorf("peer %d: bad input packet %q from %d", m.Self(), r.data, r.from)
					}
					seenInput[r.data] = true
				}
			}
			for _, s := range m.Stats() {
				if s.PacketsSent != 2*perPair || s.PacketsReceived != 2*perPair || s.InputDropped+s.ControlDropped != 0 {
					t.Errorf("peer %d stats for %d: %+v", m.Self(), s.Peer, s)
				}
			}
		})
	}
	wg.Wait()
}

func TestExchange2(t *testing.T) { testExchange(t, 2) }
func TestExchange4(t *testing.T) { testExchange(t, 4) }
func TestExchange8(t *testing.T) {
	if testing.Short() {
		t.Skip("8 peers: 28 DTLS handshakes")
	}
	testExchange(t, 8)
}

// countingHandler counts slog records that carry a pion scope.
type countingHandler struct {
	slog.Handler
	pion *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	return nil
}
func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		if a.Key == "pion" {
			h.pion.Add(1)
		}
	}
	return h
}

func TestCandidateTypeHostOnLoopback(t *testing.T) {
	var pionLoggers atomic.Int64
	cfg := loopback
	cfg.Logger = slog.New(countingHandler{Handler: slog.DiscardHandler, pion: &pionLoggers})
	meshes := connectAll(t, 2, cfg, nil)
	defer closeAll(t, meshes)
	if pionLoggers.Load() == 0 {
		t.Error("pion created no logger through Config.Logger")
	}
	for _, m := range meshes {
		s := m.Stats()[0]
		// The remote end is prflx when the other peer's check arrived
		// before its trickled host candidate (it happens under load): the
		// same socket, learned first from the check.
		if s.LocalCandidateType != webrtc.ICECandidateTypeHost ||
			s.RemoteCandidateType != webrtc.ICECandidateTypeHost && s.RemoteCandidateType != webrtc.ICECandidateTypePrflx {
			t.Errorf("peer %d: candidate pair %s/%s, want host/host (or host/prflx)", m.Self(), s.LocalCandidateType, s.RemoteCandidateType)
		}
		if s.State != webrtc.PeerConnectionStateConnected {
			t.Errorf("peer %d: state %s", m.Self(), s.State)
		}
		if len(s.LocalAddress) < 10 || s.LocalAddress[:10] != "127.0.0.1:" {
			t.Errorf("peer %d: local address %q not on loopback", m.Self(), s.LocalAddress)
		}
		t.Logf("peer %d: %s %s -> %s %s, ICE rtt %v, SCTP rtt %v, timeline %+v", m.Self(),
			s.LocalCandidateType, s.LocalAddress, s.RemoteCandidateType, s.RemoteAddress, s.ICERoundTrip, s.SCTPRoundTrip, s.Timeline)
	}
}

func TestQueueOverflowDropsAndCounts(t *testing.T) {
	cfg := loopback
	cfg.InputQueueLen = 8
	cfg.ControlQueueLen = 4
	meshes := connectAll(t, 2, cfg, nil)
	defer closeAll(t, meshes)
	a, b := meshes[0], meshes[1]
	l := a.Link(b.Self())
	const sent = 100
	for k := range sent {
		if err := l.SendInput([]byte{byte(k)}); err != nil {
			t.Fatal(err)
		}
		if err := l.SendControl([]byte{byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// b never drains while the packets arrive: pion must not block, so all
	// of them are delivered (counted) and all but the queue's worth dropped.
	// Dropped packets raise no Arrived signal, so this waits by polling.
	deadline := time.Now().Add(10 * time.Second)
	var s PeerStats
	for {
		s = b.Link(a.Self()).Stats()
		if s.PacketsReceived == 2*sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d packets arrived: %+v", s.PacketsReceived, 2*sent, s)
		}
		time.Sleep(time.Millisecond)
	}
	if s.InputDropped != sent-8 || s.ControlDropped != sent-4 {
		t.Fatalf("dropped input %d control %d, want %d and %d", s.InputDropped, s.ControlDropped, sent-8, sent-4)
	}
	// The queue keeps the oldest packets, control first. Control is ordered,
	// so those are 0 to 3; input is unordered, so its 8 are the first 8 to
	// arrive, not necessarily the first 8 sent.
	var control []byte
	inputs := map[byte]bool{}
	for {
		_, ch, data, ok := b.Receive()
		if !ok {
			break
		}
		if ch == ChannelControl {
			if len(inputs) > 0 {
				t.Fatal("control packet after input ones: control must come first")
			}
			control = append(control, data...)
		} else {
			inputs[data[0]] = true
		}
	}
	if string(control) != "\x00\x01\x02\x03" || len(inputs) != 8 {
		t.Fatalf("queue held control %v and %d distinct inputs %v", control, len(inputs), inputs)
	}
	// Space again: a new packet gets through.
	if err := l.SendInput([]byte("again")); err != nil {
		t.Fatal(err)
	}
	drain(t, b, func(r []received) bool { return len(r) == 1 && r[0].data == "again" })
}

func TestConnectTimeoutNamesPeer(t *testing.T) {
	hub := NewMemorySignaling()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// Peer 2 never shows up.
	m, err := Connect(ctx, 1, []PeerID{1, 2}, hub.Signaler(1), loopback)
	if m != nil {
		m.Close()
		t.Fatal("connected to an absent peer")
	}
	var ce *ConnectError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConnect) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a ConnectError wrapping DeadlineExceeded", err)
	}
	if len(ce.Failed) != 1 || ce.Failed[0].Peer != 2 || ce.Failed[0].InputOpen {
		t.Fatalf("failed peers %+v", ce.Failed)
	}
	t.Log(err)
}

func TestConnectInvalid(t *testing.T) {
	ctx := context.Background()
	if _, err := Connect(ctx, 1, []PeerID{2}, nil, loopback); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil signaler: %v", err)
	}
	hub := NewMemorySignaling()
	if _, err := Connect(ctx, 1, []PeerID{2, 2}, hub.Signaler(1), loopback); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("duplicate peer: %v", err)
	}
	if _, err := Connect(ctx, 1, []PeerID{2}, hub.Signaler(1), Config{InputQueueLen: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("negative queue: %v", err)
	}
}

func TestSendAfterClose(t *testing.T) {
	meshes := connectAll(t, 2, loopback, nil)
	closeAll(t, meshes)
	if err := meshes[0].Send(2, ChannelInput, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("SendInput after Close: %v", err)
	}
	if err := meshes[0].Send(2, ChannelControl, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("SendControl after Close: %v", err)
	}
	if err := meshes[0].Send(7, ChannelControl, []byte("x")); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("send to unknown peer: %v", err)
	}
	if err := meshes[0].Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSendInputBufferLimit(t *testing.T) {
	cfg := loopback
	cfg.MaxInputBuffered = 4 << 10
	meshes := connectAll(t, 2, cfg, nil)
	defer closeAll(t, meshes)
	l := meshes[0].Link(2)
	pkt := make([]byte, 1000)
	const burst = 1000 // 1 MB at once: far more than SCTP's window lets out
	var full int
	for range burst {
		switch err := l.SendInput(pkt); {
		case err == nil:
		case errors.Is(err, ErrSendBufferFull):
			full++
		default:
			t.Fatal(err)
		}
	}
	s := l.Stats()
	if full == 0 || s.SendDropped != uint64(full) || s.PacketsSent+s.SendDropped != burst {
		t.Fatalf("refused %d; stats sent %d dropped %d", full, s.PacketsSent, s.SendDropped)
	}
	t.Logf("burst of %d: %d sent, %d refused with ErrSendBufferFull", burst, s.PacketsSent, s.SendDropped)
}
