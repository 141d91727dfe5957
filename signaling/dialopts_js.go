package signaling

import "github.com/coder/websocket"

// dialOptions are the WebSocket handshake's options: the browser makes the
// handshake, so ClientConfig.HTTPClient does not apply.
func dialOptions(ClientConfig) *websocket.DialOptions { return nil }
