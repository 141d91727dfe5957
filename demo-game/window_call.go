//go:build !js

package main

// showWindow opens the game window on the calling goroutine (it must be the
// main one) and runs m in it until the window closes.
func showWindow(m liveMatch, cfg windowConfig) error {
	return runWindow(m, cfg)
}
