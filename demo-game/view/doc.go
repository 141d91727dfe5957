// Package view draws the demo's simulation (package sim) with Ebiten: the
// shrinking platform, the discs in eight player colours (the local one
// ringed and marked YOU), dash trails and cooldown rings, the score bar and
// the countdown and winner banners. Draw fits any screen size, so the window
// may be resized freely.
//
// It has no game loop, reads no input and knows nothing of the network: the
// demo's main program runs Ebiten, feeds the session and calls Draw from its
// own Draw, then adds its overlay on top. Layout, Banner and PlayerName are
// plain functions of their arguments, for that overlay and for tests.
package view
