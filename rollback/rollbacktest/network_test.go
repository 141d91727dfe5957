package rollbacktest

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func inputMsg(frame rollback.Frame, inputs ...uint16) *rollback.Message[uint16] {
	return &rollback.Message[uint16]{
		Kind:   rollback.KindInput,
		Frame:  frame,
		Ack:    rollback.NoFrame,
		Inputs: inputs,
		Status: []rollback.PlayerStatus{{LastFrame: frame}},
	}
}

func snapshotMsg(frame rollback.Frame, state ...byte) *rollback.Message[uint16] {
	return &rollback.Message[uint16]{Kind: rollback.KindSnapshot, Frame: frame, State: state}
}

// drain receives every due message of e.
func drain(e *Endpoint[uint16]) (got []rollback.Frame, from []rollback.PeerID) {
	for {
		f, m, ok := e.Receive()
		if !ok {
			return got, from
		}
		got = append(got, m.Frame)
		from = append(from, f)
	}
}

func TestFakeClock(t *testing.T) {
	c := NewFakeClock(epoch)
	if !c.Now().Equal(epoch) {
		t.Fatalf("Now = %v, want %v", c.Now(), epoch)
	}
	if got := c.Advance(1500 * time.Millisecond); !got.Equal(epoch.Add(1500*time.Millisecond)) || !c.Now().Equal(got) {
		t.Fatalf("Advance returned %v, Now %v", got, c.Now())
	}
	c.Set(epoch.Add(time.Hour))
	if !c.Now().Equal(epoch.Add(time.Hour)) {
		t.Fatalf("after Set, Now = %v", c.Now())
	}
	for name, f := range map[string]func(){
		"Advance(-1)": func() { c.Advance(-1) },
		"Set(past)":   func() { c.Set(epoch) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				c.Now()
			}
		})
	}
	wg.Wait()
	if want := epoch.Add(time.Hour + 800*time.Millisecond); !c.Now().Equal(want) {
		t.Fatalf("after concurrent advances Now = %v, want %v", c.Now(), want)
	}
}

func TestNetworkPerfect(t *testing.T) {
	n := NewNetwork[uint16](NetworkConfig{Clock: NewFakeClock(epoch)})
	a, b := n.Endpoint(1), n.Endpoint(2)
	if n.Endpoint(1) != a || n.AddPeer(2) != b || a.ID() != 1 {
		t.Fatal("Endpoint does not return the same endpoint for the same id")
	}
	for f := range rollback.Frame(5) {
		a.Send(2, inputMsg(f, uint16(f)))
	}
	if _, _, ok := a.Receive(); ok {
		t.Fatal("sender received its own message")
	}
	got, from := drain(b)
	if want := []rollback.Frame{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Fatalf("received frames %v, want %v", got, want)
	}
	if slices.ContainsFunc(from, func(p rollback.PeerID) bool { return p != 1 }) {
		t.Fatalf("from = %v, want all 1", from)
	}
	if s := n.Stats(1); s.Sent != 5 || s.Delivered != 0 {
		t.Errorf("Stats(1) = %+v", s)
	}
	if s := n.Stats(2); s.Sent != 0 || s.Delivered != 5 {
		t.Errorf("Stats(2) = %+v", s)
	}
	if n.InFlight() != 0 {
		t.Errorf("InFlight = %d", n.InFlight())
	}
}

func TestNetworkDueTime(t *testing.T) {
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Chaos: Chaos{Delay: 30 * time.Millisecond}})
	a, b, c := n.Endpoint(1), n.Endpoint(2), n.Endpoint(3)
	n.SetLinkChaos(3, 2, Chaos{Delay: 10 * time.Millisecond})

	a.Send(2, inputMsg(100)) // due at 30
	c.Send(2, inputMsg(300)) // due at 10
	clock.Advance(20 * time.Millisecond)
	a.Send(2, inputMsg(101)) // due at 50
	c.Send(2, inputMsg(301)) // due at 30, sent after 100: ties go by send order
	a.Send(2, inputMsg(102)) // due at 50
	if due, ok := n.NextDelivery(); !ok || !due.Equal(epoch.Add(10*time.Millisecond)) {
		t.Fatalf("NextDelivery = %v %v, want epoch+10ms", due, ok)
	}
	if got, _ := drain(b); !slices.Equal(got, []rollback.Frame{300}) {
		t.Fatalf("at 20ms got %v, want [300]", got)
	}
	clock.Advance(10*time.Millisecond - 1)
	if got, _ := drain(b); len(got) != 0 {
		t.Fatalf("1ns before due got %v", got)
	}
	clock.Advance(1)
	if got, _ := drain(b); !slices.Equal(got, []rollback.Frame{100, 301}) {
		t.Fatalf("at 30ms got %v, want [100 301]", got)
	}
	if n.InFlight() != 2 {
		t.Fatalf("InFlight = %d, want 2", n.InFlight())
	}
	clock.Advance(time.Hour)
	if got, _ := drain(b); !slices.Equal(got, []rollback.Frame{101, 102}) {
		t.Fatalf("later got %v, want [101 102]", got)
	}
	if _, ok := n.NextDelivery(); ok {
		t.Fatal("NextDelivery reports a message after everything was received")
	}
}

func TestNetworkSendCopies(t *testing.T) {
	n := NewNetwork[uint16](NetworkConfig{Clock: NewFakeClock(epoch)})
	a, b := n.Endpoint(1), n.Endpoint(2)
	m := inputMsg(7, 1, 2, 3)
	m.State = []byte{9}
	a.Send(2, m)
	// The engine reuses its message: scribble over everything.
	m.Inputs[0], m.Status[0].LastFrame, m.State[0], m.Frame = 99, 99, 99, 99
	m.Inputs = append(m.Inputs, 4)

	_, got, ok := b.Receive()
	if !ok {
		t.Fatal("nothing received")
	}
	if got.Frame != 7 || !slices.Equal(got.Inputs, []uint16{1, 2, 3}) || got.Status[0].LastFrame != 7 || !slices.Equal(got.State, []byte{9}) {
		t.Fatalf("received %+v: Send did not copy", got)
	}
	if &got.Inputs[0] == &m.Inputs[0] {
		t.Fatal("received message shares Inputs with the sent one")
	}

	// The received message stays valid while more messages are sent and
	// until the next Receive, even though copies are recycled.
	for i := range 10 {
		a.Send(2, inputMsg(rollback.Frame(i), 5, 5, 5))
	}
	if got.Frame != 7 || !slices.Equal(got.Inputs, []uint16{1, 2, 3}) {
		t.Fatalf("received message changed before the next Receive: %+v", got)
	}
}

func TestNetworkReliable(t *testing.T) {
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Seed: 3, Chaos: Chaos{
		Loss: 1, Burst: BurstLoss{Start: 1, MeanLength: 10}, Duplicate: 1, Reorder: 1,
		Delay: 20 * time.Millisecond, Jitter: 20 * time.Millisecond,
	}})
	a, b := n.Endpoint(1), n.Endpoint(2)
	const count = 1000
	for i := range rollback.Frame(count) {
		a.Send(2, snapshotMsg(i, byte(i)))
		a.Send(2, inputMsg(-1)) // all lost
		clock.Advance(time.Duration(i%3) * time.Millisecond)
	}
	clock.Advance(time.Second)
	got, _ := drain(b)
	want := make([]rollback.Frame, count)
	for i := range want {
		want[i] = rollback.Frame(i)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("reliable messages arrived as %v…, want 0…%d in order exactly once", got[:min(len(got), 20)], count-1)
	}
	if s := n.LinkStats(1, 2); s.Sent != 2*count || s.Lost != count || s.Delivered != count || s.Duplicated != 0 {
		t.Fatalf("LinkStats = %+v", s)
	}
}

func TestNetworkCut(t *testing.T) {
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Chaos: Chaos{Delay: 10 * time.Millisecond}})
	a, b, c := n.Endpoint(1), n.Endpoint(2), n.Endpoint(3)

	a.Send(2, inputMsg(1)) // in flight when the link is cut: still arrives
	n.Cut(1, 2)
	a.Send(2, inputMsg(2))
	a.Send(2, snapshotMsg(3)) // even reliable messages are dropped
	b.Send(1, inputMsg(4))    // the other direction still works
	a.Send(3, inputMsg(5))    // and other links
	clock.Advance(time.Second)
	if got, _ := drain(b); !slices.Equal(got, []rollback.Frame{1}) {
		t.Fatalf("over the cut link got %v, want [1]", got)
	}
	if got, _ := drain(a); !slices.Equal(got, []rollback.Frame{4}) {
		t.Fatalf("2→1 got %v, want [4]", got)
	}
	if got, _ := drain(c); !slices.Equal(got, []rollback.Frame{5}) {
		t.Fatalf("1→3 got %v, want [5]", got)
	}
	if s := n.LinkStats(1, 2); s.Sent != 3 || s.Severed != 2 || s.Delivered != 1 {
		t.Fatalf("LinkStats(1, 2) = %+v", s)
	}
	n.Restore(1, 2)
	a.Send(2, inputMsg(6))

	n.SetLinkDown(1, 3, true)
	a.Send(3, inputMsg(7))
	c.Send(1, inputMsg(8))
	clock.Advance(time.Second)
	if got, _ := drain(b); !slices.Equal(got, []rollback.Frame{6}) {
		t.Fatalf("after Restore got %v, want [6]", got)
	}
	if got, _ := drain(a); len(got) != 0 {
		t.Fatalf("3→1 down, got %v", got)
	}
	if got, _ := drain(c); len(got) != 0 {
		t.Fatalf("1→3 down, got %v", got)
	}
	n.SetLinkDown(1, 3, false)

	n.SetPeerDown(2, true)
	a.Send(2, inputMsg(9))
	b.Send(3, inputMsg(10))
	a.Send(3, inputMsg(11))
	n.Cut(1, 3)
	n.SetPeerDown(2, false)
	a.Send(2, inputMsg(12))
	a.Send(3, inputMsg(13)) // cut separately: stays cut
	clock.Advance(time.Second)
	if got, _ := drain(b); !slices.Equal(got, []rollback.Frame{12}) {
		t.Fatalf("peer 2 down then up: got %v, want [12]", got)
	}
	if got, _ := drain(c); !slices.Equal(got, []rollback.Frame{11}) {
		t.Fatalf("peer 3 got %v, want [11]", got)
	}
	if s := n.Stats(1); s.Severed != 5 {
		t.Fatalf("Stats(1).Severed = %d, want 5 (%+v)", s.Severed, s)
	}
}

// chaosRun sends count input messages 1 → 2, one every 16 ms, with frame =
// index, and returns the frames in the order they arrived and the stats.
func chaosRun(t *testing.T, seed uint64, c Chaos, count int) ([]rollback.Frame, Stats) {
	t.Helper()
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Seed: seed, Chaos: c})
	a, b := n.Endpoint(1), n.Endpoint(2)
	var got []rollback.Frame
	m := inputMsg(0, 1, 2)
	for i := range count {
		m.Frame = rollback.Frame(i)
		a.Send(2, m)
		clock.Advance(16 * time.Millisecond)
		f, _ := drain(b)
		got = append(got, f...)
	}
	clock.Advance(time.Hour)
	f, _ := drain(b)
	return append(got, f...), n.LinkStats(1, 2)
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
	}
}

func TestChaosStatistics(t *testing.T) {
	const count = 20000
	t.Run("loss", func(t *testing.T) {
		got, s := chaosRun(t, 1, Chaos{Loss: 0.2}, count)
		within(t, "lost fraction", float64(s.Lost)/count, 0.2, 0.02)
		if int(s.Delivered) != len(got) || s.Sent != count || int(s.Lost)+len(got) != count {
			t.Errorf("stats %+v, received %d", s, len(got))
		}
		if !slices.IsSorted(got) {
			t.Error("messages reordered without Reorder or Jitter")
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		got, s := chaosRun(t, 2, Chaos{Duplicate: 0.1, Jitter: 5 * time.Millisecond, Delay: 5 * time.Millisecond}, count)
		within(t, "duplicated fraction", float64(s.Duplicated)/count, 0.1, 0.015)
		if len(got) != count+int(s.Duplicated) {
			t.Errorf("received %d, want %d", len(got), count+int(s.Duplicated))
		}
		seen := make(map[rollback.Frame]int)
		for _, f := range got {
			seen[f]++
		}
		if len(seen) != count {
			t.Errorf("%d distinct messages arrived, want %d", len(seen), count)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		got, s := chaosRun(t, 3, Chaos{Reorder: 0.1, ReorderDelay: 40 * time.Millisecond}, count)
		within(t, "reordered fraction", float64(s.Reordered)/count, 0.1, 0.015)
		// A message held back 40 ms is overtaken by the next two or three,
		// sent every 16 ms: count messages that arrive after a later one.
		late := 0
		highest := rollback.Frame(-1)
		for _, f := range got {
			if f < highest {
				late++
			}
			highest = max(highest, f)
		}
		// Not every held-back message arrives late: the next may be held too.
		within(t, "late fraction", float64(late)/count, 0.1, 0.03)
		if len(got) != count {
			t.Errorf("received %d, want %d", len(got), count)
		}
	})
	t.Run("jitter", func(t *testing.T) {
		clock := NewFakeClock(epoch)
		n := NewNetwork[uint16](NetworkConfig{Clock: clock, Seed: 4, Chaos: Chaos{Delay: 5 * time.Millisecond, Jitter: 10 * time.Millisecond}})
		a, b := n.Endpoint(1), n.Endpoint(2)
		delays := make(map[time.Duration]int)
		for range 2000 {
			a.Send(2, inputMsg(0))
			due, ok := n.NextDelivery()
			if !ok {
				t.Fatal("nothing in flight")
			}
			d := due.Sub(clock.Now())
			if d < 0 || d > 15*time.Millisecond {
				t.Fatalf("delay %v outside [0, 15ms]", d)
			}
			delays[d]++
			clock.Set(due)
			if _, _, ok := b.Receive(); !ok {
				t.Fatal("not delivered at its due time")
			}
		}
		// Jitter is uniform on [-10, 10] ms and clamped at 0: a quarter of
		// the delays are exactly 0.
		within(t, "zero-delay fraction", float64(delays[0])/2000, 0.25, 0.04)
		if len(delays) < 500 {
			t.Errorf("only %d distinct delays", len(delays))
		}
	})
	t.Run("burst", func(t *testing.T) {
		const start, length = 0.01, 5.0
		got, s := chaosRun(t, 5, Chaos{Burst: BurstLoss{Start: start, MeanLength: length}}, count)
		// A cycle is on average 1/start - 1 good messages and a burst of
		// length messages.
		want := length / (1/start - 1 + length)
		within(t, "lost fraction", float64(s.Lost)/count, want, 0.015)
		var bursts, lost int
		next := rollback.Frame(0)
		for _, f := range append(got, count) {
			if f > next {
				bursts++
				lost += int(f - next)
			}
			next = f + 1
		}
		// Bursts that follow each other directly merge; that is rare.
		within(t, "mean burst length", float64(lost)/float64(bursts), length, 1)
	})
}

type delivery struct {
	at       time.Duration
	from, to rollback.PeerID
	frame    rollback.Frame
	inputs   string
}

// trace runs three peers sending to each other through every kind of chaos.
func trace(seed uint64) []delivery {
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Seed: seed, Chaos: Chaos{
		Loss: 0.1, Burst: BurstLoss{Start: 0.02, MeanLength: 3}, Delay: 30 * time.Millisecond,
		Jitter: 15 * time.Millisecond, Duplicate: 0.05, Reorder: 0.05,
	}})
	n.SetLinkChaos(1, 3, Chaos{Delay: 80 * time.Millisecond, Loss: 0.3})
	ids := []rollback.PeerID{1, 2, 3}
	var out []delivery
	m := inputMsg(0, 0, 0)
	for f := range rollback.Frame(600) {
		for _, from := range ids {
			for _, to := range ids {
				if to != from {
					m.Frame, m.Inputs[0], m.Inputs[1] = f, uint16(from), uint16(f)
					n.Endpoint(from).Send(to, m)
				}
			}
		}
		if f%50 == 0 {
			n.Endpoint(2).Send(1, snapshotMsg(f, 1, 2, 3))
		}
		clock.Advance(16 * time.Millisecond)
		for _, to := range ids {
			for {
				from, m, ok := n.Endpoint(to).Receive()
				if !ok {
					break
				}
				out = append(out, delivery{clock.Now().Sub(epoch), from, to, m.Frame, fmt.Sprint(m.Inputs)})
			}
		}
	}
	return out
}

func TestNetworkReplaysFromSeed(t *testing.T) {
	a, b := trace(42), trace(42)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different delivery traces")
	}
	if c := trace(43); slices.Equal(a, c) {
		t.Fatal("different seeds gave the same trace")
	}
	if len(a) < 1000 {
		t.Fatalf("only %d deliveries", len(a))
	}
}

func TestNetworkConcurrent(t *testing.T) {
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Seed: 1, Chaos: Chaos{Loss: 0.1, Delay: time.Millisecond}})
	var wg sync.WaitGroup
	for id := range rollback.PeerID(4) {
		wg.Go(func() {
			e := n.Endpoint(id)
			m := inputMsg(0, 1, 2, 3)
			for i := range 500 {
				m.Frame = rollback.Frame(i)
				e.Send((id+1)%4, m)
				clock.Advance(time.Millisecond)
				for {
					_, got, ok := e.Receive()
					if !ok {
						break
					}
					if len(got.Inputs) != 3 {
						t.Errorf("received %v", got.Inputs)
					}
				}
				_ = n.Stats(id)
			}
		})
	}
	wg.Wait()
	var s Stats
	for id := range rollback.PeerID(4) {
		st := n.Stats(id)
		s.add(st)
	}
	if s.Sent != 2000 || s.Delivered+s.Lost+uint64(n.InFlight()) != 2000 {
		t.Fatalf("totals %+v, in flight %d", s, n.InFlight())
	}
}

func TestNetworkZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Seed: 1, Chaos: Chaos{
		Loss: 0.05, Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Duplicate: 0.05, Reorder: 0.05,
	}})
	a, b := n.Endpoint(1), n.Endpoint(2)
	m := inputMsg(0, 1, 2, 3, 4)
	step := func() {
		m.Frame++
		a.Send(2, m)
		b.Send(1, m)
		clock.Advance(2 * time.Millisecond)
		for _, e := range []*Endpoint[uint16]{a, b} {
			for {
				if _, _, ok := e.Receive(); !ok {
					break
				}
			}
		}
	}
	for range 1000 {
		step()
	}
	if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
		t.Fatalf("%v allocations per send and receive, want 0", allocs)
	}
}

func BenchmarkNetworkSendReceive(b *testing.B) {
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock, Seed: 1, Chaos: Chaos{
		Loss: 0.05, Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Duplicate: 0.05, Reorder: 0.05,
	}})
	tx, rx := n.Endpoint(1), n.Endpoint(2)
	m := inputMsg(0, 1, 2, 3, 4)
	step := func() {
		m.Frame++
		tx.Send(2, m)
		clock.Advance(time.Millisecond)
		for {
			if _, _, ok := rx.Receive(); !ok {
				break
			}
		}
	}
	for range 1000 { // warm up the free list and the queue
		step()
	}
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}

// TestNetworkOrderProperty checks the delivery queue against a sort: many
// senders with different fixed delays, messages sent at many times.
func TestNetworkOrderProperty(t *testing.T) {
	clock := NewFakeClock(epoch)
	n := NewNetwork[uint16](NetworkConfig{Clock: clock})
	const senders = 20
	for s := range rollback.PeerID(senders) {
		n.SetLinkChaos(s, 100, Chaos{Delay: time.Duration(s*7%50) * time.Millisecond})
	}
	type sent struct {
		due time.Duration
		seq int
	}
	var want []sent
	seq := 0
	for step := range 200 {
		for s := range rollback.PeerID(senders) {
			if (step+int(s))%3 == 0 {
				n.Endpoint(s).Send(100, inputMsg(rollback.Frame(seq)))
				want = append(want, sent{clock.Now().Sub(epoch) + time.Duration(s*7%50)*time.Millisecond, seq})
				seq++
			}
		}
		clock.Advance(time.Duration(step%4) * time.Millisecond)
	}
	slices.SortStableFunc(want, func(a, b sent) int { return int(a.due - b.due) })
	clock.Advance(time.Second)
	got, _ := drain(n.Endpoint(100))
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if int(got[i]) != want[i].seq {
			t.Fatalf("message %d: got seq %d, want %d", i, got[i], want[i].seq)
		}
	}
}
