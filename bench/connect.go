//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/lynnet/lyn/signaling"
)

// connectTick is how often each peer's loop calls AdvanceFrame while it
// waits for the session to run. A 60 Hz game would tick every 16.7 ms and
// so notice the start up to a frame later; this measures lyn, not the frame.
const connectTick = time.Millisecond

// connectTrial is one trial's times, from the first Join call.
type connectTrial struct {
	joined  time.Duration // both Join calls returned (signaling, WebRTC up)
	running time.Duration // both sessions' AdvanceFrame advanced a frame
	webrtc  time.Duration // offerer's CreateOffer to both channels open (Timeline)
}

func runConnect(trials int) bool {
	fmt.Printf("## Connect through the signaling server on loopback, 2 peers, %d trials\n\n", trials)
	srv := signaling.NewServer(signaling.Config{})
	hs := httptest.NewServer(srv) // 127.0.0.1:0
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	base := "ws" + strings.TrimPrefix(hs.URL, "http")
	var res []connectTrial
	var firstErr error
	failed := 0
	deadline := time.Now().Add(90 * time.Second)
	for i := 0; i < trials && time.Now().Before(deadline); i++ {
		tr, err := connectOnce(fmt.Sprintf("%s/bench-connect-%d", base, i))
		if err != nil {
			failed++
			firstErr = cmpOr(firstErr, err)
			continue
		}
		res = append(res, tr)
	}
	if len(res) == 0 {
		fmt.Printf("every trial failed: %v\n\n", firstErr)
		return false
	}
	pct := func(get func(connectTrial) time.Duration) (p50, p90, worst float64) {
		ds := make([]float64, len(res))
		for i, r := range res {
			ds[i] = float64(get(r).Microseconds()) / 1e3
		}
		slices.Sort(ds)
		at := func(q float64) float64 { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
		return at(0.5), at(0.9), ds[len(ds)-1]
	}
	fmt.Println("| from the first Join call to | p50 ms | p90 ms | max ms | goal | result |")
	fmt.Println("|---|---|---|---|---|---|")
	p50, p90, worst := pct(func(r connectTrial) time.Duration { return r.running })
	fmt.Printf("| first input exchanged: both sessions advance (no ErrNotSynchronized) | %.1f | %.1f | %.1f | p50 < 25 ms | %s |\n", p50, p90, worst, passMiss(p50 < 25))
	p50, p90, worst = pct(func(r connectTrial) time.Duration { return r.joined })
	fmt.Printf("| both Join calls returned (room full, WebRTC channels open) | %.1f | %.1f | %.1f | | |\n", p50, p90, worst)
	p50, p90, worst = pct(func(r connectTrial) time.Duration { return r.webrtc })
	fmt.Printf("| (part of it) WebRTC alone: offer created → both channels open | %.1f | %.1f | %.1f | | |\n", p50, p90, worst)
	fmt.Println()
	fmt.Printf("%d trials succeeded, %d failed", len(res), failed)
	if firstErr != nil {
		fmt.Printf(" (first error: %v)", firstErr)
	}
	fmt.Printf(". Each peer's loop ticks every %v until both run.\n\n", connectTick)
	return failed == 0
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// connectOnce joins two peers to a fresh room and ticks both sessions until
// both have advanced a frame.
func connectOnce(url string) (connectTrial, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		wg       sync.WaitGroup
		sessions [2]*netcode.Session[rt.Input]
		errs     [2]error
		joined   [2]time.Duration
		running  [2]time.Duration
		nRunning atomic.Int32
	)
	input := rt.ReferenceInput(3)
	start := time.Now()
	for i := range sessions {
		wg.Go(func() {
			s, err := netcode.Join(ctx, netcode.JoinConfig[rt.Input]{
				URL: url, Players: 2, Codec: inputCodec,
				NewGame: func(seed uint64, players int) rollback.Game[rt.Input] { return rt.NewGame(players, seed) },
				Net:     netcode.Config{LoopbackOnly: true},
			})
			if err != nil {
				errs[i] = err
				return
			}
			sessions[i] = s
			joined[i] = time.Since(start)
			var events []rollback.Event
			for nRunning.Load() < 2 {
				p := s.LocalPlayer()
				err := s.AddLocalInput(p, input(p, s.Frame()+rollback.Frame(s.InputDelay())))
				if err == nil || rollback.IsWait(err) {
					err = s.AdvanceFrame()
				}
				events = s.Events(events[:0])
				switch {
				case err == nil:
					if running[i] == 0 {
						running[i] = time.Since(start)
						nRunning.Add(1)
					}
				case !rollback.IsWait(err):
					errs[i] = err
					return
				}
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
					return
				}
				time.Sleep(connectTick)
			}
		})
	}
	wg.Wait()
	var tr connectTrial
	if err := errors.Join(errs[:]...); err == nil {
		tr = connectTrial{joined: max(joined[0], joined[1]), running: max(running[0], running[1])}
		tr.webrtc = offerToOpen(sessions[0], sessions[1])
	}
	for _, s := range sessions {
		if s != nil {
			s.Close()
		}
	}
	return tr, errors.Join(errs[:]...)
}

// offerToOpen is the WebRTC part: from the offerer's Timeline.Start to the
// later of the two sides' ChannelsOpen.
func offerToOpen(a, b *netcode.Session[rt.Input]) time.Duration {
	sa, sb := a.NetStats(), b.NetStats()
	if len(sa) != 1 || len(sb) != 1 {
		return 0
	}
	ta, tb := sa[0].Timeline, sb[0].Timeline
	if tb.Start.Before(ta.Start) {
		ta, tb = tb, ta // ta is the offerer's: it starts first
	}
	return max(ta.ChannelsOpen, tb.Start.Add(tb.ChannelsOpen).Sub(ta.Start))
}
