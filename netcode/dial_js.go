//go:build js

package netcode

import "github.com/pion/webrtc/v4"

// onDialed: a browser's channel is usable once open.
func onDialed(dc *webrtc.DataChannel, f func()) { dc.OnOpen(f) }
