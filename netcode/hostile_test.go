//go:build !js

package netcode

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lynnet/lyn/netcode/internal/wire"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// TestHostilePeerOverWebRTC: while peer 2 plays honestly, its own WebRTC
// link to peer 1 also carries garbage: random bytes, another protocol
// version, truncated packets, absurd frame numbers, inputs for a player it
// does not host, and floods. Peer 1 drops and counts all of it, tells the
// game about the version, and the two finish in agreement.
func TestHostilePeerOverWebRTC(t *testing.T) {
	meshes := connectAll(t, 2, loopback, nil)
	defer closeAll(t, meshes)
	var transports []*Transport[rt.Input]
	cfg := realRun(2, 8, 800, func(i int) Packets { return meshes[i] })
	inner := cfg.Transport
	cfg.Transport = func(i int, id rollback.PeerID) rollback.Transport[rt.Input] {
		tr := inner(i, id)
		transports = append(transports, tr.(*Transport[rt.Input]))
		return tr
	}
	codec, _ := wire.NewCodec[rt.Input](inputCodec)
	rng := rand.New(rand.NewPCG(8, 8))
	victim, attacker := rt.PeerID(0), meshes[1]
	craft := func(mutate func(m *rollback.Message[rt.Input])) []byte {
		m := rollback.Message[rt.Input]{Kind: rollback.KindInput, Frame: 10, Ack: 5, PerFrame: 1,
			Inputs: []rt.Input{1, 2, 3}, Status: []rollback.PlayerStatus{{LastFrame: 9}, {LastFrame: 12}}}
		mutate(&m)
		b, _, err := codec.AppendMessage(nil, &m, m.PerFrame)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	attacks := [][]byte{
		craft(func(m *rollback.Message[rt.Input]) { m.Frame = math.MaxInt32 - 2 }),
		craft(func(m *rollback.Message[rt.Input]) { m.Frame = -1000 }),
		craft(func(m *rollback.Message[rt.Input]) { m.Inputs, m.PerFrame = []rt.Input{1, 2, 3, 4}, 2 }), // another player's slot
		craft(func(m *rollback.Message[rt.Input]) { m.Status = m.Status[:1] }),
		craft(func(m *rollback.Message[rt.Input]) { m.Ack = 1 << 30 }),
	}
	good := craft(func(m *rollback.Message[rt.Input]) {})
	versioned := append([]byte(nil), good...)
	versioned[1] = 7 // [1, 2, …] → protocol version 7
	attacks = append(attacks, versioned, good[:len(good)/2], []byte{0xc1}, []byte{0x93, 1, 99, 0})
	cfg.OnTick = func(r *rt.Runner[rt.Input], tick int) error {
		if tick < 50 || tick%2 != 0 {
			return nil
		}
		for range 3 {
			attacker.Send(victim, ChannelInput, attacks[rng.IntN(len(attacks))])
		}
		junk := make([]byte, 1+rng.IntN(300))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		attacker.Send(victim, ChannelInput, junk)
		attacker.Send(victim, ChannelControl, junk)
		if tick%100 == 0 { // a flood
			for range 300 {
				attacker.Send(victim, ChannelInput, attacks[0])
			}
		}
		return nil
	}
	r, err := rt.NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunUntil(cfg.Frames); err != nil {
		t.Fatal(err)
	}
	res, err := r.Check()
	if err != nil {
		t.Fatal(err)
	}
	if ps, _ := r.Sessions[0].PeerStats(rt.PeerID(1)); ps.MessagesInvalid == 0 || ps.Disconnected {
		t.Fatalf("engine did not count invalid messages, or dropped the peer: %+v", ps)
	}
	st := transports[0].Stats()
	t.Logf("victim transport %+v; session %+v", st, res.Stats[0])
	if st.Malformed == 0 || st.VersionMismatch == 0 {
		t.Fatalf("garbage not counted: %+v", st)
	}
	errs := transports[0].Errors(nil)
	if len(errs) != 1 || errs[0].Peer != rt.PeerID(1) || !errors.Is(errs[0], ErrPeerVersion) {
		t.Fatalf("version problem not reported once: %v", errs)
	}
	if res.ChecksumsCompared < 20 {
		t.Fatalf("only %d checksums compared", res.ChecksumsCompared)
	}
}
