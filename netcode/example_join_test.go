//go:build !js

package netcode_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling"
)

// Two games meet in a room of a signaling server, connect over WebRTC and
// play until frame 120 is confirmed on both.
func ExampleJoin() {
	srv := signaling.NewServer(signaling.Config{})
	hs := httptest.NewServer(srv) // a real server, on loopback
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	room := "ws" + strings.TrimPrefix(hs.URL, "http") + "/example"

	var wg sync.WaitGroup
	results := make([]string, 2)
	for range 2 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := netcode.Join(ctx, netcode.JoinConfig[rollbacktest.Input]{
				URL:     room,
				Players: 2,
				Codec:   rollback.UintCodec[rollbacktest.Input]{},
				NewGame: func(seed uint64, players int) rollback.Game[rollbacktest.Input] {
					return rollbacktest.NewGame(players, seed)
				},
				Net: netcode.Config{LoopbackOnly: true}, // keep this example on this machine
			})
			if err != nil {
				fmt.Println(err)
				return
			}
			defer s.Close()
			for s.ConfirmedFrame() < 120 {
				s.AddLocalInput(s.LocalPlayer(), rollbacktest.Right)
				if err := s.AdvanceFrame(); err != nil && !rollback.IsWait(err) {
					fmt.Println(err)
					return
				}
				time.Sleep(time.Millisecond) // a real game waits s.TimeSync().FrameDuration
			}
			ns := s.NetStats()[0]
			results[s.LocalPlayer()] = fmt.Sprintf("player %d: confirmed 120 frames over a %s candidate pair", s.LocalPlayer(), ns.LocalCandidateType)
		})
	}
	wg.Wait()
	for _, r := range results {
		fmt.Println(r)
	}
	// Output:
	// player 0: confirmed 120 frames over a host candidate pair
	// player 1: confirmed 120 frames over a host candidate pair
}
