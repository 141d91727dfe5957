//go:build !js

package netcode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/lynnet/lyn/netcode/internal/wire"
)

// UDP carries lyn's packets over one plain UDP socket: for LANs, dedicated
// set-ups, and as the baseline WebRTC is measured against. It implements
// Packets. Input-channel packets go out as they are (one wire packet per
// datagram, no extra header); control-channel messages are split into
// fragments, acknowledged and retransmitted, and delivered in order.
//
// Peers are known by address (AddPeer); datagrams from other addresses are
// dropped and counted. There is no encryption or authentication: use WebRTC
// (Mesh) across the internet.
type UDP struct {
	cfg   UDPConfig
	conn  *net.UDPConn
	log   *slog.Logger
	input *packetQueue
	ctl   *packetQueue

	mu     sync.Mutex
	byAddr map[netip.AddrPort]PeerID
	peers  map[PeerID]*udpPeer
	closed bool
	stats  UDPStats

	arrived  chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup
	sendBuf  []byte
	dropSend func(b []byte) bool // tests: simulate loss of outgoing datagrams
}

// UDPConfig configures ListenUDP. Its zero value listens on every interface
// on a port the system picks.
type UDPConfig struct {
	// ListenAddr is the local address, e.g. "127.0.0.1:7000" or "[::]:7000".
	// Empty: ":0".
	ListenAddr string
	// QueueLen bounds each channel's queue of received packets (default
	// 1024); when full, packets are dropped and counted.
	QueueLen int
	// Retransmit is how long an unacknowledged control fragment waits before
	// it is sent again (default 50 ms).
	Retransmit time.Duration
	// MaxControlQueue bounds the control messages waiting to be sent to one
	// peer (default 64); Send returns ErrSendBufferFull beyond it.
	MaxControlQueue int
	// Logger receives rare events (default: discard).
	Logger *slog.Logger
}

// UDPStats counts what a UDP transport did.
type UDPStats struct {
	DatagramsSent, DatagramsReceived uint64
	BytesSent, BytesReceived         uint64
	// UnknownSource counts datagrams from addresses that are no peer's;
	// Malformed those too short or of an unknown kind; Dropped those that
	// found a full receive queue.
	UnknownSource, Malformed, Dropped uint64
	Retransmits                       uint64
}

// Datagram kinds. An input packet is a msgpack array (first byte 0x90–0x9f
// or 0xdc), so it needs no header of its own.
const (
	udpFragment byte = 0x01 // seq u32, index u16, count u16, bytes
	udpAck      byte = 0x02 // seq u32, index u16
)

const (
	udpFragmentHeader = 9
	udpFragmentData   = wire.MaxPacketSize - udpFragmentHeader
	udpWindow         = 32 // control fragments in flight per peer
	maxUDPFragments   = (wire.MaxControlSize + udpFragmentData - 1) / udpFragmentData
)

// udpPeer is the reliable control channel's state for one peer.
type udpPeer struct {
	id   PeerID
	addr netip.AddrPort
	// sending: messages queued, the first in flight
	queue   [][]byte
	sendSeq uint32
	acked   []bool
	sentAt  []time.Time
	// receiving: the message being reassembled
	recvSeq  uint32 // next message expected
	parts    [][]byte
	got      int
	gotBytes int
}

// ListenUDP opens the socket and starts its reader.
func ListenUDP(cfg UDPConfig) (*UDP, error) {
	if cfg.QueueLen < 0 || cfg.Retransmit < 0 || cfg.MaxControlQueue < 0 {
		return nil, fmt.Errorf("%w: negative UDP setting", ErrInvalidConfig)
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = ":0"
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.Retransmit == 0 {
		cfg.Retransmit = 50 * time.Millisecond
	}
	if cfg.MaxControlQueue == 0 {
		cfg.MaxControlQueue = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	addr, err := net.ResolveUDPAddr("udp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen address %q: %w", ErrInvalidConfig, cfg.ListenAddr, err)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("netcode: listen udp %s: %w", cfg.ListenAddr, err)
	}
	u := &UDP{
		cfg: cfg, conn: conn, log: cfg.Logger,
		input: newPacketQueue(cfg.QueueLen, inputSlotBytes), ctl: newPacketQueue(cfg.QueueLen, controlSlotBytes),
		byAddr: map[netip.AddrPort]PeerID{}, peers: map[PeerID]*udpPeer{},
		stop: make(chan struct{}), sendBuf: make([]byte, wire.MaxPacketSize),
		arrived: make(chan struct{}, 1),
	}
	u.wg.Add(2)
	go u.readLoop()
	go u.retransmitLoop()
	return u, nil
}

// LocalAddr returns the address the socket is bound to.
func (u *UDP) LocalAddr() netip.AddrPort {
	return u.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// AddPeer tells the transport where peer id is.
func (u *UDP) AddPeer(id PeerID, addr netip.AddrPort) error {
	if !addr.IsValid() {
		return fmt.Errorf("%w: invalid address for peer %d", ErrInvalidConfig, id)
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, dup := u.peers[id]; dup {
		return fmt.Errorf("%w: peer %d added twice", ErrInvalidConfig, id)
	}
	u.byAddr[addr] = id
	u.peers[id] = &udpPeer{id: id, addr: addr}
	return nil
}

// Send sends b to peer to on channel ch without blocking.
func (u *UDP) Send(to PeerID, ch Channel, b []byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return ErrClosed
	}
	p, ok := u.peers[to]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	switch ch {
	case ChannelInput:
		if len(b) > wire.MaxPacketSize {
			return fmt.Errorf("netcode: input packet of %d bytes exceeds %d", len(b), wire.MaxPacketSize)
		}
		return u.writeLocked(p.addr, b)
	case ChannelControl:
		if len(b) > wire.MaxControlSize {
			return fmt.Errorf("netcode: control message of %d bytes exceeds %d", len(b), wire.MaxControlSize)
		}
		if len(p.queue) >= u.cfg.MaxControlQueue {
			return ErrSendBufferFull
		}
		p.queue = append(p.queue, append([]byte(nil), b...))
		if len(p.queue) == 1 {
			u.startMessageLocked(p)
		}
		return nil
	}
	return fmt.Errorf("%w: channel %d", ErrInvalidConfig, ch)
}

func (u *UDP) writeLocked(to netip.AddrPort, b []byte) error {
	if u.dropSend != nil && u.dropSend(b) {
		return nil
	}
	n, err := u.conn.WriteToUDPAddrPort(b, to)
	if err != nil {
		return fmt.Errorf("netcode: udp send: %w", err)
	}
	u.stats.DatagramsSent++
	u.stats.BytesSent += uint64(n)
	return nil
}

// startMessageLocked puts the first queued control message in flight.
func (u *UDP) startMessageLocked(p *udpPeer) {
	count := max(1, (len(p.queue[0])+udpFragmentData-1)/udpFragmentData)
	p.acked = make([]bool, count)
	p.sentAt = make([]time.Time, count)
	u.pumpLocked(p, time.Now())
}

// pumpLocked sends the fragments of the message in flight that are due:
// never sent (within the window) or unacknowledged for Retransmit.
func (u *UDP) pumpLocked(p *udpPeer, now time.Time) {
	if len(p.queue) == 0 {
		return
	}
	msg := p.queue[0]
	inFlight := 0
	for i := range p.acked {
		if p.acked[i] {
			continue
		}
		fresh := p.sentAt[i].IsZero()
		if !fresh && now.Sub(p.sentAt[i]) < u.cfg.Retransmit {
			inFlight++
			continue
		}
		if inFlight >= udpWindow {
			break
		}
		part := msg[i*udpFragmentData : min(len(msg), (i+1)*udpFragmentData)]
		d := u.sendBuf[:udpFragmentHeader]
		d[0] = udpFragment
		binary.BigEndian.PutUint32(d[1:], p.sendSeq)
		binary.BigEndian.PutUint16(d[5:], uint16(i))
		binary.BigEndian.PutUint16(d[7:], uint16(len(p.acked)))
		d = append(d, part...)
		if err := u.writeLocked(p.addr, d); err != nil {
			u.log.Debug("netcode: udp control send", "peer", p.id, "err", err)
		}
		if !fresh {
			u.stats.Retransmits++
		}
		p.sentAt[i] = now
		inFlight++
	}
}

func (u *UDP) retransmitLoop() {
	defer u.wg.Done()
	t := time.NewTicker(u.cfg.Retransmit / 2)
	defer t.Stop()
	for {
		select {
		case <-u.stop:
			return
		case now := <-t.C:
			u.mu.Lock()
			for _, p := range u.peers {
				u.pumpLocked(p, now)
			}
			u.mu.Unlock()
		}
	}
}

func (u *UDP) readLoop() {
	defer u.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := u.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP port unreachable surfaced as a read error
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		u.handle(from, buf[:n])
		select { // coalesced, never blocks the reader
		case u.arrived <- struct{}{}:
		default:
		}
	}
}

// Arrived returns a channel that receives a value after packets have been
// queued for Receive, as Mesh.Arrived does: values coalesce, so after each
// one call Receive until it returns ok == false. A game that polls once per
// frame does not need it.
func (u *UDP) Arrived() <-chan struct{} { return u.arrived }

func (u *UDP) handle(from netip.AddrPort, d []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stats.DatagramsReceived++
	u.stats.BytesReceived += uint64(len(d))
	id, ok := u.byAddr[from]
	if !ok {
		u.stats.UnknownSource++
		return
	}
	p := u.peers[id]
	if len(d) == 0 {
		u.stats.Malformed++
		return
	}
	switch d[0] {
	case udpFragment:
		u.fragmentLocked(p, d)
	case udpAck:
		if len(d) != 7 {
			u.stats.Malformed++
			return
		}
		seq, i := binary.BigEndian.Uint32(d[1:]), int(binary.BigEndian.Uint16(d[5:]))
		if len(p.queue) == 0 || seq != p.sendSeq || i >= len(p.acked) {
			return // a late duplicate
		}
		p.acked[i] = true
		for _, a := range p.acked {
			if !a {
				u.pumpLocked(p, time.Now())
				return
			}
		}
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.sendSeq++
		if len(p.queue) > 0 {
			u.startMessageLocked(p)
		}
	default:
		if len(d) > wire.MaxPacketSize {
			u.stats.Malformed++
			return
		}
		if !u.input.push(id, d) {
			u.stats.Dropped++
		}
	}
}

// fragmentLocked reassembles control messages, in order, acknowledging each
// fragment (again, if it is a duplicate whose ack was lost).
func (u *UDP) fragmentLocked(p *udpPeer, d []byte) {
	if len(d) < udpFragmentHeader {
		u.stats.Malformed++
		return
	}
	seq := binary.BigEndian.Uint32(d[1:])
	i, count := int(binary.BigEndian.Uint16(d[5:])), int(binary.BigEndian.Uint16(d[7:]))
	data := d[udpFragmentHeader:]
	if count == 0 || count > maxUDPFragments || i >= count || len(data) > udpFragmentData ||
		(i < count-1 && len(data) != udpFragmentData) {
		u.stats.Malformed++
		return
	}
	switch {
	case seq == p.recvSeq-1 || int32(seq-p.recvSeq) < 0:
		u.ackLocked(p, seq, i) // already delivered: the ack was lost
		return
	case seq != p.recvSeq:
		return // the sender never sends ahead of our acks
	}
	if p.parts == nil {
		p.parts = make([][]byte, count)
	}
	if len(p.parts) != count {
		u.stats.Malformed++
		return
	}
	if p.parts[i] == nil {
		p.parts[i] = append([]byte(nil), data...)
		p.got++
		p.gotBytes += len(data)
	}
	u.ackLocked(p, seq, i)
	if p.got < count {
		return
	}
	msg := make([]byte, 0, p.gotBytes)
	for _, part := range p.parts {
		msg = append(msg, part...)
	}
	p.parts, p.got, p.gotBytes = nil, 0, 0
	p.recvSeq++
	if !u.ctl.push(p.id, msg) {
		// The game is not draining Receive; reliability is lost for this
		// message, as with WebRTC's control queue.
		u.stats.Dropped++
	}
}

func (u *UDP) ackLocked(p *udpPeer, seq uint32, i int) {
	var a [7]byte
	a[0] = udpAck
	binary.BigEndian.PutUint32(a[1:], seq)
	binary.BigEndian.PutUint16(a[5:], uint16(i))
	u.writeLocked(p.addr, a[:])
}

// Receive returns the next packet that arrived, control messages first.
// The bytes stay valid until the next call.
func (u *UDP) Receive() (PeerID, Channel, []byte, bool) {
	u.input.release()
	if from, b, ok := u.ctl.pop(); ok {
		return from, ChannelControl, b, true
	}
	if from, b, ok := u.input.pop(); ok {
		return from, ChannelInput, b, true
	}
	return 0, 0, nil, false
}

// Stats returns the transport's counters.
func (u *UDP) Stats() UDPStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stats
}

// Close closes the socket and waits for the transport's goroutines.
func (u *UDP) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	u.mu.Unlock()
	close(u.stop)
	err := u.conn.Close()
	u.wg.Wait()
	return err
}
