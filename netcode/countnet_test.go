//go:build !js

package netcode

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// countingNet is the operating system's network with every UDP socket
// wrapped to count datagrams and UDP payload bytes. It keeps ICE's
// allocation-free AddrPort path.
type countingNet struct {
	transport.Net
	sentPackets, sentBytes, recvPackets, recvBytes atomic.Uint64
}

func newCountingNet(t testing.TB) *countingNet {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return &countingNet{Net: n}
}

func (n *countingNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	cc := &countingConn{UDPConn: c, n: n}
	cc.fast, _ = c.(*net.UDPConn)
	return cc, nil
}

type countingConn struct {
	transport.UDPConn
	fast *net.UDPConn
	n    *countingNet
}

var _ ice.AddrPortReaderWriter = (*countingConn)(nil)

func (c *countingConn) countIn(n int, err error) {
	if err == nil {
		c.n.recvPackets.Add(1)
		c.n.recvBytes.Add(uint64(n))
	}
}

func (c *countingConn) countOut(n int, err error) {
	if err == nil {
		c.n.sentPackets.Add(1)
		c.n.sentBytes.Add(uint64(n))
	}
}

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.UDPConn.ReadFrom(b)
	c.countIn(n, err)
	return n, a, err
}

func (c *countingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.UDPConn.WriteTo(b, a)
	c.countOut(n, err)
	return n, err
}

func (c *countingConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	if c.fast == nil {
		n, a, err := c.ReadFrom(b)
		if err != nil {
			return n, netip.AddrPort{}, err
		}
		ua, _ := a.(*net.UDPAddr)
		return n, ua.AddrPort(), nil
	}
	n, a, err := c.fast.ReadFromUDPAddrPort(b)
	c.countIn(n, err)
	return n, a, err
}

func (c *countingConn) WriteToAddrPort(b []byte, a netip.AddrPort) (int, error) {
	if c.fast == nil {
		return c.WriteTo(b, net.UDPAddrFromAddrPort(a))
	}
	n, err := c.fast.WriteToUDPAddrPort(b, a)
	c.countOut(n, err)
	return n, err
}

// TestConfigNetCountsDatagrams checks that Config.Net carries the traffic:
// every datagram of the connect and of the exchange goes through it.
func TestConfigNetCountsDatagrams(t *testing.T) {
	cn := newCountingNet(t)
	cfg := loopback
	cfg.Net = cn
	meshes := connectAll(t, 2, cfg, nil)
	defer closeAll(t, meshes)
	connectPackets := cn.sentPackets.Load()
	if connectPackets < 6 { // ICE checks, DTLS flights at least
		t.Fatalf("only %d datagrams counted during connect", connectPackets)
	}
	before := cn.sentBytes.Load()
	const n = 50
	for range n { // one at a time: back-to-back sends would share SCTP packets
		if err := meshes[0].Link(2).SendInput(make([]byte, 32)); err != nil {
			t.Fatal(err)
		}
		drain(t, meshes[1], func(r []received) bool { return len(r) == 1 })
	}
	sent := cn.sentBytes.Load() - before
	t.Logf("connect: %d datagrams; %d input packets of 32 bytes: %d UDP payload bytes sent by both peers (%.1f per packet, SACKs included)",
		connectPackets, n, sent, float64(sent)/n)
	if sent < n*(32+37+12+20) {
		t.Fatalf("%d bytes counted for %d packets: traffic bypassed Config.Net", sent, n)
	}
}
