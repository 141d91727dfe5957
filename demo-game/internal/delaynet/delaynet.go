//go:build !js

package delaynet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// DefaultQueueLen is the default of Config.QueueLen.
const DefaultQueueLen = 1024

// Config says how much slower the network gets. Its zero value adds
// nothing (a pass-through over the operating system's network).
type Config struct {
	// RTT is the round trip the wrapper adds between this side and any
	// other: every datagram waits RTT/2 when it is sent and RTT/2 when it
	// arrives.
	RTT time.Duration
	// Jitter adds a random extra delay, uniform in [0, Jitter), to each
	// datagram in each direction.
	Jitter time.Duration
	// Reorder lets a datagram with less jitter overtake an earlier one.
	// False (the default): a datagram waits for the ones before it, as on
	// one network path.
	Reorder bool
	// QueueLen bounds the datagrams waiting in each direction of each
	// socket; more are dropped and counted (default DefaultQueueLen).
	QueueLen int
	// Seed seeds the jitter (default 1), so a run can be repeated.
	Seed uint64
	// Net is the network under the delay (default: the operating system's,
	// stdnet).
	Net transport.Net
}

// Net is a transport.Net whose UDP sockets delay every datagram. Its other
// methods (TCP, interfaces, resolving) are the wrapped Net's.
type Net struct {
	transport.Net
	cfg Config

	rngMu sync.Mutex
	rng   *rand.Rand

	delayed, dropped atomic.Uint64
}

// Stats counts what a Net did, over all its sockets.
type Stats struct {
	// Delayed counts datagrams held and passed on (both directions).
	Delayed uint64
	// Dropped counts datagrams dropped because a queue was full.
	Dropped uint64
}

// New returns a Net that delays datagrams as cfg says.
func New(cfg Config) (*Net, error) {
	if cfg.RTT < 0 || cfg.Jitter < 0 || cfg.QueueLen < 0 {
		return nil, fmt.Errorf("%w: negative RTT, jitter or queue length", ErrInvalidConfig)
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Net == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, err
		}
		cfg.Net = n
	}
	return &Net{Net: cfg.Net, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}, nil
}

// Stats returns the counters.
func (n *Net) Stats() Stats {
	return Stats{Delayed: n.delayed.Load(), Dropped: n.dropped.Load()}
}

// delay returns how long the next datagram in one direction waits.
func (n *Net) delay() time.Duration {
	d := n.cfg.RTT / 2
	if n.cfg.Jitter > 0 {
		n.rngMu.Lock()
		d += time.Duration(n.rng.Int64N(int64(n.cfg.Jitter)))
		n.rngMu.Unlock()
	}
	return d
}

// ListenUDP opens a delayed UDP socket.
func (n *Net) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return n.wrapUDP(c), nil
}

// DialUDP opens a delayed, connected UDP socket.
func (n *Net) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.DialUDP(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	return n.wrapUDP(c), nil
}

// ListenPacket opens a delayed socket for UDP networks and passes the
// others through.
func (n *Net) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil || !strings.HasPrefix(network, "udp") {
		return c, err
	}
	return &packetConn{PacketConn: c, d: n.newDelayed(c, c.WriteTo)}, nil
}

func (n *Net) wrapUDP(c transport.UDPConn) *udpConn {
	write := c.WriteTo
	connected := false
	switch ra := c.RemoteAddr().(type) {
	case nil:
	case *net.UDPAddr:
		connected = ra != nil
	default:
		connected = true
	}
	if connected { // WriteTo is refused on a connected socket
		write = func(b []byte, _ net.Addr) (int, error) { return c.Write(b) }
	}
	return &udpConn{UDPConn: c, d: n.newDelayed(c, write)}
}

// maxReadFailures is how many errors in a row end a socket's reader.
const maxReadFailures = 1000

// datagram is one held datagram.
type datagram struct {
	b    []byte
	addr net.Addr
	due  time.Time
}

// queue holds the datagrams of one direction of one socket until due.
type queue struct {
	mu      sync.Mutex
	items   []datagram // sorted by due
	lastDue time.Time
	wake    chan struct{} // capacity 1
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

// push adds a datagram; it returns false when the queue is full.
func (q *queue) push(n *Net, b []byte, addr net.Addr) bool {
	due := time.Now().Add(n.delay())
	q.mu.Lock()
	if len(q.items) >= n.cfg.QueueLen {
		q.mu.Unlock()
		n.dropped.Add(1)
		return false
	}
	if !n.cfg.Reorder && due.Before(q.lastDue) {
		due = q.lastDue
	}
	q.lastDue = due
	d := datagram{b: b, addr: addr, due: due}
	i, _ := slices.BinarySearchFunc(q.items, d, func(a, b datagram) int {
		if a.due.After(b.due) { // equal dues keep their arrival order
			return 1
		}
		return -1
	})
	q.items = slices.Insert(q.items, i, d)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// waitEmpty returns once the queue is empty, done is closed or limit has
// passed.
func (q *queue) waitEmpty(done <-chan struct{}, limit time.Duration) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		q.mu.Lock()
		empty := len(q.items) == 0
		q.mu.Unlock()
		if empty {
			return
		}
		select {
		case <-done:
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// release calls out with every datagram when it is due, until done closes.
func (q *queue) release(done <-chan struct{}, out func(datagram)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		q.mu.Lock()
		var wait time.Duration = -1
		var ready []datagram
		now := time.Now()
		for len(q.items) > 0 && !q.items[0].due.After(now) {
			ready = append(ready, q.items[0])
			q.items = q.items[1:]
		}
		if len(q.items) > 0 {
			wait = q.items[0].due.Sub(now)
		}
		q.mu.Unlock()
		for _, d := range ready {
			out(d)
		}
		if wait >= 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-q.wake:
			case <-done:
				return
			}
		} else {
			select {
			case <-q.wake:
			case <-done:
				return
			}
		}
	}
}

// delayed is the machinery of one socket: a reader of the inner socket,
// and a queue with its releaser in each direction.
type delayed struct {
	n          *Net
	inner      net.PacketConn
	write      func([]byte, net.Addr) (int, error)
	out, in    *queue
	arrived    chan datagram // released incoming datagrams, for ReadFrom
	done       chan struct{}
	closeOnce  sync.Once
	closeErr   error
	wg         sync.WaitGroup
	deadline   atomic.Pointer[time.Time]
	deadlineCh chan struct{} // capacity 1: a read deadline was set
}

func (n *Net) newDelayed(inner net.PacketConn, write func([]byte, net.Addr) (int, error)) *delayed {
	d := &delayed{
		n: n, inner: inner, write: write,
		out: newQueue(), in: newQueue(),
		arrived:    make(chan datagram, n.cfg.QueueLen),
		done:       make(chan struct{}),
		deadlineCh: make(chan struct{}, 1),
	}
	d.wg.Add(3)
	go func() {
		defer d.wg.Done()
		d.out.release(d.done, func(dg datagram) {
			n.delayed.Add(1)
			_, _ = d.write(dg.b, dg.addr) // a failed send is a lost datagram
		})
	}()
	go func() {
		defer d.wg.Done()
		d.in.release(d.done, func(dg datagram) {
			select {
			case d.arrived <- dg:
				n.delayed.Add(1)
			default:
				n.dropped.Add(1)
			}
		})
	}()
	go func() {
		defer d.wg.Done()
		d.readLoop()
	}()
	return d
}

// readLoop reads the inner socket until it is closed.
func (d *delayed) readLoop() {
	buf := make([]byte, 64<<10)
	for failures := 0; failures < maxReadFailures; {
		k, addr, err := d.inner.ReadFrom(buf)
		if err != nil {
			select {
			case <-d.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (an ICMP port unreachable on a connected
			// socket): keep reading, but not forever.
			failures++
			continue
		}
		failures = 0
		d.in.push(d.n, append([]byte(nil), buf[:k]...), addr)
	}
}

func (d *delayed) readFrom(p []byte) (int, net.Addr, error) {
	for {
		var timer *time.Timer
		var timeout <-chan time.Time
		if dl := d.deadline.Load(); dl != nil && !dl.IsZero() {
			wait := time.Until(*dl)
			if wait <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case dg := <-d.arrived:
			stopTimer(timer)
			return copy(p, dg.b), dg.addr, nil
		case <-d.done:
			stopTimer(timer)
			return 0, nil, net.ErrClosed
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		case <-d.deadlineCh: // the deadline changed: look again
			stopTimer(timer)
		}
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

func (d *delayed) writeTo(p []byte, addr net.Addr) (int, error) {
	select {
	case <-d.done:
		return 0, net.ErrClosed
	default:
	}
	d.out.push(d.n, append([]byte(nil), p...), addr) // a full queue drops, as a network does
	return len(p), nil
}

func (d *delayed) setReadDeadline(t time.Time) {
	d.deadline.Store(&t)
	select {
	case d.deadlineCh <- struct{}{}:
	default:
	}
}

func (d *delayed) close() error {
	d.closeOnce.Do(func() {
		// Datagrams sent before Close are already on the wire: a real
		// network still delivers them (a peer's goodbye among them), so the
		// socket closes once the last is out, at most one delay later.
		d.out.waitEmpty(d.done, d.n.cfg.RTT/2+d.n.cfg.Jitter)
		close(d.done)
		d.closeErr = d.inner.Close()
		d.wg.Wait()
	})
	return d.closeErr
}

// udpConn is a delayed transport.UDPConn. It deliberately does not offer
// pion's AddrPort fast path, so every datagram goes through the delay.
type udpConn struct {
	transport.UDPConn
	d *delayed
}

func (c *udpConn) Close() error { return c.d.close() }

func (c *udpConn) ReadFrom(p []byte) (int, net.Addr, error) { return c.d.readFrom(p) }

func (c *udpConn) Read(p []byte) (int, error) {
	n, _, err := c.d.readFrom(p)
	return n, err
}

func (c *udpConn) ReadFromUDP(p []byte) (int, *net.UDPAddr, error) {
	n, a, err := c.d.readFrom(p)
	ua, _ := a.(*net.UDPAddr)
	return n, ua, err
}

func (c *udpConn) ReadMsgUDP(p, _ []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	n, addr, err = c.ReadFromUDP(p)
	return n, 0, 0, addr, err
}

func (c *udpConn) WriteTo(p []byte, addr net.Addr) (int, error) { return c.d.writeTo(p, addr) }

func (c *udpConn) Write(p []byte) (int, error) { return c.d.writeTo(p, nil) }

func (c *udpConn) WriteToUDP(p []byte, addr *net.UDPAddr) (int, error) {
	return c.d.writeTo(p, addr)
}

func (c *udpConn) WriteMsgUDP(p, _ []byte, addr *net.UDPAddr) (int, int, error) {
	var a net.Addr
	if addr != nil {
		a = addr
	}
	n, err := c.d.writeTo(p, a)
	return n, 0, err
}

func (c *udpConn) SetReadDeadline(t time.Time) error {
	c.d.setReadDeadline(t)
	return nil
}

func (c *udpConn) SetDeadline(t time.Time) error {
	c.d.setReadDeadline(t)
	return nil
}

// packetConn is a delayed net.PacketConn (from ListenPacket).
type packetConn struct {
	net.PacketConn
	d *delayed
}

func (c *packetConn) Close() error                                 { return c.d.close() }
func (c *packetConn) ReadFrom(p []byte) (int, net.Addr, error)     { return c.d.readFrom(p) }
func (c *packetConn) WriteTo(p []byte, addr net.Addr) (int, error) { return c.d.writeTo(p, addr) }
func (c *packetConn) SetReadDeadline(t time.Time) error {
	c.d.setReadDeadline(t)
	return nil
}
func (c *packetConn) SetDeadline(t time.Time) error {
	c.d.setReadDeadline(t)
	return nil
}
