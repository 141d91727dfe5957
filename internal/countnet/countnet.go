//go:build !js

// Package countnet counts the datagrams pion sends and receives: a
// transport.Net (install it with netcode.Config.Net or
// SettingEngine.SetNet) whose UDP sockets count every datagram by size and
// kind. It keeps ICE's allocation-free AddrPort path, so counting does not
// change what is measured. Benchmarks and tests use it to count bytes on
// the wire honestly.
package countnet

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// IPUDPHeaders is what every IPv4 datagram carries besides its UDP payload:
// a 20-byte IPv4 header (no options) and an 8-byte UDP header.
const IPUDPHeaders = 28

// Net is the operating system's network with every UDP socket pion opens
// wrapped to count the datagrams it sends and receives. Give each peer its
// own to count one direction.
type Net struct {
	transport.Net
	Sent, Recv Counts
}

// Counts are datagram counters: totals and a histogram by UDP payload size
// and by kind (first byte: STUN 0–3, DTLS 20–63, RFC 7983).
type Counts struct {
	packets, bytes atomic.Uint64
	stun, dtls     atomic.Uint64 // datagrams
	bySize         [2048]atomic.Uint64
}

func (c *Counts) add(b []byte, n int) {
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

// Snapshot is a copy of Counts at one moment: datagrams, UDP payload
// bytes, STUN and DTLS datagrams, and datagrams by payload size.
type Snapshot struct {
	Packets, Bytes, STUN, DTLS uint64
	BySize                     [2048]uint64
}

// Snapshot copies the counters.
func (c *Counts) Snapshot() Snapshot {
	s := Snapshot{Packets: c.packets.Load(), Bytes: c.bytes.Load(), STUN: c.stun.Load(), DTLS: c.dtls.Load()}
	for i := range c.bySize {
		s.BySize[i] = c.bySize[i].Load()
	}
	return s
}

// Minus returns what was counted between o and s.
func (s Snapshot) Minus(o Snapshot) Snapshot {
	d := Snapshot{Packets: s.Packets - o.Packets, Bytes: s.Bytes - o.Bytes, STUN: s.STUN - o.STUN, DTLS: s.DTLS - o.DTLS}
	for i := range s.BySize {
		d.BySize[i] = s.BySize[i] - o.BySize[i]
	}
	return d
}

// WireBytes is what the datagrams occupy on an IPv4 wire.
func (s Snapshot) WireBytes() uint64 { return s.Bytes + IPUDPHeaders*s.Packets }

// New returns a counting Net over the operating system's network.
func New() (*Net, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &Net{Net: n}, nil
}

// ListenUDP opens a counted UDP socket.
func (n *Net) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
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
	n    *Net
}

var _ ice.AddrPortReaderWriter = (*countingConn)(nil)

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.UDPConn.ReadFrom(b)
	if err == nil {
		c.n.Recv.add(b, n)
	}
	return n, a, err
}

func (c *countingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.UDPConn.WriteTo(b, a)
	if err == nil {
		c.n.Sent.add(b, n)
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
		c.n.Recv.add(b, n)
	}
	return n, a, err
}

func (c *countingConn) WriteToAddrPort(b []byte, a netip.AddrPort) (int, error) {
	if c.fast == nil {
		return c.WriteTo(b, net.UDPAddrFromAddrPort(a))
	}
	n, err := c.fast.WriteToUDPAddrPort(b, a)
	if err == nil {
		c.n.Sent.add(b, n)
	}
	return n, err
}
