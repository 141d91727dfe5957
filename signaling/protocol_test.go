//go:build !js

package signaling

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestProtocolExamples checks every JSON example in PROTOCOL.md's Signaling section: each
// decodes, and the Go implementation encodes it back to exactly the same bytes.
func TestProtocolExamples(t *testing.T) {
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	text = text[strings.Index(text, "## Signaling"):]
	if i := strings.Index(text[3:], "\n## "); i >= 0 {
		text = text[:i+3]
	}
	var n int
	for _, block := range strings.Split(text, "```json ")[1:] {
		dir, rest, _ := strings.Cut(block, "\n")
		example := []byte(strings.TrimSpace(rest[:strings.Index(rest, "```")]))
		n++
		var got []byte
		switch dir {
		case "server":
			m, err := decodeServerMessage(example)
			if err != nil || m == nil {
				t.Errorf("%s: %v", example, err)
				continue
			}
			switch v := m.(type) {
			case *Welcome:
				got = encode(TypeWelcome, v)
			case *PeerJoined:
				got = encode(TypePeerJoined, v)
			case *PeerLeft:
				got = encode(TypePeerLeft, v)
			case *Signal:
				got = encode(TypeSignal, v)
			case *Start:
				got = encode(TypeStart, v)
			case *Error:
				got = encode(TypeError, v)
			}
		case "client":
			m, err := decodeClientMessage(example)
			if err != nil {
				t.Errorf("%s: %v", example, err)
				continue
			}
			switch m.Type {
			case TypeSignal:
				got, _ = encodeSignal(m.To, m.Data)
			case TypeLeave:
				got = encode(TypeLeave, struct{}{})
			}
		default:
			t.Errorf("unknown block direction %q", dir)
			continue
		}
		if !bytes.Equal(got, example) {
			t.Errorf("PROTOCOL.md example differs from the encoder:\ndoc:  %s\ncode: %s", example, got)
		}
	}
	if n < 8 {
		t.Fatalf("found only %d examples", n)
	}
}
