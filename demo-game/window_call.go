//go:build !js

package main

import (
	"errors"
)

// errNoWindow: this build has no window.
var errNoWindow = errors.New("this build has no window yet (demo-game/window.go is not merged): use -headless")

// showWindow opens the game window on the calling goroutine and runs m in
// it until the window closes.
func showWindow(m liveMatch, cfg windowConfig) error {
	_, _ = m, cfg
	return errNoWindow
}
