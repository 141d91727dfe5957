package main

import (
	"github.com/hajimehoshi/ebiten/v2"

	"github.com/lynnet/lyn/demo-game/sim"
)

// The keyboard controls. One local seat (the usual case) answers to both key
// sets, so either hand position works:
//
//	move: arrow keys or W A S D
//	dash: Space, Enter or either Shift
//
// With two local seats (two people at one keyboard) they split:
//
//	seat 1: arrow keys to move, Enter or Right Shift to dash
//	seat 2: W A S D to move, Space or Left Shift to dash
//
// Every seat: F3 shows or hides the network overlay, Esc quits (not in a
// browser tab, where closing the tab does).
type keySet struct {
	up, down, left, right []ebiten.Key
	dash                  []ebiten.Key
}

var (
	arrowKeys = keySet{
		up:    []ebiten.Key{ebiten.KeyArrowUp},
		down:  []ebiten.Key{ebiten.KeyArrowDown},
		left:  []ebiten.Key{ebiten.KeyArrowLeft},
		right: []ebiten.Key{ebiten.KeyArrowRight},
		dash:  []ebiten.Key{ebiten.KeyEnter, ebiten.KeyNumpadEnter, ebiten.KeyShiftRight},
	}
	wasdKeys = keySet{
		up:    []ebiten.Key{ebiten.KeyW},
		down:  []ebiten.Key{ebiten.KeyS},
		left:  []ebiten.Key{ebiten.KeyA},
		right: []ebiten.Key{ebiten.KeyD},
		dash:  []ebiten.Key{ebiten.KeySpace, ebiten.KeyShiftLeft},
	}
)

// Keys that are not a seat's buttons.
const (
	overlayKey = ebiten.KeyF3
	quitKey    = ebiten.KeyEscape
)

// seatKeys returns the key sets that drive seat (0-based) when seats seats
// read this keyboard: both sets for a lone seat, one set each for two, none
// beyond (a third local player needs a gamepad, which the demo does not
// read).
func seatKeys(seat, seats int) []keySet {
	switch {
	case seats == 1 && seat == 0:
		return []keySet{arrowKeys, wasdKeys}
	case seats >= 2 && seat == 0:
		return []keySet{arrowKeys}
	case seats >= 2 && seat == 1:
		return []keySet{wasdKeys}
	}
	return nil
}

// seatInput returns seat's buttons given which keys are held.
func seatInput(seat, seats int, pressed func(ebiten.Key) bool) sim.Input {
	held := func(keys []ebiten.Key) bool {
		for _, k := range keys {
			if pressed(k) {
				return true
			}
		}
		return false
	}
	var in sim.Input
	for _, ks := range seatKeys(seat, seats) {
		if held(ks.up) {
			in |= sim.Up
		}
		if held(ks.down) {
			in |= sim.Down
		}
		if held(ks.left) {
			in |= sim.Left
		}
		if held(ks.right) {
			in |= sim.Right
		}
		if held(ks.dash) {
			in |= sim.Dash
		}
	}
	return in
}

// localInputs fills in (resized to seats) with every local seat's buttons.
func localInputs(in []sim.Input, seats int, pressed func(ebiten.Key) bool) []sim.Input {
	in = in[:0]
	for s := range seats {
		in = append(in, seatInput(s, seats, pressed))
	}
	return in
}
