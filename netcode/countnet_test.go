//go:build !js

package netcode

import (
	"testing"

	"github.com/lynnet/lyn/internal/countnet"
)

// TestConfigNetCountsDatagrams checks that Config.Net carries the traffic:
// every datagram of the connect and of the exchange goes through it.
func TestConfigNetCountsDatagrams(t *testing.T) {
	cn, err := countnet.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := loopback
	cfg.Net = cn
	meshes := connectAll(t, 2, cfg, nil)
	defer closeAll(t, meshes)
	connectPackets := cn.Sent.Snapshot().Packets
	if connectPackets < 6 { // ICE checks, DTLS flights at least
		t.Fatalf("only %d datagrams counted during connect", connectPackets)
	}
	before := cn.Sent.Snapshot().Bytes
	const n = 50
	for range n { // one at a time: back-to-back sends would share SCTP packets
		if err := meshes[0].Link(2).SendInput(make([]byte, 32)); err != nil {
			t.Fatal(err)
		}
		drain(t, meshes[1], func(r []received) bool { return len(r) == 1 })
	}
	sent := cn.Sent.Snapshot().Bytes - before
	t.Logf("connect: %d datagrams; %d input packets of 32 bytes: %d UDP payload bytes sent by both peers (%.1f per packet, SACKs included)",
		connectPackets, n, sent, float64(sent)/n)
	if sent < n*(32+37+12+20) {
		t.Fatalf("%d bytes counted for %d packets: traffic bypassed Config.Net", sent, n)
	}
}
