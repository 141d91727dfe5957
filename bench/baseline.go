//go:build !js

package main

import (
	"context"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// loopbackSettings keeps pion on the loopback interface with the tuning the
// anchors measured (no candidate waits, short DTLS retransmission), so the
// bare-pion baseline is as fast as pion gets, not a strawman.
func loopbackSettings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetHostAcceptanceMinWait(0)
	se.SetSrflxAcceptanceMinWait(0)
	se.SetPrflxAcceptanceMinWait(0)
	se.SetRelayAcceptanceMinWait(0)
	se.SetDTLSRetransmissionInterval(50 * time.Millisecond)
	return se
}

// connectPair does offer/answer in-process, trickling candidates directly.
func connectPair(ctx context.Context, a, b *webrtc.PeerConnection) error {
	a.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			b.AddICECandidate(c.ToJSON())
		}
	})
	b.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			a.AddICECandidate(c.ToJSON())
		}
	})
	offer, err := a.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := a.SetLocalDescription(offer); err != nil {
		return err
	}
	if err := b.SetRemoteDescription(offer); err != nil {
		return err
	}
	answer, err := b.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := b.SetLocalDescription(answer); err != nil {
		return err
	}
	return a.SetRemoteDescription(answer)
}
