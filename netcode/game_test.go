//go:build !js

package netcode

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

var inputCodec = rollback.UintCodec[rt.Input]{}

// realRun is a reference-game run over real transports: packets take real
// time, so each tick sleeps a little and silence is tolerated for longer
// (the clock is the run's fake one).
func realRun(peers int, seed uint64, frames int, packets func(i int) Packets) rt.RunConfig[rt.Input] {
	cfg := rt.ReferenceRun(peers, seed)
	cfg.Frames = frames
	cfg.MaxTicks = 20 * frames
	cfg.TickSleep = 300 * time.Microsecond
	cfg.Session.DisconnectTimeout = time.Hour
	cfg.Session.DisconnectNotifyStart = time.Hour
	cfg.Transport = func(i int, id rollback.PeerID) rollback.Transport[rt.Input] {
		tr, err := NewTransport(packets(i), inputCodec, nil)
		if err != nil {
			panic(err)
		}
		return tr
	}
	return cfg
}

// listenUDPPeers opens n UDP transports on loopback that know each other,
// with ids 1..n as the harness numbers them.
func listenUDPPeers(t testing.TB, n int) []*UDP {
	t.Helper()
	us := make([]*UDP, n)
	for i := range us {
		u, err := ListenUDP(UDPConfig{ListenAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		us[i] = u
		t.Cleanup(func() { u.Close() })
	}
	for i, u := range us {
		for j, v := range us {
			if i != j {
				if err := u.AddPeer(rt.PeerID(j), v.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return us
}

func TestGameOverUDP(t *testing.T) {
	for _, n := range []int{2, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			us := listenUDPPeers(t, n)
			res, err := rt.Run(realRun(n, 3, 1000, func(i int) Packets { return us[i] }))
			if err != nil {
				t.Fatal(err)
			}
			if res.InputsChecked < n*1000 || res.ChecksumsCompared < (n-1)*30 {
				t.Fatalf("checked too little: %d inputs, %d checksums", res.InputsChecked, res.ChecksumsCompared)
			}
		})
	}
}

func TestGameOverWebRTC(t *testing.T) {
	for _, n := range []int{2, 4, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			if n == 8 && testing.Short() {
				t.Skip("8 peers (28 PeerConnections) in -short mode")
			}
			frames := 1000
			if raceEnabled && n == 8 {
				frames = 300 // 28 PeerConnections under the race detector
			}
			meshes := connectAll(t, n, loopback, nil)
			defer closeAll(t, meshes)
			res, err := rt.Run(realRun(n, 5, frames, func(i int) Packets { return meshes[i] }))
			if err != nil {
				t.Fatal(err)
			}
			if res.InputsChecked < n*frames || res.ChecksumsCompared < (n-1)*(frames/30-1) {
				t.Fatalf("checked too little: %d inputs, %d checksums", res.InputsChecked, res.ChecksumsCompared)
			}
			for _, m := range meshes {
				for _, ps := range m.Stats() {
					if ps.InputDropped != 0 {
						t.Logf("peer %d: %+v", m.Self(), ps)
					}
				}
			}
		})
	}
}

// TestUDPReliableControl: control messages of up to a snapshot's size arrive
// whole and in order although a third of all datagrams are lost.
func TestUDPReliableControl(t *testing.T) {
	us := listenUDPPeers(t, 2)
	for _, u := range us {
		lost := 0 // one counter per transport: each is guarded by its own mutex
		u.mu.Lock()
		u.dropSend = func(b []byte) bool { lost++; return lost%3 == 0 }
		u.mu.Unlock()
	}
	sizes := []int{1, 1190, 1191, 5000, 300_000, 7}
	for k, n := range sizes {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(i*7 + k)
		}
		if err := us[0].Send(rt.PeerID(1), ChannelControl, msg); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for k := 0; k < len(sizes); {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d control messages arrived; stats %+v / %+v", k, len(sizes), us[0].Stats(), us[1].Stats())
		}
		from, ch, b, ok := us[1].Receive()
		if !ok {
			time.Sleep(time.Millisecond)
			continue
		}
		if from != rt.PeerID(0) || ch != ChannelControl || len(b) != sizes[k] || (len(b) > 0 && b[len(b)-1] != byte((len(b)-1)*7+k)) {
			t.Fatalf("message %d: from %d ch %v len %d", k, from, ch, len(b))
		}
		k++
	}
	if us[0].Stats().Retransmits == 0 {
		t.Fatal("no retransmission: the loss did not happen")
	}
}

// TestUDPStrangersAndGarbage: datagrams from unknown addresses and garbage
// from a known one are counted and dropped; the transport goes on.
func TestUDPStrangersAndGarbage(t *testing.T) {
	us := listenUDPPeers(t, 2)
	stranger, err := ListenUDP(UDPConfig{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	stranger.AddPeer(99, us[1].LocalAddr())
	stranger.Send(99, ChannelInput, []byte{0x92, 1, 2})
	for _, d := range [][]byte{{}, {udpAck, 1}, {udpFragment, 0, 0, 0, 0, 0, 9, 0, 3, 'x'}, {udpFragment, 0, 0, 0, 0, 0xff, 0xff, 0, 0}} {
		us[0].mu.Lock()
		us[0].writeLocked(netip.MustParseAddrPort(us[1].LocalAddr().String()), d)
		us[0].mu.Unlock()
	}
	us[0].Send(rt.PeerID(1), ChannelInput, []byte{0x91, 0x01})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, b, ok := us[1].Receive(); ok && len(b) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the good packet never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	st := us[1].Stats()
	if st.UnknownSource != 1 || st.Malformed < 3 {
		t.Fatalf("stats %+v", st)
	}
}
