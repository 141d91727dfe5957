//go:build !js

package netcode

import "github.com/pion/webrtc/v4"

// onDialed runs f once the offerer's in-band channel has been dialed: it
// may send from then on, without waiting for the peer's DCEP ACK.
func onDialed(dc *webrtc.DataChannel, f func()) { dc.OnDial(f) }
