package rollbacktest

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lynnet/lyn/rollback"
)

// Chaos describes how one directed link mistreats the messages sent on it.
// The zero value is a perfect link: no loss, no delay.
//
// Messages whose Kind.Reliable() is true are subject only to Delay and
// Jitter (and to a cut link): they are never lost, duplicated or reordered,
// and they arrive in the order they were sent on the link.
type Chaos struct {
	// Loss is the probability (0 to 1) that a message is lost.
	Loss float64
	// Burst adds bursts of loss (a Gilbert–Elliott channel). Burst loss and
	// Loss combine: a message is lost if either loses it.
	Burst BurstLoss
	// Delay is the one-way delay of every message. Negative counts as 0.
	Delay time.Duration
	// Jitter adds a delay drawn uniformly from [-Jitter, +Jitter] to each
	// message; the total delay is never negative.
	Jitter time.Duration
	// Duplicate is the probability that a message is delivered twice. The
	// copy gets its own delay (jitter and reordering drawn anew).
	Duplicate float64
	// Reorder is the probability that a message is held back by an extra
	// ReorderDelay, so that messages sent after it overtake it.
	Reorder float64
	// ReorderDelay is the extra delay of a reordered message (default 50 ms).
	ReorderDelay time.Duration
}

// DefaultReorderDelay is the extra delay of a reordered message when
// Chaos.ReorderDelay is zero.
const DefaultReorderDelay = 50 * time.Millisecond

// BurstLoss is the bad state of a Gilbert–Elliott loss model. A link is either
// good (messages go through, subject to Chaos.Loss) or bad (every message is
// lost). The zero value never enters the bad state.
type BurstLoss struct {
	// Start is the probability, for each message sent while the link is
	// good, that the link turns bad, losing that message.
	Start float64
	// MeanLength is the mean number of messages a burst loses (at least 1):
	// after each message lost in the bad state the link turns good again with
	// probability 1/MeanLength, so burst lengths are geometric.
	MeanLength float64
}

// NetworkConfig configures a Network. The zero value is a perfect network on
// the wall clock with seed 0.
type NetworkConfig struct {
	// Clock decides when a message is due (default rollback.SystemClock).
	// Tests use a FakeClock.
	Clock rollback.Clock
	// Seed seeds the generator that draws every loss, delay, duplicate and
	// reordering. The same seed, clock readings and sequence of calls give
	// the same deliveries.
	Seed uint64
	// Chaos applies to every link without an override (see SetLinkChaos).
	Chaos Chaos
}

// Stats counts messages. For Network.Stats(id), Sent, Lost, Severed,
// Duplicated and Reordered count messages that peer id sent, and Delivered
// the messages peer id received. For Network.LinkStats(from, to), every field
// counts messages on that directed link.
type Stats struct {
	Sent       uint64 // calls to Send
	Lost       uint64 // dropped by Chaos.Loss or a loss burst
	Severed    uint64 // dropped because the link or a peer was down
	Duplicated uint64 // extra copies made by Chaos.Duplicate
	Reordered  uint64 // copies held back by Chaos.Reorder
	Delivered  uint64 // messages returned by Receive
}

func (s *Stats) add(o Stats) {
	s.Sent += o.Sent
	s.Lost += o.Lost
	s.Severed += o.Severed
	s.Duplicated += o.Duplicated
	s.Reordered += o.Reordered
	s.Delivered += o.Delivered
}

// Network is an in-memory network between peers, for tests. Each peer's
// Endpoint is its rollback.Transport. Time comes from NetworkConfig.Clock: a
// message sent at t with delay d can be received once the clock reads t+d or
// later. Receive returns due messages in order of due time, and messages due
// at the same time in the order they were sent.
//
// Every random decision comes from one generator seeded by NetworkConfig.Seed,
// so a run that drives the network from one goroutine replays exactly from
// its seed. A Network is safe for concurrent use, but calls from several
// goroutines interleave unpredictably and so does the generator.
//
// Once warmed up, Send and Receive allocate nothing: message copies are
// recycled through a free list.
//
// A cut link (Cut, SetLinkDown, SetPeerDown) drops the messages sent on it
// while it is down, reliable ones included; messages already in flight when
// it is cut still arrive.
type Network[I comparable] struct {
	mu        sync.Mutex
	clock     rollback.Clock
	rng       *rand.Rand
	chaos     Chaos
	links     map[linkKey]*link
	endpoints map[rollback.PeerID]*Endpoint[I]
	peerDown  map[rollback.PeerID]bool
	free      []*rollback.Message[I]
	seq       uint64
	inFlight  int
}

type linkKey struct{ from, to rollback.PeerID }

type link struct {
	chaos       Chaos
	hasChaos    bool
	down        bool
	bad         bool      // Gilbert–Elliott state
	reliableDue time.Time // due time of the last reliable message sent
	stats       Stats
}

// NewNetwork returns an empty network. Endpoints are made on first use.
func NewNetwork[I comparable](cfg NetworkConfig) *Network[I] {
	clock := cfg.Clock
	if clock == nil {
		clock = rollback.SystemClock{}
	}
	return &Network[I]{
		clock:     clock,
		rng:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		chaos:     cfg.Chaos,
		links:     make(map[linkKey]*link),
		endpoints: make(map[rollback.PeerID]*Endpoint[I]),
		peerDown:  make(map[rollback.PeerID]bool),
	}
}

// Endpoint returns peer id's transport, making it on first use. Every call
// with the same id returns the same endpoint. Messages sent to a peer before
// its endpoint is asked for wait for it.
func (n *Network[I]) Endpoint(id rollback.PeerID) *Endpoint[I] {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.endpoint(id)
}

// AddPeer makes peer id's endpoint if it does not exist yet, and returns it.
// It is the same as Endpoint.
func (n *Network[I]) AddPeer(id rollback.PeerID) *Endpoint[I] { return n.Endpoint(id) }

func (n *Network[I]) endpoint(id rollback.PeerID) *Endpoint[I] {
	e := n.endpoints[id]
	if e == nil {
		e = &Endpoint[I]{net: n, id: id}
		n.endpoints[id] = e
	}
	return e
}

func (n *Network[I]) link(from, to rollback.PeerID) *link {
	k := linkKey{from, to}
	l := n.links[k]
	if l == nil {
		l = &link{}
		n.links[k] = l
	}
	return l
}

// SetChaos changes the chaos of every link that has no override.
func (n *Network[I]) SetChaos(c Chaos) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.chaos = c
}

// SetLinkChaos overrides the chaos of the directed link from → to. A loss
// burst in progress on the link continues.
func (n *Network[I]) SetLinkChaos(from, to rollback.PeerID, c Chaos) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.link(from, to)
	l.chaos, l.hasChaos = c, true
}

// ClearLinkChaos removes the override of the link from → to: it follows the
// network's chaos again.
func (n *Network[I]) ClearLinkChaos(from, to rollback.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.link(from, to)
	l.chaos, l.hasChaos = Chaos{}, false
}

// Cut severs the directed link from → to: messages sent on it are dropped
// until Restore.
func (n *Network[I]) Cut(from, to rollback.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(from, to).down = true
}

// Restore undoes Cut.
func (n *Network[I]) Restore(from, to rollback.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(from, to).down = false
}

// SetLinkDown cuts (down == true) or restores both directions between a and b.
func (n *Network[I]) SetLinkDown(a, b rollback.PeerID, down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(a, b).down = down
	n.link(b, a).down = down
}

// SetPeerDown cuts (down == true) or restores every link to and from peer id,
// as if it had crashed or lost its connection. Links cut one by one stay cut
// when the peer comes back up.
func (n *Network[I]) SetPeerDown(id rollback.PeerID, down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if down {
		n.peerDown[id] = true
	} else {
		delete(n.peerDown, id)
	}
}

// Stats returns the counts of peer id: what it sent (and what became of it)
// and how many messages it received.
func (n *Network[I]) Stats(id rollback.PeerID) Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	var s Stats
	for k, l := range n.links {
		if k.from == id {
			d := l.stats
			d.Delivered = 0
			s.add(d)
		}
		if k.to == id {
			s.Delivered += l.stats.Delivered
		}
	}
	return s
}

// LinkStats returns the counts of the directed link from → to.
func (n *Network[I]) LinkStats(from, to rollback.PeerID) Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.links[linkKey{from, to}]; l != nil {
		return l.stats
	}
	return Stats{}
}

// InFlight returns how many messages have been sent but not yet received.
func (n *Network[I]) InFlight() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.inFlight
}

// NextDelivery returns the earliest due time of a message in flight, or
// ok == false if none is. A test with a FakeClock can jump straight to it.
func (n *Network[I]) NextDelivery() (due time.Time, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.endpoints {
		if len(e.queue) > 0 && (!ok || e.queue[0].due.Before(due)) {
			due, ok = e.queue[0].due, true
		}
	}
	return due, ok
}

// Endpoint is one peer's side of a Network: its rollback.Transport.
type Endpoint[I comparable] struct {
	net   *Network[I]
	id    rollback.PeerID
	queue []pending[I] // min-heap by (due, seq)
	last  *rollback.Message[I]
}

var _ rollback.Transport[uint16] = (*Endpoint[uint16])(nil)

type pending[I comparable] struct {
	due  time.Time
	seq  uint64
	from rollback.PeerID
	m    *rollback.Message[I]
}

func (p *pending[I]) before(q *pending[I]) bool {
	if !p.due.Equal(q.due) {
		return p.due.Before(q.due)
	}
	return p.seq < q.seq
}

// ID returns the endpoint's peer.
func (e *Endpoint[I]) ID() rollback.PeerID { return e.id }

// Send queues a deep copy of m for peer to, subject to the link's chaos.
// It never blocks and keeps nothing of m.
func (e *Endpoint[I]) Send(to rollback.PeerID, m *rollback.Message[I]) {
	n := e.net
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.link(e.id, to)
	l.stats.Sent++
	if l.down || n.peerDown[e.id] || n.peerDown[to] {
		l.stats.Severed++
		return
	}
	c := n.chaos
	if l.hasChaos {
		c = l.chaos
	}
	now := n.clock.Now()
	dst := n.endpoint(to)

	if m.Kind.Reliable() {
		due := now.Add(n.delay(&c, false, nil))
		if due.Before(l.reliableDue) {
			due = l.reliableDue // in order on the link
		}
		l.reliableDue = due
		n.enqueue(dst, e.id, due, m)
		return
	}

	// Draw order is fixed (burst, loss, delay, duplicate) so that a seed
	// replays exactly.
	if l.bad {
		if n.rng.Float64()*max(c.Burst.MeanLength, 1) < 1 {
			l.bad = false
		}
		l.stats.Lost++
		return
	}
	if c.Burst.Start > 0 && n.rng.Float64() < c.Burst.Start {
		l.bad = true
		l.stats.Lost++
		return
	}
	if c.Loss > 0 && n.rng.Float64() < c.Loss {
		l.stats.Lost++
		return
	}
	n.enqueue(dst, e.id, now.Add(n.delay(&c, true, &l.stats)), m)
	if c.Duplicate > 0 && n.rng.Float64() < c.Duplicate {
		l.stats.Duplicated++
		n.enqueue(dst, e.id, now.Add(n.delay(&c, true, &l.stats)), m)
	}
}

// delay draws one message's delay. When unreliable, it may reorder the
// message and counts that in stats.
func (n *Network[I]) delay(c *Chaos, unreliable bool, stats *Stats) time.Duration {
	d := max(c.Delay, 0)
	if c.Jitter > 0 {
		d += time.Duration(n.rng.Int64N(2*int64(c.Jitter)+1)) - c.Jitter
		d = max(d, 0)
	}
	if unreliable && c.Reorder > 0 && n.rng.Float64() < c.Reorder {
		extra := c.ReorderDelay
		if extra <= 0 {
			extra = DefaultReorderDelay
		}
		d += extra
		stats.Reordered++
	}
	return d
}

func (n *Network[I]) enqueue(dst *Endpoint[I], from rollback.PeerID, due time.Time, m *rollback.Message[I]) {
	var cp *rollback.Message[I]
	if k := len(n.free); k > 0 {
		cp = n.free[k-1]
		n.free[k-1] = nil
		n.free = n.free[:k-1]
	} else {
		cp = new(rollback.Message[I])
	}
	cp.CopyFrom(m)
	n.seq++
	n.inFlight++
	dst.push(pending[I]{due: due, seq: n.seq, from: from, m: cp})
}

// Receive returns the next message that is due, or ok == false if none is.
// The message stays valid until the next call to Receive on this endpoint.
func (e *Endpoint[I]) Receive() (from rollback.PeerID, m *rollback.Message[I], ok bool) {
	n := e.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.last != nil {
		n.free = append(n.free, e.last)
		e.last = nil
	}
	if len(e.queue) == 0 || e.queue[0].due.After(n.clock.Now()) {
		return 0, nil, false
	}
	p := e.pop()
	n.inFlight--
	n.link(p.from, e.id).stats.Delivered++
	e.last = p.m
	return p.from, p.m, true
}

func (e *Endpoint[I]) push(p pending[I]) {
	q := append(e.queue, p)
	i := len(q) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q[i].before(&q[parent]) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
	e.queue = q
}

func (e *Endpoint[I]) pop() pending[I] {
	q := e.queue
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = pending[I]{}
	q = q[:last]
	i := 0
	for {
		l, r, least := 2*i+1, 2*i+2, i
		if l < len(q) && q[l].before(&q[least]) {
			least = l
		}
		if r < len(q) && q[r].before(&q[least]) {
			least = r
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	e.queue = q
	return top
}
