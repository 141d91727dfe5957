package wire

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lynnet/lyn/rollback"
)

func benchCases() []struct {
	name     string
	m        rollback.Message[uint16]
	perFrame int
} {
	type bc = struct {
		name     string
		m        rollback.Message[uint16]
		perFrame int
	}
	var out []bc
	for _, players := range []int{2, 4, 8} {
		for _, frames := range []int{1, 4, 8} {
			out = append(out, bc{fmt.Sprintf("players=%d/frames=%d", players, frames),
				typicalMessage(players, frames, 70_000, false), 1})
		}
		out = append(out, bc{fmt.Sprintf("players=%d/frames=4+ping+pong", players),
			typicalMessage(players, 4, 70_000, true), 1})
	}
	out = append(out, bc{"spectator/players=8/frames=8", spectatorMessage(8, 8), 8})
	rng := rand.New(rand.NewPCG(3, 4))
	full := rollback.Message[uint16]{Kind: rollback.KindInput, Frame: 70_000, Ack: 69_000,
		Inputs: randomInputs(rng, MaxFrames, 1), Status: make([]rollback.PlayerStatus, 8)}
	out = append(out, bc{"worst/frames=128-random", full, 1})
	return out
}

func BenchmarkAppendMessage(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			c := newCodec(b)
			buf := make([]byte, 0, MaxPacketSize)
			var n int
			b.ReportAllocs()
			for b.Loop() {
				out, _, err := c.AppendMessage(buf[:0], &bc.m, bc.perFrame)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bytes/packet")
		})
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			c := newCodec(b)
			p, _, err := c.AppendMessage(nil, &bc.m, bc.perFrame)
			if err != nil {
				b.Fatal(err)
			}
			var m rollback.Message[uint16]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.DecodeMessage(p, &m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p)), "bytes/packet")
		})
	}
}

// spectatorMessage is the stream to a spectator: every player's input
// (frame-major), each player holding buttons for several frames.
func spectatorMessage(players, frames int) rollback.Message[uint16] {
	m := rollback.Message[uint16]{Kind: rollback.KindInput, Frame: 70_000, Ack: rollback.NoFrame}
	m.Inputs = make([]uint16, frames*players)
	for p := range players {
		one := typicalMessage(p+1, frames, 70_000, false)
		for f := range frames {
			m.Inputs[f*players+p] = one.Inputs[f]
		}
	}
	for range players {
		m.Status = append(m.Status, rollback.PlayerStatus{LastFrame: 70_000 + rollback.Frame(frames) - 1})
	}
	return m
}
