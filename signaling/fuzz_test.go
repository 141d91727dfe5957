//go:build !js

package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func FuzzDecodeClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"signal","to":"0123456789abcdef","data":{"type":"offer","sdp":"v=0\r\n"}}`,
		`{"type":"signal","to":"a","data":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0"}}`,
		`{"type":"leave"}`, `{"type":"signal","to":"a","data":null}`, `{"type":7}`, `{}`, `[]`, `"x"`,
		`{"type":"signal","to":"a","data":"\ud800"}`, `{"type":"signal","to":"a","data":1e999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeClientMessage(data)
		if err != nil {
			var de *decodeError
			if !errors.As(err, &de) || de.Reason == "" || (de.Code != CodeBadMessage && de.Code != CodeUnknownType) {
				t.Fatalf("error %v is not a decodeError with a reason", err)
			}
			return
		}
		if m.Type != TypeSignal {
			return
		}
		// What the server relays must be valid JSON that a client decodes back to the same.
		out := encode(TypeSignal, Signal{From: "p", Data: m.Data})
		if !json.Valid(out) {
			t.Fatalf("relayed frame is not JSON: %q", out)
		}
		got, err := decodeServerMessage(out)
		if err != nil {
			t.Fatalf("client cannot decode relayed %q: %v", out, err)
		}
		s := got.(*Signal)
		var want bytes.Buffer
		json.Compact(&want, m.Data)
		if s.From != "p" || !bytes.Equal(s.Data, want.Bytes()) {
			t.Fatalf("round trip changed data: %q -> %q", m.Data, s.Data)
		}
	})
}

func FuzzDecodeServerMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"welcome","version":1,"id":"a","room":"r","role":"player","players":2,"peers":[{"id":"b","role":"player"}],"iceServers":[{"urls":["stun:127.0.0.1:3478"]}],"resumeToken":"t","resumed":false}`,
		`{"type":"start","order":["a","b"],"seed":"18446744073709551615"}`,
		`{"type":"start","order":["a","b"],"seed":18446744073709551615}`,
		`{"type":"peer-joined","peer":{"id":"c","role":"spectator"}}`, `{"type":"peer-left","id":"c"}`,
		`{"type":"signal","from":"a","data":{}}`, `{"type":"error","code":"room-full","message":"x","fatal":true}`,
		`{"type":"future"}`, `{"type":"peer-joined","peer":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeServerMessage(data)
		if err != nil {
			if !errors.Is(err, ErrBadServerMessage) {
				t.Fatalf("error %v does not wrap ErrBadServerMessage", err)
			}
			return
		}
		switch v := m.(type) {
		case nil:
		case *Welcome:
			if v.ID == "" {
				t.Fatal("welcome without id accepted")
			}
		case *PeerJoined:
			if v.Peer.ID == "" {
				t.Fatal("peer-joined without id accepted")
			}
		case *Signal:
			if v.From == "" || !json.Valid(v.Data) {
				t.Fatal("bad signal accepted")
			}
		}
	})
}

func TestJoinTokenRoundTrip(t *testing.T) {
	// Covered end to end in TestLimitJoinTokens; this pins the format.
	tok := MintJoinToken([]byte("k"), "room", timeUnix(1_900_000_000))
	if err := VerifyJoinToken([]byte("k"), "room", tok, timeUnix(1_899_999_999)); err != nil {
		t.Fatal(err)
	}
	if err := VerifyJoinToken([]byte("k"), "room", tok, timeUnix(1_900_000_000)); !errors.Is(err, ErrJoinTokenExpired) {
		t.Fatalf("at expiry: %v", err)
	}
	if !bytes.HasPrefix([]byte(tok), []byte("1900000000.")) {
		t.Fatalf("format: %s", tok)
	}
}
