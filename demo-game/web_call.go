//go:build !js

package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/lynnet/lyn/demo-game/web"
)

// webHandler returns the handler that serves the browser build at / and
// starts building the .wasm in the background (the first build of pion for
// wasm takes a while; later ones come from the cache). The build's error,
// if any, is logged and shown by the page. stop ends a running build and
// waits for it, and for the goroutine that started it.
func webHandler(logger *slog.Logger) (h *web.Handler, stop func(), err error) {
	h, err = web.NewHandler(web.Config{SignalPath: signalPath, Logger: logger.With("component", "web")})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := h.Prepare(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("browser build", "err", err)
		}
	})
	return h, func() {
		cancel()
		h.Close()
		wg.Wait()
	}, nil
}
