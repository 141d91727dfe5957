package rollback_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/rollbacktest"
)

// counter is a complete game: one integer per player, moved by its input.
// Save, Load and Advance are all a rollback engine needs.
type counter struct{ pos [2]int32 }

func (c *counter) Save(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(c.pos[0]))
	return binary.LittleEndian.AppendUint32(dst, uint32(c.pos[1]))
}

func (c *counter) Load(b []byte) error {
	if len(b) != 8 {
		return errors.New("counter: bad state")
	}
	c.pos[0] = int32(binary.LittleEndian.Uint32(b))
	c.pos[1] = int32(binary.LittleEndian.Uint32(b[4:]))
	return nil
}

func (c *counter) Advance(inputs []rollback.PlayerInput[int8]) {
	for p, in := range inputs {
		c.pos[p] += int32(in.Input) // Predicted or Confirmed: the same rule
	}
}

// Two peers, each with one player, play 120 frames over an in-memory
// network with 30 ms of delay; every tick each adds its input and advances.
func ExampleSession() {
	clock := rollbacktest.NewFakeClock(time.Unix(0, 0))
	net := rollbacktest.NewNetwork[int8](rollbacktest.NetworkConfig{
		Clock: clock,
		Chaos: rollbacktest.Chaos{Delay: 30 * time.Millisecond},
	})
	players := []rollback.PeerID{1, 2} // player 0 plays on peer 1, player 1 on peer 2
	games := []*counter{{}, {}}
	var sessions []*rollback.Session[int8]
	for i, self := range players {
		s, err := rollback.NewSession(rollback.Config[int8]{Players: players, Self: self, Clock: clock},
			rollback.Game[int8](games[i]), net.Endpoint(self))
		if err != nil {
			panic(err)
		}
		sessions = append(sessions, s)
	}
	for tick := 0; sessions[0].ConfirmedFrame() < 120; tick++ {
		clock.Advance(time.Second / 60) // a real game waits s.TimeSync().FrameDuration
		for p, s := range sessions {
			s.AddLocalInput(p, int8(1-2*p)) // player 0 walks right, player 1 left
			switch err := s.AdvanceFrame(); {
			case errors.Is(err, rollback.ErrNotSynchronized), errors.Is(err, rollback.ErrPredictionLimit):
				// nothing advanced this tick: draw the last frame again
			case err != nil:
				panic(err)
			}
		}
	}
	for i, s := range sessions {
		fmt.Printf("peer %d: frame %d, positions %v, rollbacks %d\n", i+1, s.Frame(), games[i].pos, s.Stats().Rollbacks)
	}
	// Each peer predicted the other's first input wrong once (it repeats the
	// last input, and before any arrived that is the zero input) and rolled
	// back; both reach the same state.

	// Output:
	// peer 1: frame 125, positions [125 -125], rollbacks 1
	// peer 2: frame 125, positions [125 -125], rollbacks 1
}
