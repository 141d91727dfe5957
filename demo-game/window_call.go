//go:build !js

package main

import (
	"context"
	"errors"

	"github.com/lynnet/lyn/demo-game/sim"
)

// showWindow opens the game window on the calling goroutine (Ebiten's game
// loop wants the main one) and plays m in it until the window closes.
func showWindow(m liveMatch, cfg windowConfig) error { return runWindow(m, cfg) }

// errInterrupted ends the window when the program is told to stop
// (SIGINT, SIGTERM): run's context is done.
var errInterrupted = errors.New("interrupted")

// ctxMatch is a liveMatch whose window closes when ctx ends.
type ctxMatch struct {
	liveMatch
	ctx context.Context
}

func (c ctxMatch) Tick(local []sim.Input) error {
	if c.ctx.Err() != nil {
		return errInterrupted
	}
	return c.liveMatch.Tick(local)
}

// showWindowCtx is showWindow that also closes when ctx ends.
func showWindowCtx(ctx context.Context, m liveMatch, cfg windowConfig) error {
	err := showWindow(ctxMatch{m, ctx}, cfg)
	if errors.Is(err, errInterrupted) {
		return nil
	}
	return err
}
