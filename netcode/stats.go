//go:build !js

package netcode

import (
	"net"
	"strconv"
	"time"

	"github.com/pion/webrtc/v4"
)

// transportStats fills in the selected candidate pair and round trip times.
func (l *Link) transportStats(s *PeerStats) {
	if sctp := l.pc.SCTP(); sctp != nil {
		s.SCTPRoundTrip = time.Duration(sctp.Stats().SmoothedRoundTripTime * float64(time.Second))
		if dtls := sctp.Transport(); dtls != nil {
			if ice := dtls.ICETransport(); ice != nil {
				if pair, err := ice.GetSelectedCandidatePair(); err == nil && pair != nil {
					s.LocalCandidateType, s.RemoteCandidateType = pair.Local.Typ, pair.Remote.Typ
					s.LocalAddress = net.JoinHostPort(pair.Local.Address, strconv.Itoa(int(pair.Local.Port)))
					s.RemoteAddress = net.JoinHostPort(pair.Remote.Address, strconv.Itoa(int(pair.Remote.Port)))
				}
				if ps, ok := ice.GetSelectedCandidatePairStats(); ok {
					s.ICERoundTrip = time.Duration(ps.CurrentRoundTripTime * float64(time.Second))
				}
			}
		}
	}
}

func closePeerConnection(pc *webrtc.PeerConnection) error { return pc.GracefulClose() }
