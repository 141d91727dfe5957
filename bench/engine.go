//go:build !js

package main

import (
	"time"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// EngineRow is the engine's cost per frame per peer at one rollback depth.
type EngineRow struct {
	// Game is "reference" (rollbacktest's game, a few integers per player)
	// or "demo" (demo-game/sim: the demo's arena, bodies and rounds).
	Game    string `json:"game"`
	Players int    `json:"players"`
	// Depth is the one-way delay in frames that makes every frame roll
	// back (0: held inputs, nothing to correct); MeasuredDepth the mean
	// frames re-simulated per rollback, and RollbacksPerFrame how often.
	Depth             int     `json:"depth"`
	MeasuredDepth     float64 `json:"measured_depth"`
	RollbacksPerFrame float64 `json:"rollbacks_per_frame"`
	Frames            int     `json:"frames"`
	// NsPerFrame is CPU time (getrusage) per frame per peer, the median of
	// five slices of the run; OverheadNs is that minus the depth-0 row's
	// with as many players.
	NsPerFrame     float64 `json:"cpu_ns_per_frame"`
	OverheadNs     float64 `json:"overhead_ns_per_frame"`
	AllocsPerFrame float64 `json:"allocs_per_frame"`
	BytesPerFrame  float64 `json:"alloc_bytes_per_frame"`
	Err            string  `json:"error,omitempty"`
}

// measureEngine runs players peers of the reference game in lock step on
// rollbacktest's in-memory network (allocation-free once warm) on a fake
// clock, every message delayed depth frames and every input different
// from the last (so every prediction misses and every frame rolls back
// about depth frames), and times frames ticks after a warm-up.
func measureEngine(game string, players, depth, frames int) EngineRow {
	mashed := depth > 0
	if game == "demo" {
		return runEngine(EngineRow{Game: game, Players: players, Depth: depth, Frames: frames},
			func(n int) rollback.Game[sim.Input] { return sim.New(5, n) },
			func(p rollback.Player, f rollback.Frame) sim.Input {
				if !mashed {
					return sim.Right
				}
				return sim.Input(inputPattern(inputsMashed, 5)(p, f))
			})
	}
	kind := inputsHeld
	if mashed {
		kind = inputsMashed
	}
	return runEngine(EngineRow{Game: "reference", Players: players, Depth: depth, Frames: frames},
		func(n int) rollback.Game[rt.Input] { return rt.NewGame(n, 5) }, inputPattern(kind, 5))
}

func runEngine[I comparable](row EngineRow, newGame func(players int) rollback.Game[I], input func(rollback.Player, rollback.Frame) I) EngineRow {
	players, depth, frames := row.Players, row.Depth, row.Frames
	clock := rt.NewFakeClock(time.Unix(1_700_000_000, 0))
	delay := time.Duration(depth) * tick
	network := rt.NewNetwork[I](rt.NetworkConfig{Clock: clock, Chaos: rt.Chaos{Delay: delay}})
	ids := nodeIDs(players)
	sessions := make([]*rollback.Session[I], players)
	for i := range sessions {
		s, err := rollback.NewSession(rollback.Config[I]{
			Players: ids, Self: ids[i], Clock: clock, MaxPrediction: 12,
			DisconnectTimeout: time.Hour, DisconnectNotifyStart: time.Hour,
		}, newGame(players), network.Endpoint(ids[i]))
		if err != nil {
			row.Err = err.Error()
			return row
		}
		sessions[i] = s
	}
	var events []rollback.Event
	step := func() error {
		clock.Advance(tick)
		for _, s := range sessions {
			target := s.Frame() + rollback.Frame(s.InputDelay())
			for _, p := range s.LocalPlayers() {
				if err := s.AddLocalInput(p, input(p, target)); err != nil {
					return err
				}
			}
			if err := s.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
				return err
			}
			events = s.Events(events[:0])
		}
		return nil
	}
	for range 300 + 2*depth {
		if err := step(); err != nil {
			row.Err = err.Error()
			return row
		}
	}
	var before []rollback.Stats
	for _, s := range sessions {
		before = append(before, s.Stats())
	}
	// Five slices, and the median of their CPU per frame: a burst of load
	// from the machine's other jobs (cache, frequency, hyperthread sharing)
	// inflates one slice more than the median.
	const slices = 5
	var perFrame []float64
	var used usage
	for c := range slices {
		n := frames / slices
		if c == slices-1 {
			n = frames - n*(slices-1)
		}
		u := readUsage()
		for range n {
			if err := step(); err != nil {
				row.Err = err.Error()
				return row
			}
		}
		d := u.since()
		used.mallocs += d.mallocs
		used.bytes += d.bytes
		perFrame = append(perFrame, float64(d.cpu.Nanoseconds())/float64(max(1, n*players)))
	}
	var advanced, rollbacks, resim uint64
	for i, s := range sessions {
		st := s.Stats()
		advanced += st.FramesAdvanced - before[i].FramesAdvanced
		rollbacks += st.Rollbacks - before[i].Rollbacks
		resim += st.RollbackFrames - before[i].RollbackFrames
	}
	if advanced == 0 {
		row.Err = "no frame advanced"
		return row
	}
	af := float64(advanced)
	row.NsPerFrame = summarize(perFrame).P50
	row.AllocsPerFrame = float64(used.mallocs) / af
	row.BytesPerFrame = float64(used.bytes) / af
	row.RollbacksPerFrame = float64(rollbacks) / af
	if rollbacks > 0 {
		row.MeasuredDepth = float64(resim) / float64(rollbacks)
	}
	for _, s := range sessions {
		s.Close()
	}
	return row
}
