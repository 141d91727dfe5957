//go:build !js

package main

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// ipUDPHeaders is what every IPv4 datagram carries besides its UDP payload:
// a 20-byte IPv4 header (no options) and an 8-byte UDP header.
const ipUDPHeaders = 28

// countingNet is the operating system's network with every UDP socket pion
// opens wrapped to count the datagrams it sends and receives, by size. It
// keeps ICE's allocation-free AddrPort path, so counting does not change
// what is measured. Install it with netcode.Config.Net or
// SettingEngine.SetNet; give each peer its own to count one direction.
type countingNet struct {
	transport.Net
	sent, recv counts
}

// counts are datagram counters: totals and a histogram by UDP payload size
// and by kind (first byte: STUN 0–3, DTLS 20–63, RFC 7983).
type counts struct {
	packets, bytes atomic.Uint64
	stun, dtls     atomic.Uint64 // datagrams
	bySize         [2048]atomic.Uint64
}

func (c *counts) add(b []byte, n int) {
	c.packets.Add(1)
	c.bytes.Add(uint64(n))
	c.bySize[min(n, len(c.bySize)-1)].Add(1)
	if n > 0 {
		switch {
		case b[0] < 4:
			c.stun.Add(1)
		case b[0] >= 20 && b[0] < 64:
			c.dtls.Add(1)
		}
	}
}

// snapshot is a copy of counts at one moment.
type snapshot struct {
	packets, bytes, stun, dtls uint64
	bySize                     [2048]uint64
}

func (c *counts) snapshot() snapshot {
	s := snapshot{packets: c.packets.Load(), bytes: c.bytes.Load(), stun: c.stun.Load(), dtls: c.dtls.Load()}
	for i := range c.bySize {
		s.bySize[i] = c.bySize[i].Load()
	}
	return s
}

func (s snapshot) minus(o snapshot) snapshot {
	d := snapshot{packets: s.packets - o.packets, bytes: s.bytes - o.bytes, stun: s.stun - o.stun, dtls: s.dtls - o.dtls}
	for i := range s.bySize {
		d.bySize[i] = s.bySize[i] - o.bySize[i]
	}
	return d
}

// wireBytes is what the datagrams occupy on an IPv4 wire.
func (s snapshot) wireBytes() uint64 { return s.bytes + ipUDPHeaders*s.packets }

func newCountingNet() (*countingNet, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &countingNet{Net: n}, nil
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

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.UDPConn.ReadFrom(b)
	if err == nil {
		c.n.recv.add(b, n)
	}
	return n, a, err
}

func (c *countingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.UDPConn.WriteTo(b, a)
	if err == nil {
		c.n.sent.add(b, n)
	}
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
	if err == nil {
		c.n.recv.add(b, n)
	}
	return n, a, err
}

func (c *countingConn) WriteToAddrPort(b []byte, a netip.AddrPort) (int, error) {
	if c.fast == nil {
		return c.WriteTo(b, net.UDPAddrFromAddrPort(a))
	}
	n, err := c.fast.WriteToUDPAddrPort(b, a)
	if err == nil {
		c.n.sent.add(b, n)
	}
	return n, err
}
