//go:build !js

package netcode

import (
	"context"
	"errors"
	"testing"
	"time"
)

// goneSignaler lets a test report an accepted peer gone, as the signaling
// client does on peer-left.
type goneSignaler struct {
	Signaler
	gone chan PeerID
}

func (g *goneSignaler) Recv(ctx context.Context) (PeerID, Signal, error) {
	for {
		select {
		case p := <-g.gone:
			return p, Signal{Kind: signalGone}, nil
		default:
		}
		rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		from, s, err := g.Signaler.Recv(rctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return from, s, err
		}
	}
}

// TestAcceptPeer: a Mesh with AcceptPeer accepts a peer that arrives after
// Connect returned (it offers, whatever its id, and learns the id it was
// accepted as), delivers its packets through Receive, refuses one that
// AcceptPeer rejects, and closes the link of one reported gone.
func TestAcceptPeer(t *testing.T) {
	hub := NewMemorySignaling()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	hostSig := &goneSignaler{Signaler: hub.Signaler(1), gone: make(chan PeerID, 1)}
	hostCfg := loopback
	hostCfg.AcceptPeer = func(p PeerID) bool { return p == 1001 }
	// A host alone: Connect returns at once and keeps listening.
	host, err := Connect(ctx, 1, []PeerID{1}, hostSig, hostCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()

	guest, err := Connect(ctx, 0, []PeerID{1}, hub.Signaler(1001), loopback)
	if err != nil {
		t.Fatal(err)
	}
	defer guest.Close()
	if id := guest.Link(1).AssignedID(); id != 1001 {
		t.Errorf("guest was told id %d, want 1001", id)
	}
	if l := host.Link(1001); l == nil || l.offerer {
		t.Fatalf("host's link to the guest: %+v", l)
	}
	if err := guest.Send(1, ChannelControl, []byte("hi host")); err != nil {
		t.Fatal(err)
	}
	got := drain(t, host, func(r []received) bool { return len(r) == 1 })
	if got[0] != (received{1001, ChannelControl, "hi host"}) {
		t.Errorf("host got %+v", got)
	}
	// The host answers, so its input channel opens when the guest's
	// in-band OPEN arrives, possibly just after the guest's Connect returned.
	for deadline := time.Now().Add(5 * time.Second); !host.Link(1001).inputOpen.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("host's input channel to the guest never opened")
		}
		time.Sleep(time.Millisecond)
	}
	if err := host.Send(1001, ChannelInput, []byte("hi guest")); err != nil {
		t.Fatal(err)
	}
	got = drain(t, guest, func(r []received) bool { return len(r) == 1 })
	if got[0] != (received{1, ChannelInput, "hi guest"}) {
		t.Errorf("guest got %+v", got)
	}

	// A stranger AcceptPeer refuses gets no answer.
	sctx, scancel := context.WithTimeout(ctx, 500*time.Millisecond)
	stranger, err := Connect(sctx, 0, []PeerID{1}, hub.Signaler(1002), loopback)
	scancel()
	if err == nil {
		stranger.Close()
		t.Fatal("a refused peer connected")
	}
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Errorf("stranger: %v", err)
	}
	if host.Link(1002) != nil {
		t.Error("host made a link to a refused peer")
	}

	// Reported gone: the link is closed and removed.
	hostSig.gone <- 1001
	for host.Link(1001) != nil {
		if ctx.Err() != nil {
			t.Fatal("link to a departed peer kept")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := host.Send(1001, ChannelInput, []byte("x")); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("send to a departed peer: %v", err)
	}
	if n := len(host.Links()); n != 0 {
		t.Errorf("host has %d links after the departure, want 0", n)
	}
}
