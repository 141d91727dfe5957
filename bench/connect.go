//go:build !js

package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
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
	offer   time.Duration // offerer's CreateOffer to first input exchanged
}

// ConnectRow is one tuning's connect times, in milliseconds.
type ConnectRow struct {
	Tuning string `json:"tuning"` // "lyn" or "pion-defaults"
	Trials int    `json:"trials"`
	Failed int    `json:"failed"`
	// Running: from the first Join call until both sessions have advanced
	// a frame (first input exchanged). Joined: both Join calls returned.
	// WebRTC: the offerer's CreateOffer to both channels open.
	Running Dist `json:"first_input_ms"`
	Joined  Dist `json:"joined_ms"`
	WebRTC  Dist `json:"webrtc_ms"`
	// OfferToInput: the offerer's CreateOffer until both sessions advanced.
	OfferToInput Dist   `json:"offer_to_first_input_ms"`
	Err          string `json:"error,omitempty"`
}

// measureConnect joins two peers to fresh rooms trials times, bounded by
// budget, with lyn's tuning or pion's stock timings.
func measureConnect(sig *signalServer, trials int, pionTimings bool, budget time.Duration) ConnectRow {
	row := ConnectRow{Tuning: "lyn"}
	if pionTimings {
		row.Tuning = "pion-defaults"
	}
	var running, joined, webrtcT, offer []float64
	deadline := time.Now().Add(budget)
	for i := 0; i < trials && time.Now().Before(deadline); i++ {
		tr, err := connectOnce(sig.newRoom("connect"), netcode.Config{LoopbackOnly: true, PionTimings: pionTimings})
		row.Trials++
		if err != nil {
			row.Failed++
			if row.Err == "" {
				row.Err = err.Error()
			}
			continue
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
		running = append(running, ms(tr.running))
		joined = append(joined, ms(tr.joined))
		webrtcT = append(webrtcT, ms(tr.webrtc))
		offer = append(offer, ms(tr.offer))
	}
	row.Running, row.Joined, row.WebRTC = summarize(running), summarize(joined), summarize(webrtcT)
	row.OfferToInput = summarize(offer)
	return row
}

// connectOnce joins two peers to a fresh room and ticks both sessions until
// both have advanced a frame.
func connectOnce(url string, netCfg netcode.Config) (connectTrial, error) {
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
				Net:     netCfg,
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
		var offerAt time.Time
		tr.webrtc, offerAt = offerToOpen(sessions[0], sessions[1])
		if !offerAt.IsZero() {
			tr.offer = tr.running - offerAt.Sub(start)
		}
	}
	for _, s := range sessions {
		if s != nil {
			s.Close()
		}
	}
	return tr, errors.Join(errs[:]...)
}

// offerToOpen is the WebRTC part: from the offerer's Timeline.Start (also
// returned) to the later of the two sides' ChannelsOpen.
func offerToOpen(a, b *netcode.Session[rt.Input]) (time.Duration, time.Time) {
	sa, sb := a.NetStats(), b.NetStats()
	if len(sa) != 1 || len(sb) != 1 {
		return 0, time.Time{}
	}
	ta, tb := sa[0].Timeline, sb[0].Timeline
	if tb.Start.Before(ta.Start) {
		ta, tb = tb, ta // ta is the offerer's: it starts first
	}
	return max(ta.ChannelsOpen, tb.Start.Add(tb.ChannelsOpen).Sub(ta.Start)), ta.Start
}
