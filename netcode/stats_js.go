//go:build js

package netcode

import (
	"net"
	"strconv"

	"github.com/pion/webrtc/v4"
)

// transportStats fills in the selected candidate pair; the browser's
// round trip times are not exposed by pion's wasm wrapper.
func (l *Link) transportStats(s *PeerStats) {
	if sctp := l.pc.SCTP(); sctp != nil {
		if dtls := sctp.Transport(); dtls != nil {
			if ice := dtls.ICETransport(); ice != nil {
				if pair, err := ice.GetSelectedCandidatePair(); err == nil && pair != nil {
					s.LocalCandidateType, s.RemoteCandidateType = pair.Local.Typ, pair.Remote.Typ
					s.LocalAddress = net.JoinHostPort(pair.Local.Address, strconv.Itoa(int(pair.Local.Port)))
					s.RemoteAddress = net.JoinHostPort(pair.Remote.Address, strconv.Itoa(int(pair.Remote.Port)))
				}
			}
		}
	}
}

func closePeerConnection(pc *webrtc.PeerConnection) error { return pc.Close() }
