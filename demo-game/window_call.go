//go:build !js

package main

import "context"

// showWindow opens the game window on the calling goroutine (Ebiten's game
// loop wants the main one) and plays m in it until the player quits, the
// match fails or ctx ends (SIGINT, SIGTERM: Ctrl-C in the terminal closes
// the window).
func (r *runner) showWindow(ctx context.Context, m liveMatch, cfg windowConfig) error {
	cfg.Quit = ctx.Done()
	cfg.Logger = r.log
	return runWindow(m, cfg)
}
