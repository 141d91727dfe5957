package replay_test

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

// FuzzRoundTrip writes random frames and checksums and reads them back.
// Each group of players bytes is one frame: bits 0-3 the input, bit 7
// disconnected; in the first byte of a group bit 6 records a checksum of
// the state at that frame (before it if bit 5 is clear, after it if set)
// and bit 4 flushes. Every frame is repeated stretch%16+1 times, to reach
// block boundaries.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(2), uint8(0), []byte{1, 2, 1, 2, 0x43, 0, 0x55, 0x80, 0x60, 0x81})
	f.Add(uint8(1), uint8(15), bytes.Repeat([]byte{0x41, 3, 7, 0x13}, 40))
	f.Add(uint8(63), uint8(3), bytes.Repeat([]byte{0x41, 3, 7, 0x13, 0x80}, 30))
	f.Fuzz(func(t *testing.T, players, stretch uint8, data []byte) {
		np := int(players)%rollback.MaxPlayers + 1
		var buf bytes.Buffer
		w, err := replay.NewWriter(&buf, codec, replay.Header{Players: np, FrameRate: 30, Metadata: data[:min(len(data), 100)]})
		if err != nil {
			t.Fatal(err)
		}
		var want [][]rollback.PlayerInput[Buttons]
		var wantSums []checksumAt
		in := make([]rollback.PlayerInput[Buttons], np)
		for len(data) >= np {
			group := data[:np]
			data = data[np:]
			for p, b := range group {
				in[p] = rollback.PlayerInput[Buttons]{Input: Buttons(b & 0x0f)}
				if b&0x80 != 0 {
					in[p] = rollback.PlayerInput[Buttons]{Status: rollback.Disconnected}
				}
			}
			for range int(stretch)%16 + 1 {
				frame := rollback.Frame(len(want))
				sum := uint64(frame)<<32 | uint64(group[0])
				ctl := group[0]
				if np > 1 {
					ctl = group[1] // keep the checksum control apart from player 0's input
				}
				if ctl&0x60 == 0x40 {
					w.RecordChecksum(frame, sum)
					wantSums = append(wantSums, checksumAt{frame, sum})
				}
				w.RecordFrame(frame, in)
				want = append(want, slices.Clone(in))
				if ctl&0x60 == 0x60 {
					w.RecordChecksum(frame, sum)
					wantSums = append(wantSums, checksumAt{frame, sum})
				}
				if ctl&0x10 != 0 {
					w.Flush()
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		h, got, gotSums, err := readAll(t, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if h.Players != np || h.FrameRate != 30 {
			t.Fatalf("header %+v", h)
		}
		if len(got) != len(want) {
			t.Fatalf("read %d frames, wrote %d", len(got), len(want))
		}
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("frame %d: read %v, wrote %v", i, got[i], want[i])
			}
		}
		if !slices.Equal(gotSums, wantSums) {
			t.Fatalf("checksums: read %v, wrote %v", gotSums, wantSums)
		}
		// Every proper prefix is rejected as truncated (a sample of them).
		all := buf.Bytes()
		for n := 0; n < len(all); n += 1 + len(all)/7 {
			if _, _, _, err := readAll(t, all[:n]); err == nil || err == io.EOF {
				t.Fatalf("prefix of %d bytes read without error", n)
			}
		}
	})
}
