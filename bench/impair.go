//go:build !js

package main

import (
	"cmp"
	"container/heap"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/lynnet/lyn/internal/countnet"
	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// ImpairRow is one cell of the impairment sweep.
type ImpairRow struct {
	Players  int     `json:"players"`
	RTTms    int     `json:"rtt_ms"`
	LossPct  float64 `json:"loss_pct"`
	JitterMs float64 `json:"jitter_ms"` // ± uniform, on each one-way delay
	Frames   int     `json:"frames"`
	Ticks    int     `json:"ticks"`
	// Rollback depth in frames over every rollback of every peer.
	Depth             Dist    `json:"rollback_depth"`
	RollbacksPerFrame float64 `json:"rollbacks_per_frame"`
	// StalledPct is ticks on which a peer could not advance (prediction
	// limit or waiting to synchronise) as a percentage of all peer ticks.
	Stalls     uint64  `json:"stalls"`
	StalledPct float64 `json:"stalled_pct"`
	Desyncs    uint64  `json:"desyncs"`
	// InputsChecked is every confirmed input compared with what its player
	// gave; InputsExpected is frames × players. AllDelivered says they
	// match and every peer confirmed every frame with equal checksums.
	InputsChecked  int  `json:"inputs_checked"`
	InputsExpected int  `json:"inputs_expected"`
	AllDelivered   bool `json:"all_delivered"`
	// UpKiBps: lyn's bytes per peer per second (virtual time) plus 28 B of
	// IPv4 and UDP headers per packet, to all its peers.
	UpKiBps float64 `json:"up_kib_s"`
	Err     string  `json:"error,omitempty"`
}

// depthGame records the depth of every rollback: the frames between where
// the game was and the state the engine loads.
type depthGame struct {
	*rt.Game
	depths *[]float64
}

func (g depthGame) Load(b []byte) error {
	before := g.Frame()
	err := g.Game.Load(b)
	if err == nil {
		*g.depths = append(*g.depths, float64(before-g.Frame()))
	}
	return err
}

// measureImpair plays frames frames of the reference game between players
// peers through lyn's real wire encoding (netcode.Transport) over a
// simulated network on a fake clock: one-way delay rtt/2 ± jitter, loss on
// the unreliable input channel, the control channel delayed but reliable
// and in order. rollbacktest's runner drives the peers and checks every
// confirmed input and checksum afterwards.
func measureImpair(players int, rtt time.Duration, loss float64, frames int, seed uint64) ImpairRow {
	jitter := time.Millisecond + rtt/20 // ±(1 ms + 10 % of the one-way delay)
	row := ImpairRow{Players: players, RTTms: int(rtt / time.Millisecond), LossPct: loss * 100,
		JitterMs: float64(jitter) / float64(time.Millisecond), Frames: frames}
	var depths []float64
	var clock *rt.FakeClock
	cn := &chaosNet{
		now: func() time.Time {
			if clock == nil { // before the runner exists: its start time
				return time.Unix(1_700_000_000, 0)
			}
			return clock.Now()
		},
		rng:    rand.New(rand.NewPCG(seed, uint64(players)<<32|uint64(rtt/time.Millisecond))),
		delay:  rtt / 2,
		jitter: jitter,
		loss:   loss,
		queues: map[netcode.PeerID]*dueQueue{},
		last:   map[[2]netcode.PeerID]time.Time{},
		sent:   map[netcode.PeerID]*[2]uint64{},
	}
	cfg := rt.ReferenceRun(players, seed)
	cfg.Frames = frames
	cfg.NewGame = func(n int) rollback.Game[rt.Input] { return depthGame{rt.NewGame(n, seed), &depths} }
	trs := make([]rollback.Transport[rt.Input], players)
	for i := range trs {
		tr, err := netcode.NewTransport(cn.endpoint(rt.PeerID(i)), inputCodec, nil)
		if err != nil {
			row.Err = err.Error()
			return row
		}
		trs[i] = tr
	}
	cfg.Transport = func(i int, _ rollback.PeerID) rollback.Transport[rt.Input] { return trs[i] }
	r, err := rt.NewRunner(cfg)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	clock = r.Clock
	start := clock.Now()
	runErr := r.RunUntil(frames)
	res, checkErr := r.Check()
	row.Ticks = res.Ticks
	for _, s := range r.Sessions {
		st := s.Stats()
		row.Stalls += st.Stalls
		for _, ps := range s.AppendPeerStats(nil) {
			row.Desyncs += ps.Desyncs
		}
	}
	var advanced uint64
	for _, st := range res.Stats {
		advanced += st.FramesAdvanced
	}
	if res.Ticks > 0 {
		row.StalledPct = 100 * (1 - float64(advanced)/float64(res.Ticks*players))
	}
	if advanced > 0 {
		row.RollbacksPerFrame = float64(len(depths)) / float64(advanced)
	}
	row.Depth = summarize(depths)
	row.InputsChecked = res.InputsChecked
	row.InputsExpected = frames * players
	row.AllDelivered = runErr == nil && checkErr == nil && row.InputsChecked >= row.InputsExpected
	if secs := clock.Now().Sub(start).Seconds(); secs > 0 {
		var bytes uint64
		for _, c := range cn.sent {
			bytes += c[1] + countnet.IPUDPHeaders*c[0]
		}
		row.UpKiBps = float64(bytes) / kib / secs / float64(players)
	}
	if err := cmp.Or(runErr, checkErr); err != nil {
		row.Err = err.Error()
	}
	for _, s := range r.Sessions {
		s.Close()
	}
	return row
}

// chaosNet is a datagram network on a fake clock for netcode.Transport:
// every packet is delayed, input-channel packets may be lost and
// reordered by jitter, control-channel packets arrive in order. One
// goroutine (the runner's) drives it.
type chaosNet struct {
	now           func() time.Time
	rng           *rand.Rand
	delay, jitter time.Duration
	loss          float64
	seq           uint64
	queues        map[netcode.PeerID]*dueQueue
	last          map[[2]netcode.PeerID]time.Time // control channel: last due per link
	sent          map[netcode.PeerID]*[2]uint64   // packets, bytes
}

type duePacket struct {
	due  time.Time
	seq  uint64
	from netcode.PeerID
	ch   netcode.Channel
	data []byte
}

type dueQueue []duePacket

func (q dueQueue) Len() int { return len(q) }
func (q dueQueue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q dueQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)   { *q = append(*q, x.(duePacket)) }
func (q *dueQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	*q = old[:len(old)-1]
	return p
}

type chaosEnd struct {
	net *chaosNet
	id  netcode.PeerID
}

func (n *chaosNet) endpoint(id netcode.PeerID) *chaosEnd {
	if n.queues[id] == nil {
		n.queues[id] = &dueQueue{}
		n.sent[id] = &[2]uint64{}
	}
	return &chaosEnd{net: n, id: id}
}

func (e *chaosEnd) Send(to netcode.PeerID, ch netcode.Channel, b []byte) error {
	n := e.net
	q := n.queues[to]
	if q == nil {
		return nil // nobody there: lost, as on a real network
	}
	c := n.sent[e.id]
	c[0]++
	c[1] += uint64(len(b))
	if ch == netcode.ChannelInput && n.rng.Float64() < n.loss {
		return nil
	}
	now := n.now()
	d := n.delay
	if n.jitter > 0 {
		d += time.Duration(n.rng.Int64N(int64(2*n.jitter)+1)) - n.jitter
	}
	due := now.Add(max(0, d))
	if ch != netcode.ChannelInput {
		link := [2]netcode.PeerID{e.id, to}
		if l := n.last[link]; due.Before(l) {
			due = l
		}
		n.last[link] = due
	}
	n.seq++
	heap.Push(q, duePacket{due: due, seq: n.seq, from: e.id, ch: ch, data: slices.Clone(b)})
	return nil
}

func (e *chaosEnd) Receive() (netcode.PeerID, netcode.Channel, []byte, bool) {
	q := e.net.queues[e.id]
	if q.Len() == 0 || (*q)[0].due.After(e.net.now()) {
		return 0, 0, nil, false
	}
	p := heap.Pop(q).(duePacket)
	return p.from, p.ch, p.data, true
}
