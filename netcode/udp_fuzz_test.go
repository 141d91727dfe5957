//go:build !js

package netcode

import (
	"net/netip"
	"testing"
)

// FuzzUDPDatagram feeds arbitrary datagrams from a known peer to the UDP
// transport's parser: no panic, no unbounded buffering, and whatever it
// queues is a whole packet of at most the documented sizes.
func FuzzUDPDatagram(f *testing.F) {
	f.Add([]byte{0x92, 1, 2})
	f.Add([]byte{udpFragment, 0, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'})
	f.Add([]byte{udpFragment, 0, 0, 0, 0, 0, 1, 0, 2, 'x'})
	f.Add([]byte{udpAck, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{udpFragment, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	u, err := ListenUDP(UDPConfig{ListenAddr: "127.0.0.1:0", QueueLen: 8})
	if err != nil {
		f.Fatal(err)
	}
	defer u.Close()
	peer := netip.MustParseAddrPort("127.0.0.1:9") // discard port: acks go nowhere
	if err := u.AddPeer(7, peer); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		u.handle(peer, d)
		for {
			_, ch, b, ok := u.Receive()
			if !ok {
				break
			}
			if (ch == ChannelInput && len(b) > 1200) || len(b) > maxUDPFragments*udpFragmentData {
				t.Fatalf("queued a %d-byte packet on %v", len(b), ch)
			}
		}
		u.mu.Lock()
		p := u.peers[7]
		if len(p.parts) > maxUDPFragments || p.gotBytes > maxUDPFragments*udpFragmentData {
			t.Fatalf("reassembly holds %d parts, %d bytes", len(p.parts), p.gotBytes)
		}
		u.mu.Unlock()
	})
}
