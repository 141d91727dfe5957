//go:build js

package netcode

import "github.com/pion/webrtc/v4"

// settingEngine: in a browser pion wraps the browser's RTCPeerConnection,
// which has none of the native tuning, network or logging hooks; Config's
// ICE servers and transport policy still apply.
func (c Config) settingEngine() webrtc.SettingEngine {
	return webrtc.SettingEngine{}
}
