//go:build !js

package netcode

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestSignalJSON(t *testing.T) {
	mid, idx := "0", uint16(0)
	for _, s := range []Signal{
		{Kind: SignalOffer, SDP: "v=0\r\n"},
		{Kind: SignalAnswer, SDP: "v=0\r\n"},
		{Kind: SignalCandidate, Candidate: &webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", SDPMid: &mid, SDPMLineIndex: &idx}},
		{Kind: SignalOffer, SDP: "v=0\r\n", Restart: 2},
		{Kind: SignalRestart, Restart: 1},
	} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Signal
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		b2, _ := json.Marshal(back)
		if string(b) != string(b2) {
			t.Errorf("round trip changed %s into %s", b, b2)
		}
		t.Logf("%s", b)
	}
	// A browser's candidate JSON, as a signaling server relays it.
	var s Signal
	in := `{"kind":"candidate","candidate":{"candidate":"candidate:842163049 1 udp 1677729535 1.2.3.4 3478 typ srflx raddr 0.0.0.0 rport 0","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}`
	if err := json.Unmarshal([]byte(in), &s); err != nil || s.Kind != SignalCandidate || *s.Candidate.UsernameFragment != "abcd" {
		t.Fatalf("browser candidate: %+v %v", s, err)
	}
	// The restart messages of PROTOCOL.md, exactly.
	for in, want := range map[string]string{
		`{"kind":"offer","sdp":"v=0\r\n","restart":2}`: "",
		`{"kind":"restart","restart":1}`:               "",
		`{"kind":"candidate","candidate":{"candidate":"candidate:1 1 udp 2130706431 10.0.0.3 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null},"restart":2}`: "",
	} {
		var s Signal
		if err := json.Unmarshal([]byte(in), &s); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, _ := json.Marshal(s)
		if want == "" {
			want = in
		}
		if string(out) != want {
			t.Errorf("%s encodes as %s", in, out)
		}
	}
	if err := json.Unmarshal([]byte(`{"kind":"bogus"}`), &s); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := json.Marshal(Signal{}); err == nil {
		t.Error("zero kind marshaled")
	}
}

// TestHostileSignals feeds a Connect malformed and unexpected signals: it
// must not panic, must ignore what is harmless, and must fail the peer
// whose offer is garbage, naming it.
func TestHostileSignals(t *testing.T) {
	hub := NewMemorySignaling()
	evil := hub.Signaler(1) // peer 1 offers to 2 and lies
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range []Signal{
		{Kind: SignalCandidate}, // end of candidates: ignored
		{Kind: SignalCandidate, Candidate: &webrtc.ICECandidateInit{Candidate: "candidate:garbage"}}, // held, then ignored
		{Kind: 99},                       // unknown kind: ignored
		{Kind: SignalAnswer, SDP: "v=0"}, // answer to an answerer: peer fails
	} {
		if err := evil.Send(ctx, 2, s); err != nil {
			t.Fatal(err)
		}
	}
	_ = hub.Signaler(3).Send(ctx, 2, Signal{Kind: SignalOffer, SDP: "x"}) // not a peer of this mesh: ignored
	m, err := Connect(ctx, 2, []PeerID{1, 2}, hub.Signaler(2), loopback)
	if m != nil {
		m.Close()
		t.Fatal("connected")
	}
	var ce *ConnectError
	if !errors.As(err, &ce) || len(ce.Failed) != 1 || ce.Failed[0].Peer != 1 || ce.Failed[0].Err == nil ||
		!strings.Contains(err.Error(), "unexpected answer") {
		t.Fatalf("err = %v", err)
	}

	// A garbage offer fails the peer the same way.
	hub = NewMemorySignaling()
	if err := hub.Signaler(1).Send(ctx, 2, Signal{Kind: SignalOffer, SDP: "not sdp \x00\xff"}); err != nil {
		t.Fatal(err)
	}
	m, err = Connect(ctx, 2, []PeerID{1, 2}, hub.Signaler(2), loopback)
	if m != nil {
		m.Close()
		t.Fatal("connected")
	}
	if !errors.As(err, &ce) || ce.Failed[0].Peer != 1 || !strings.Contains(err.Error(), "set remote offer") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

// FuzzSignalJSON decodes arbitrary signaling payloads as a Signaler built
// on a WebSocket server would: no panic, and whatever decodes encodes
// again and decodes to the same Signal (kind, restart number, peer, SDP).
func FuzzSignalJSON(f *testing.F) {
	f.Add([]byte(`{"kind":"offer","sdp":"v=0\r\n","restart":2}`))
	f.Add([]byte(`{"kind":"restart","restart":1}`))
	f.Add([]byte(`{"kind":"answer","sdp":"v=0","peer":1001}`))
	f.Add([]byte(`{"kind":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0","sdpMLineIndex":0},"restart":4294967295}`))
	f.Add([]byte(`{"kind":"restart","restart":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Signal
		if json.Unmarshal(b, &s) != nil || s.Kind == 0 {
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("decoded %+v from %q but cannot encode it: %v", s, b, err)
		}
		var back Signal
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s does not decode: %v", out, err)
		}
		if back.Kind != s.Kind || back.Restart != s.Restart || back.Peer != s.Peer || back.SDP != s.SDP {
			t.Fatalf("round trip changed %+v into %+v", s, back)
		}
	})
}
