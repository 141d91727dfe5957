//go:build !js

package main

import (
	"errors"
	"log/slog"
	"net/http"
)

// webHandler returns the handler that serves the browser build at /.
func webHandler(logger *slog.Logger) (http.Handler, error) {
	_ = logger
	return nil, errors.New("this build does not serve the browser build yet (demo-game/web is not merged)")
}
