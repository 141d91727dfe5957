//go:build !js

package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/lynnet/lyn/demo-game/web"
)

// webHandler returns the handler that serves the browser build at / and
// starts building the .wasm in the background (the first build of pion for
// wasm takes a while; later ones come from the cache). The build's error,
// if any, is logged and shown by the page.
func webHandler(ctx context.Context, logger *slog.Logger) (http.Handler, error) {
	h, err := web.NewHandler(web.Config{SignalPath: signalPath, Logger: logger.With("component", "web")})
	if err != nil {
		return nil, err
	}
	go func() {
		if err := h.Prepare(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("browser build", "err", err)
		}
	}()
	return h, nil
}
