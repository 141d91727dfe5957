package main

import (
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/lynnet/lyn/demo-game/sim"
)

// held returns a pressed function for the given keys.
func held(keys ...ebiten.Key) func(ebiten.Key) bool {
	return func(k ebiten.Key) bool {
		for _, h := range keys {
			if h == k {
				return true
			}
		}
		return false
	}
}

func TestSeatInput(t *testing.T) {
	for _, tc := range []struct {
		name        string
		seat, seats int
		keys        []ebiten.Key
		want        sim.Input
	}{
		{"lone seat, arrows", 0, 1, []ebiten.Key{ebiten.KeyArrowUp, ebiten.KeyArrowLeft}, sim.Up | sim.Left},
		{"lone seat, WASD", 0, 1, []ebiten.Key{ebiten.KeyS, ebiten.KeyD}, sim.Down | sim.Right},
		{"lone seat, Space dashes", 0, 1, []ebiten.Key{ebiten.KeySpace}, sim.Dash},
		{"lone seat, Enter dashes", 0, 1, []ebiten.Key{ebiten.KeyEnter}, sim.Dash},
		{"lone seat, nothing", 0, 1, nil, 0},
		{"lone seat, other keys", 0, 1, []ebiten.Key{ebiten.KeyF3, ebiten.KeyQ, ebiten.KeyEscape}, 0},
		{"seat 1 of 2, arrows", 0, 2, []ebiten.Key{ebiten.KeyArrowDown, ebiten.KeyShiftRight}, sim.Down | sim.Dash},
		{"seat 1 of 2 ignores WASD", 0, 2, []ebiten.Key{ebiten.KeyW, ebiten.KeySpace}, 0},
		{"seat 2 of 2, WASD", 1, 2, []ebiten.Key{ebiten.KeyW, ebiten.KeyA, ebiten.KeySpace}, sim.Up | sim.Left | sim.Dash},
		{"seat 2 of 2 ignores arrows", 1, 2, []ebiten.Key{ebiten.KeyArrowUp, ebiten.KeyEnter}, 0},
		{"seat 3 has no keys", 2, 3, []ebiten.Key{ebiten.KeyArrowUp, ebiten.KeyW}, 0},
		{"all at once", 0, 1, []ebiten.Key{ebiten.KeyArrowUp, ebiten.KeyArrowDown, ebiten.KeyArrowLeft, ebiten.KeyArrowRight, ebiten.KeySpace}, sim.AllButtons},
	} {
		if got := seatInput(tc.seat, tc.seats, held(tc.keys...)); got != tc.want {
			t.Errorf("%s: input %05b, want %05b", tc.name, got, tc.want)
		}
	}
}

func TestLocalInputs(t *testing.T) {
	in := localInputs(nil, 2, held(ebiten.KeyArrowUp, ebiten.KeyD))
	if len(in) != 2 || in[0] != sim.Up || in[1] != sim.Right {
		t.Fatalf("two seats: %v, want [Up Right]", in)
	}
	// The slice is reused, and a spectator has no seats.
	if in2 := localInputs(in, 0, held(ebiten.KeyArrowUp)); len(in2) != 0 {
		t.Fatalf("spectator: %v, want none", in2)
	}
}
