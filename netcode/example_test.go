//go:build !js

package netcode_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/pion/webrtc/v4"
)

// connectLoopback connects every peer in peers to every other, each from
// its own goroutine as separate machines would, through an in-memory
// signaling hub and over loopback only. A real game keeps Config's zero
// value, sets ICEServers, and signals through a server (Join does all of
// it).
func connectLoopback(ctx context.Context, peers []netcode.PeerID) ([]*netcode.Mesh, error) {
	hub := netcode.NewMemorySignaling()
	meshes := make([]*netcode.Mesh, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, id := range peers {
		wg.Go(func() {
			meshes[i], errs[i] = netcode.Connect(ctx, id, peers, hub.Signaler(id), netcode.Config{LoopbackOnly: true})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, m := range meshes {
			if m != nil {
				m.Close()
			}
		}
		return nil, err
	}
	return meshes, nil
}

// Two peers connect (see connectLoopback) and exchange one packet on each
// channel.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meshes, err := connectLoopback(ctx, []netcode.PeerID{1, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer meshes[0].Close()
	defer meshes[1].Close()

	_ = meshes[0].Link(2).SendControl([]byte("hello"))
	_ = meshes[0].Link(2).SendInput([]byte("input for frame 1"))

	// Peer 2's game loop drains what arrived, without blocking. The two
	// channels are independent: which packet arrives first is not fixed.
	var got []string
	for len(got) < 2 {
		select {
		case <-meshes[1].Arrived():
		case <-ctx.Done():
			return
		}
		for {
			from, ch, data, ok := meshes[1].Receive()
			if !ok {
				break
			}
			got = append(got, fmt.Sprintf("from %d on %s: %s", from, ch, data))
		}
	}
	slices.Sort(got)
	for _, line := range got {
		fmt.Println(line)
	}
	// Output:
	// from 1 on control: hello
	// from 1 on input: input for frame 1
}

// A game that knows its network changed (or a test) restarts ICE with a
// peer on demand; the data channels stay open meanwhile. Without a
// signaling connection the restart is impossible and says so.
func ExampleLink_Restart() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meshes, err := connectLoopback(ctx, []netcode.PeerID{1, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer meshes[0].Close()
	defer meshes[1].Close()

	link := meshes[0].Link(2)
	if err := link.Restart(); err != nil {
		fmt.Println(err)
		return
	}
	for link.Stats().Restarts == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	s := link.Stats()
	fmt.Println("restarts:", s.Restarts, "state:", s.State)
	// The game would also poll Mesh.Errors (or Session.PeerErrors) for
	// restarts that could not be made, and show Mesh.SignalingErr.
	fmt.Println("signaling:", meshes[0].SignalingErr())
	// Output:
	// restarts: 1 state: connected
	// signaling: <nil>
}

// A game that runs its own rollback.Session over a Mesh ends the Link of
// each peer its session gave up on, from its game loop (Join's Session
// does it by itself): the PeerConnection is closed rather than restarted.
func ExampleLink_Disconnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	peers := []netcode.PeerID{1, 2}
	meshes, err := connectLoopback(ctx, peers)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer meshes[0].Close()
	defer meshes[1].Close()
	tr, err := netcode.NewTransport(meshes[0], rollback.UintCodec[rt.Input]{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	session, err := rollback.NewSession(rollback.Config[rt.Input]{Players: peers, Self: 1}, rt.NewGame(2, 1), tr)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Peer 2 is given up on: here at once, in a game after the session's
	// DisconnectTimeout of silence.
	_ = session.Disconnect(2)
	var stats []rollback.PeerStats
	for range 3 { // ticks of the game loop
		_ = session.AdvanceFrame()
		stats = session.AppendPeerStats(stats[:0])
		for _, ps := range stats {
			if l := meshes[0].Link(ps.Peer); ps.Disconnected && !l.Stats().Disconnected {
				l.Disconnect()
			}
		}
	}
	link := meshes[0].Link(2)
	for link.Stats().State != webrtc.PeerConnectionStateClosed && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond) // closing takes pion a moment
	}
	s := link.Stats() // the last path it had stays in the stats
	fmt.Println("disconnected:", s.Disconnected, "state:", s.State, "pair:", s.LocalCandidateType)
	fmt.Println("send:", link.SendInput([]byte("late")))
	// Output:
	// disconnected: true state: closed pair: host
	// send: netcode: closed
}
