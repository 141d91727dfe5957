//go:build !js

package netcode

import (
	"net"
	"testing"

	"github.com/lynnet/lyn/internal/pionlog"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// startTURN runs a TURN server on loopback that relays from 127.0.0.1 and
// accepts user/pass. It returns the server's ICEServer entry.
func startTURN(t testing.TB) webrtc.ICEServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const realm = "lyn.test"
	key := turn.GenerateAuthKey("user", realm, "pass")
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         realm,
		LoggerFactory: pionlog.Factory{},
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == "user"
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
				RelayAddress: net.IPv4(127, 0, 0, 1),
				Address:      "127.0.0.1",
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return webrtc.ICEServer{
		URLs:       []string{"turn:" + pc.LocalAddr().String() + "?transport=udp"},
		Username:   "user",
		Credential: "pass",
	}
}

// TestRelayOnlyThroughTURN forces both peers through a TURN server on
// loopback (ICETransportPolicyRelay) and checks the selected pair is
// relay/relay and both channels carry data.
func TestRelayOnlyThroughTURN(t *testing.T) {
	cfg := loopback
	cfg.ICEServers = []webrtc.ICEServer{
		{URLs: []string{"stun:127.0.0.1:9"}}, // nothing listens: ignored under the relay policy
		startTURN(t),
	}
	cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	meshes := connectAll(t, 2, cfg, nil)
	defer closeAll(t, meshes)
	for _, m := range meshes {
		s := m.Stats()[0]
		if s.LocalCandidateType != webrtc.ICECandidateTypeRelay || s.RemoteCandidateType != webrtc.ICECandidateTypeRelay {
			t.Errorf("peer %d: pair %s/%s, want relay/relay", m.Self(), s.LocalCandidateType, s.RemoteCandidateType)
		}
		t.Logf("peer %d: %s %s -> %s %s, channels open after %v", m.Self(), s.LocalCandidateType, s.LocalAddress,
			s.RemoteCandidateType, s.RemoteAddress, s.Timeline.ChannelsOpen)
	}
	if err := meshes[0].Send(2, ChannelControl, []byte("via turn")); err != nil {
		t.Fatal(err)
	}
	drain(t, meshes[1], func(r []received) bool { return len(r) == 1 && r[0].data == "via turn" })
}
