package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lynnet/lyn/demo-game/sim"
	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

// brokenGame is the sim with state outside Save: a counter of Advance
// calls that, from call 100 on, turns every player's input into Dash.
// Re-simulating a frame then gives another state, which a sync-test must
// catch.
type brokenGame struct {
	*sim.Game
	calls int
}

func (b *brokenGame) Advance(inputs []rollback.PlayerInput[sim.Input]) {
	b.calls++
	if b.calls >= 100 {
		for i := range inputs {
			inputs[i].Input |= sim.Dash | sim.Left
		}
	}
	b.Game.Advance(inputs)
}

func TestSyncTestCatchesBrokenGame(t *testing.T) {
	g := &brokenGame{Game: sim.New(1, 2)}
	m, err := newSyncTest(g, g.Game, 0, 600, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; !m.done && i < 1000; i++ {
		if err := m.Tick(nil); err != nil {
			t.Fatal(err)
		}
	}
	var nd *rollback.NondeterminismError
	if !errors.As(m.err, &nd) {
		t.Fatalf("sync test of a broken game ended with %v, want a NondeterminismError", m.err)
	}
	if nd.Frame > 100 || !strings.Contains(m.HUD().Banner, "NOT DETERMINISTIC") || !m.HUD().Done {
		t.Fatalf("first bad frame %d, banner %q", nd.Frame, m.HUD().Banner)
	}
	t.Logf("caught: %v", m.err)
}

func TestSyncTestSeatReadsLocalInput(t *testing.T) {
	g := sim.New(3, 2)
	m, err := newSyncTest(g, g, 1, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range sim.CountdownFrames + 60 {
		if err := m.Tick([]sim.Input{sim.Right}); err != nil {
			t.Fatal(err)
		}
	}
	if m.err != nil || m.done || m.HUD().Local != 0 {
		t.Fatalf("err %v, done %v, local %d", m.err, m.done, m.HUD().Local)
	}
}

// record plays frames of a bot match into a replay and returns its bytes
// and the checksum of the state after the last frame.
func record(t *testing.T, players, frames int, meta []byte, corruptChecksum rollback.Frame) ([]byte, uint64) {
	t.Helper()
	var buf bytes.Buffer
	w, err := replay.NewWriter(&buf, sim.Codec{}, replay.Header{Players: players, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	g := sim.New(42, players)
	inputs := make([]rollback.PlayerInput[sim.Input], players)
	for f := range rollback.Frame(frames) {
		if f%30 == 0 {
			sum := g.Checksum()
			if f == corruptChecksum {
				sum ^= 1
			}
			w.RecordChecksum(f, sum)
		}
		for p := range inputs {
			inputs[p] = rollback.PlayerInput[sim.Input]{Input: sim.Bot(g, p)}
		}
		w.RecordFrame(f, inputs)
		g.Advance(inputs)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), g.Checksum()
}

func demoMeta(t *testing.T, players int) []byte {
	b, err := json.Marshal(replayMeta{Game: replayGameName, Seed: 42, Players: players})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func playAll(t *testing.T, m *replayMatch) {
	t.Helper()
	for i := 0; !m.done; i++ {
		if i > 100000 {
			t.Fatal("replay never ended")
		}
		if err := m.Tick(nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplayMatchVerifies(t *testing.T) {
	data, final := record(t, 3, 500, demoMeta(t, 3), -1)
	m, err := openReplay(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	playAll(t, m)
	if m.err != nil || m.frames != 500 || m.verified != 17 || m.game.Checksum() != final {
		t.Fatalf("err %v, %d frames, %d checksums verified, final %x want %x", m.err, m.frames, m.verified, m.game.Checksum(), final)
	}
	if h := m.HUD(); !h.Done || h.Frame != 500 || !strings.Contains(h.Banner, "17 checksums verified") {
		t.Fatalf("HUD %+v", h)
	}
}

func TestReplayMatchMismatch(t *testing.T) {
	data, _ := record(t, 2, 300, demoMeta(t, 2), 120)
	m, err := openReplay(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	playAll(t, m)
	var me *replay.MismatchError
	if !errors.As(m.err, &me) || me.Frame != 120 || m.frames != 120 {
		t.Fatalf("err %v after %d frames, want a mismatch at frame 120", m.err, m.frames)
	}
	if !strings.Contains(m.HUD().Banner, "stopped at frame 120") {
		t.Fatalf("banner %q", m.HUD().Banner)
	}
}

func TestOpenReplayRejects(t *testing.T) {
	foreign, _ := record(t, 2, 10, []byte(`{"game":"other"}`), -1)
	wrongPlayers, _ := record(t, 2, 10, demoMeta(t, 3), -1)
	for name, data := range map[string][]byte{
		"empty":         nil,
		"not a replay":  []byte("hello, world, this is not a replay file"),
		"foreign":       foreign,
		"wrong players": wrongPlayers,
	} {
		if _, err := openReplay(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

// FuzzOpenReplay: whatever the bytes, opening and playing a recording ends
// with a result or an error, never a panic or an endless loop.
func FuzzOpenReplay(f *testing.F) {
	good := func(players, frames int) []byte {
		var buf bytes.Buffer
		meta, _ := json.Marshal(replayMeta{Game: replayGameName, Seed: 7, Players: players})
		w, _ := replay.NewWriter(&buf, sim.Codec{}, replay.Header{Players: players, Metadata: meta})
		g := sim.New(7, players)
		in := make([]rollback.PlayerInput[sim.Input], players)
		for fr := range rollback.Frame(frames) {
			if fr%30 == 0 {
				w.RecordChecksum(fr, g.Checksum())
			}
			for p := range in {
				in[p].Input = sim.Bot(g, p)
			}
			w.RecordFrame(fr, in)
			g.Advance(in)
		}
		w.Close()
		return buf.Bytes()
	}
	f.Add(good(2, 90))
	f.Add(good(4, 10))
	f.Add([]byte(replay.Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := openReplay(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 0; !m.done; i++ {
			if i > 1<<20 {
				t.Fatal("replay of a small input never ended")
			}
			if err := m.Tick(nil); err != nil {
				t.Fatal(err)
			}
		}
		if m.err != nil && !errors.Is(m.err, replay.ErrCorrupt) && !errors.As(m.err, new(*replay.MismatchError)) && !errors.Is(m.err, io.ErrUnexpectedEOF) {
			t.Logf("replay error: %v", m.err)
		}
	})
}

func TestPlayerNames(t *testing.T) {
	got := strings.Join(playerNames([]string{"ann", "", "cy"}, 4), ",")
	if got != "ann,P2,cy,P4" {
		t.Fatalf("names %s", got)
	}
}

// TestConfirmedGame: the recorder follows the confirmed frames, takes the
// checksum at its target and passes everything on.
func TestConfirmedGame(t *testing.T) {
	var buf bytes.Buffer
	w, err := replay.NewWriter(&buf, sim.Codec{}, replay.Header{Players: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := &confirmedGame{game: sim.New(5, 2), next: w, target: 50}
	ref := sim.New(5, 2)
	in := make([]rollback.PlayerInput[sim.Input], 2)
	var want uint64
	for f := range rollback.Frame(80) {
		if f == 50 {
			want = ref.Checksum()
		}
		for p := range in {
			in[p].Input = sim.Bot(ref, p)
		}
		c.RecordChecksum(f, ref.Checksum())
		c.RecordFrame(f, in)
		ref.Advance(in)
	}
	if !c.reached || c.sum != want {
		t.Fatalf("reached %v, sum %x, want %x", c.reached, c.sum, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := replay.Play(bytes.NewReader(buf.Bytes()), sim.Codec{}, sim.New(5, 2))
	if err != nil || res.Frames != 80 || res.Checksums != 80 {
		t.Fatalf("the passed-on recording: %+v, %v", res, err)
	}
}

// TestNetMatchBanners: the session's events become the banners the window
// shows: waiting, a peer interrupted, back, gone, and a desync naming the
// frame (which stays).
func TestNetMatchBanners(t *testing.T) {
	m := &netMatch{names: []string{"you", "bot"}, firstDisconnect: rollback.NoFrame}
	step := func(events ...rollback.Event) string {
		m.ticks++
		m.events = events
		m.handleEvents()
		m.updateBanner()
		return m.banner
	}
	if b := step(rollback.Event{Kind: rollback.EventSynchronizing, Peer: 2}); b != "Waiting for bot…" {
		t.Fatalf("synchronizing: %q", b)
	}
	if b := step(rollback.Event{Kind: rollback.EventRunning}); b != "" {
		t.Fatalf("running: %q", b)
	}
	if b := step(rollback.Event{Kind: rollback.EventPeerInterrupted, Peer: 2, DisconnectIn: 1500 * time.Millisecond}); !strings.Contains(b, "bot's connection is interrupted") || !strings.Contains(b, "1.5 s") {
		t.Fatalf("interrupted: %q", b)
	}
	if b := step(rollback.Event{Kind: rollback.EventPeerResumed, Peer: 2}); b != "bot is back" {
		t.Fatalf("resumed: %q", b)
	}
	for range bannerTicks {
		step()
	}
	if m.banner != "" {
		t.Fatalf("the passing banner stayed: %q", m.banner)
	}
	if b := step(rollback.Event{Kind: rollback.EventPeerDisconnected, Peer: 2, Player: 1, Frame: 345}); b != "bot left at frame 345" || m.firstDisconnect != 345 {
		t.Fatalf("disconnected: %q, first %d", b, m.firstDisconnect)
	}
	de := &rollback.DesyncError{Frame: 600, Peer: 2, Local: 1, Remote: 2}
	if b := step(rollback.Event{Kind: rollback.EventDesync, Peer: 2, Frame: 600, Err: de}); b != "DESYNC at frame 600 with bot" || m.desyncs != 1 {
		t.Fatalf("desync: %q", b)
	}
	if b := step(rollback.Event{Kind: rollback.EventPeerResumed, Peer: 2}); b != "DESYNC at frame 600 with bot" {
		t.Fatalf("the desync banner did not stay: %q", b)
	}
}
