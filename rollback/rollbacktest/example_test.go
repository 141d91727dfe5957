package rollbacktest_test

import (
	"fmt"
	"time"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/rollbacktest"
)

func ExampleFakeClock() {
	clock := rollbacktest.NewFakeClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	clock.Advance(16 * time.Millisecond)
	fmt.Println(clock.Now().Format("15:04:05.000"))
	// Output: 12:00:00.016
}

// A network with 40 ms of delay between peers 1 and 2, and a cut link.
func ExampleNetwork() {
	clock := rollbacktest.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	net := rollbacktest.NewNetwork[rollbacktest.Input](rollbacktest.NetworkConfig{
		Clock: clock,
		Seed:  1, // the same seed replays the same losses, delays and duplicates
		Chaos: rollbacktest.Chaos{Delay: 40 * time.Millisecond},
	})
	var alice, bob rollback.Transport[rollbacktest.Input] = net.Endpoint(1), net.Endpoint(2)

	m := &rollback.Message[rollbacktest.Input]{Kind: rollback.KindInput, Frame: 10, Inputs: []rollbacktest.Input{rollbacktest.Right}}
	alice.Send(2, m)
	m.Inputs[0] = rollbacktest.Left // Send copied the message: this does not change what bob gets

	_, _, ok := bob.Receive()
	fmt.Println("at 0 ms:", ok)
	clock.Advance(40 * time.Millisecond)
	from, got, ok := bob.Receive()
	fmt.Println("at 40 ms:", ok, "from", from, "frame", got.Frame, "right:", got.Inputs[0] == rollbacktest.Right)

	net.Cut(1, 2)
	alice.Send(2, m)
	clock.Advance(time.Second)
	_, _, ok = bob.Receive()
	fmt.Println("after Cut:", ok)
	fmt.Printf("%+v\n", net.Stats(1))
	// Output:
	// at 0 ms: false
	// at 40 ms: true from 1 frame 10 right: true
	// after Cut: false
	// {Sent:2 Lost:0 Severed:1 Duplicated:0 Reordered:0 Delivered:0}
}

// Chaos for a bad mobile link: 5% loss plus bursts, 60±20 ms, some
// duplicates and reordering; the link from 2 to 1 is worse.
func ExampleChaos() {
	net := rollbacktest.NewNetwork[rollbacktest.Input](rollbacktest.NetworkConfig{
		Clock: rollbacktest.NewFakeClock(time.Time{}),
		Seed:  7,
		Chaos: rollbacktest.Chaos{
			Loss:      0.05,
			Burst:     rollbacktest.BurstLoss{Start: 0.01, MeanLength: 4},
			Delay:     60 * time.Millisecond,
			Jitter:    20 * time.Millisecond,
			Duplicate: 0.01,
			Reorder:   0.02,
		},
	})
	net.SetLinkChaos(2, 1, rollbacktest.Chaos{Loss: 0.3, Delay: 120 * time.Millisecond})
	fmt.Println(net.InFlight())
	// Output: 0
}

// Driving the reference game by hand: advance, save, advance, roll back.
func ExampleGame() {
	game := rollbacktest.NewGame(2, 42)
	inputs := []rollback.PlayerInput[rollbacktest.Input]{
		{Input: rollbacktest.Right | rollbacktest.Down},
		{Input: rollbacktest.Left, Status: rollback.Predicted},
	}
	for range 10 {
		game.Advance(inputs)
	}
	saved := game.Save(nil)
	x, _ := game.Position(0)

	inputs[1].Status = rollback.Disconnected
	game.Advance(inputs)
	fmt.Println("frame", game.Frame(), "player 1 disconnected:", game.Disconnected(1))

	if err := game.Load(saved); err != nil {
		fmt.Println(err)
	}
	x2, _ := game.Position(0)
	fmt.Println("rolled back to frame", game.Frame(), "same position:", x == x2, "state bytes:", len(saved))

	err := game.Load(saved[:10])
	fmt.Println(err)
	// Output:
	// frame 11 player 1 disconnected: true
	// rolled back to frame 10 same position: true state bytes: 66
	// rollbacktest: bad game state: 10 bytes, want 66
}

// The reference game's input encodes with the engine's UintCodec.
func ExampleInput() {
	var codec rollback.InputCodec[rollbacktest.Input] = rollback.UintCodec[rollbacktest.Input]{}
	buf := make([]byte, codec.Size())
	codec.Put(buf, rollbacktest.Up|rollbacktest.Action)
	in, _ := codec.Get(buf)
	fmt.Println(codec.Size(), buf, in&rollbacktest.Action != 0)
	// Output: 2 [17 0] true
}

func ExampleInputGen() {
	gen := rollbacktest.NewInputGen(1)
	gen.MinHold, gen.MaxHold = 3, 3
	for range 9 {
		fmt.Printf("%02x ", uint16(gen.Next()))
	}
	fmt.Println()
	// Output: 02 02 02 12 12 12 09 09 09
}

// A NondeterministicGame goes wrong when frame 5 is simulated a second
// time: the state at frame 6 differs.
func ExampleNewNondeterministicGame() {
	game := rollbacktest.NewNondeterministicGame(1, 3, 5)
	none := []rollback.PlayerInput[rollbacktest.Input]{{}}
	for range 5 {
		game.Advance(none)
	}
	at5 := game.Save(nil)
	game.Advance(none)
	first := rollback.StateChecksum(game.Save(nil))

	_ = game.Load(at5)
	game.Advance(none)
	again := rollback.StateChecksum(game.Save(nil))
	fmt.Println("state at frame", game.Frame(), "differs:", first != again)
	// Output: state at frame 6 differs: true
}
