//go:build !js

package netcode_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lynnet/lyn/netcode"
)

// Two peers connect through an in-memory signaling hub over loopback and
// exchange one packet on each channel.
func Example() {
	hub := netcode.NewMemorySignaling()
	peers := []netcode.PeerID{1, 2}
	cfg := netcode.Config{LoopbackOnly: true} // a real game keeps the zero value and sets ICEServers
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	meshes := make([]*netcode.Mesh, len(peers))
	var wg sync.WaitGroup
	for i, id := range peers {
		wg.Go(func() {
			m, err := netcode.Connect(ctx, id, peers, hub.Signaler(id), cfg)
			if err != nil {
				fmt.Println(err)
				return
			}
			meshes[i] = m
		})
	}
	wg.Wait()
	if meshes[0] == nil || meshes[1] == nil {
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
	hub := netcode.NewMemorySignaling()
	peers := []netcode.PeerID{1, 2}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	meshes := make([]*netcode.Mesh, len(peers))
	var wg sync.WaitGroup
	for i, id := range peers {
		wg.Go(func() {
			meshes[i], _ = netcode.Connect(ctx, id, peers, hub.Signaler(id), netcode.Config{LoopbackOnly: true})
		})
	}
	wg.Wait()
	if meshes[0] == nil || meshes[1] == nil {
		fmt.Println("connect failed")
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
