//go:build !js

package signaling

import "github.com/coder/websocket"

// dialOptions are the WebSocket handshake's options for cfg.
func dialOptions(cfg ClientConfig) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: cfg.HTTPClient}
}
