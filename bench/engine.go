//go:build !js

package main

import (
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// EngineRow is the engine's cost per frame per peer at one rollback depth.
type EngineRow struct {
	Players int `json:"players"`
	// Depth is the one-way delay in frames that makes every frame roll
	// back (0: held inputs, nothing to correct); MeasuredDepth the mean
	// frames re-simulated per rollback, and RollbacksPerFrame how often.
	Depth             int     `json:"depth"`
	MeasuredDepth     float64 `json:"measured_depth"`
	RollbacksPerFrame float64 `json:"rollbacks_per_frame"`
	Frames            int     `json:"frames"`
	// NsPerFrame is CPU time (getrusage) per frame per peer; OverheadNs is
	// that minus the depth-0 row's with as many players.
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
func measureEngine(players, depth, frames int) EngineRow {
	row := EngineRow{Players: players, Depth: depth, Frames: frames}
	clock := rt.NewFakeClock(time.Unix(1_700_000_000, 0))
	delay := time.Duration(depth) * tick
	network := rt.NewNetwork[rt.Input](rt.NetworkConfig{Clock: clock, Chaos: rt.Chaos{Delay: delay}})
	ids := nodeIDs(players)
	kind := inputsMashed
	if depth == 0 {
		kind = inputsHeld
	}
	input := inputPattern(kind, 5)
	sessions := make([]*rollback.Session[rt.Input], players)
	for i := range sessions {
		s, err := rollback.NewSession(rollback.Config[rt.Input]{
			Players: ids, Self: ids[i], Clock: clock, MaxPrediction: 12,
			DisconnectTimeout: time.Hour, DisconnectNotifyStart: time.Hour,
		}, rollback.Game[rt.Input](rt.NewGame(players, 5)), network.Endpoint(ids[i]))
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
	u := readUsage()
	for range frames {
		if err := step(); err != nil {
			row.Err = err.Error()
			return row
		}
	}
	used := u.since()
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
	row.NsPerFrame = float64(used.cpu.Nanoseconds()) / af
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
