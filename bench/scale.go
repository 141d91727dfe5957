//go:build !js

package main

import (
	"context"
	"time"

	"github.com/lynnet/lyn/netcode"
)

// ScaleRow is the CPU a game of players players and spectators spectators
// costs on this machine, every participant a WebRTC peer in this process
// ticking at 60 Hz.
type ScaleRow struct {
	Players    int     `json:"players"`
	Spectators int     `json:"spectators"`
	Seconds    float64 `json:"seconds"`
	// CPUPercent is process CPU time per participant as a percentage of one
	// core; CPUPerFrameUs the same per frame advanced (player frames and
	// spectator frames together).
	CPUPercent     float64 `json:"cpu_pct_per_peer"`
	CPUPerFrameUs  float64 `json:"cpu_us_per_frame"`
	AllocsPerFrame float64 `json:"allocs_per_frame"`
	FramesPerSec   float64 `json:"frames_s_per_player"`
	Err            string  `json:"error,omitempty"`
}

func measureScale(sig *signalServer, players, spectators int, d time.Duration) ScaleRow {
	row := ScaleRow{Players: players, Spectators: spectators}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := joinGame(ctx, sig, players, spectators, false, netcode.Config{LoopbackOnly: true})
	if err != nil {
		row.Err = err.Error()
		return row
	}
	defer g.close()
	res, err := g.run(inputPattern(inputsReference, 13)).play(d, func(bool) {})
	if err != nil {
		row.Err = err.Error()
	}
	secs := res.window.Seconds()
	if secs <= 0 {
		return row
	}
	n := float64(players + spectators)
	row.Seconds = secs
	row.CPUPercent = 100 * res.used.cpu.Seconds() / secs / n
	if f := float64(res.frames + res.specFrames); f > 0 {
		row.CPUPerFrameUs = float64(res.used.cpu.Microseconds()) / f
		row.AllocsPerFrame = float64(res.used.mallocs) / f
	}
	row.FramesPerSec = float64(res.frames) / secs / float64(players)
	return row
}
