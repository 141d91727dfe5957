package replay_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

// Buttons is the test games' input: a bit set, as a real game's would be.
type Buttons uint16

// sumGame is a tiny deterministic game: it folds every input into an
// accumulator and steps a xorshift PRNG kept in its state.
type sumGame struct {
	frame uint64
	acc   uint64
	rng   uint64
	// bugAt, if nonzero, makes Advance of that frame go wrong (a
	// nondeterminism or version bug).
	bugAt uint64
}

func newSumGame() *sumGame { return &sumGame{rng: 0x9e3779b97f4a7c15} }

func (g *sumGame) Save(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, g.frame)
	dst = binary.LittleEndian.AppendUint64(dst, g.acc)
	return binary.LittleEndian.AppendUint64(dst, g.rng)
}

func (g *sumGame) Load(state []byte) error {
	if len(state) != 24 {
		return errors.New("sumGame: bad state")
	}
	g.frame = binary.LittleEndian.Uint64(state)
	g.acc = binary.LittleEndian.Uint64(state[8:])
	g.rng = binary.LittleEndian.Uint64(state[16:])
	return nil
}

func (g *sumGame) Advance(inputs []rollback.PlayerInput[Buttons]) {
	g.rng ^= g.rng << 13
	g.rng ^= g.rng >> 7
	g.rng ^= g.rng << 17
	for p, in := range inputs {
		g.acc = g.acc*31 + uint64(in.Input)*uint64(p+1) + uint64(in.Status)<<20 + g.rng>>60
	}
	if g.bugAt != 0 && g.frame == g.bugAt {
		g.acc++
	}
	g.frame++
}

// prng is a deterministic source for test inputs.
type prng uint64

func (r *prng) next() uint64 {
	*r ^= *r << 13
	*r ^= *r >> 7
	*r ^= *r << 17
	return uint64(*r)
}

// inputScript produces a typical human input stream: each player holds a
// button combination for a while (on average changing every ~12 frames at
// 60 fps, about five presses or releases per second) and player 1
// disconnects from frame disconnectAt on, if nonzero.
type inputScript struct {
	rng          prng
	cur          []rollback.PlayerInput[Buttons]
	disconnectAt rollback.Frame
}

func newScript(players int, seed uint64) *inputScript {
	return &inputScript{rng: prng(seed | 1), cur: make([]rollback.PlayerInput[Buttons], players)}
}

func (s *inputScript) frame(f rollback.Frame) []rollback.PlayerInput[Buttons] {
	for p := range s.cur {
		if p == 1 && s.disconnectAt != 0 && f >= s.disconnectAt {
			s.cur[p] = rollback.PlayerInput[Buttons]{Status: rollback.Disconnected}
			continue
		}
		if s.rng.next()%12 == 0 {
			s.cur[p].Input ^= Buttons(1) << (s.rng.next() % 10)
		}
	}
	return s.cur
}

// record runs a fresh game through frames frames of the script, recording
// them with a checksum every interval frames the way a session does:
// RecordChecksum(F) of the state at F, after RecordFrame(F-1) and before
// RecordFrame(F). It also records the checksum of the final state.
func record(t testing.TB, players int, frames rollback.Frame, interval int, script *inputScript) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := replay.NewWriter(&buf, rollback.UintCodec[Buttons]{}, replay.Header{Players: players, Metadata: []byte("sumgame v1")})
	if err != nil {
		t.Fatal(err)
	}
	g := newSumGame()
	var scratch []byte
	for f := rollback.Frame(0); f < frames; f++ {
		if f > 0 && int(f)%interval == 0 {
			var sum uint64
			sum, scratch = rollback.ChecksumOf(g, scratch)
			w.RecordChecksum(f, sum)
		}
		in := script.frame(f)
		w.RecordFrame(f, in)
		g.Advance(in)
	}
	sum, _ := rollback.ChecksumOf(g, scratch)
	w.RecordChecksum(frames, sum)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
