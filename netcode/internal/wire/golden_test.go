package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lynnet/lyn/rollback"
	"github.com/vmihailenco/msgpack/v5"
)

// The golden examples of PROTOCOL.md, by the name after "```hex golden:".
// Inputs are uint16 through rollback.UintCodec (2 bytes, little-endian).
type goldenCase struct {
	msg      *rollback.Message[uint16] // an engine message, or
	perFrame int
	ctl      *Control // a control message, or
	err      error    // the error decoding must give
}

var goldenCases = map[string]goldenCase{
	"sync":    {msg: &rollback.Message[uint16]{Kind: rollback.KindSync, Fingerprint: 0x0123456789abcdef}},
	"goodbye": {msg: &rollback.Message[uint16]{Kind: rollback.KindGoodbye}},
	"input": {perFrame: 1, msg: &rollback.Message[uint16]{
		Kind: rollback.KindInput, Frame: 5000, Ack: 5001,
		Inputs: []uint16{0x0005, 0x0005, 0x0007, 0x0007},
		Status: []rollback.PlayerStatus{{LastFrame: 5003}, {LastFrame: 5001}},
	}},
	"input-all": {perFrame: 1, msg: &rollback.Message[uint16]{
		Kind: rollback.KindInput, Frame: 70000, Ack: 69998,
		Inputs:  []uint16{0x0100},
		Status:  []rollback.PlayerStatus{{LastFrame: 69998}, {LastFrame: 70000}, {LastFrame: 69950, Disconnected: true}},
		HasPing: true, PingTime: 1166_500 * time.Millisecond, PingFrame: 70003, Advantage: -1.5,
		HasPong: true, PongTime: 1166_480_250 * time.Microsecond, PongHold: 2_125 * time.Microsecond,
		HasChecksum: true, ChecksumFrame: 69960, Checksum: 0xfedcba9876543210,
	}},
	"input-spectator": {perFrame: 2, msg: &rollback.Message[uint16]{
		Kind: rollback.KindInput, Frame: 0, Ack: rollback.NoFrame,
		Inputs: []uint16{
			0x0000, 0x0000,
			0x0000, 0x0000,
			0x0301, 0x0000,
			0x0301, 0x0000,
			0x0301, 0x0010,
			0x0301, 0x0010,
		},
		Status: []rollback.PlayerStatus{{LastFrame: 100}, {LastFrame: 100}},
	}},
	"input-ack": {perFrame: 0, msg: &rollback.Message[uint16]{
		Kind: rollback.KindInput, Frame: 0, Ack: 1234,
	}},
	"snapshot": {msg: &rollback.Message[uint16]{Kind: rollback.KindSnapshot, Frame: 600, State: []byte("lyn state")}},
	"hello": {ctl: &Control{Type: TypeHello, Hello: Hello{
		Session: 0x5eed, Peer: 2, Players: []rollback.PeerID{1, 2}, App: "pong 1.0",
	}}},
	"bye": {ctl: &Control{Type: TypeBye, Bye: Bye{Code: ByeVersion, Reason: "version 2, want 1"}}},
	"ice-offer": {ctl: &Control{Type: TypeICERestart, ICERestart: ICERestart{
		Kind: ICEOffer, SDP: "v=0\r\n",
	}}},
	"ice-candidate": {ctl: &Control{Type: TypeICERestart, ICERestart: ICERestart{
		Kind: ICECandidate, SDP: "candidate:1 1 udp 2130706431 10.0.0.7 50000 typ host",
	}}},
	"error-version":      {err: ErrVersion},
	"error-unknown-type": {err: ErrUnknownType},
	"error-inputs":       {err: ErrMalformed},
}

type golden struct {
	name  string
	bytes []byte
}

// protocolPath is PROTOCOL.md, from this package's directory.
const protocolPath = "../../../PROTOCOL.md"

// readGoldens extracts every "```hex golden:NAME" block of PROTOCOL.md's
// "## Peer wire format" section:
// hex digits, with whitespace and "#" comments to the end of a line ignored.
func readGoldens() ([]golden, error) {
	doc, err := os.ReadFile(protocolPath)
	if err != nil {
		return nil, err
	}
	var out []golden
	var cur *golden
	var digits strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(doc))
	inSection := false
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if cur == nil && strings.HasPrefix(text, "## ") {
			inSection = text == "## Peer wire format"
			continue
		}
		if !inSection {
			continue // other sections (signaling) have their own tests
		}
		if cur == nil {
			if name, ok := strings.CutPrefix(text, "```hex golden:"); ok {
				cur = &golden{name: strings.TrimSpace(name)}
				digits.Reset()
			}
			continue
		}
		if strings.HasPrefix(text, "```") {
			b, err := hex.DecodeString(digits.String())
			if err != nil {
				return nil, fmt.Errorf("PROTOCOL.md: golden %s ending line %d: %v", cur.name, line, err)
			}
			cur.bytes = b
			out = append(out, *cur)
			cur = nil
			continue
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		digits.WriteString(strings.Join(strings.Fields(text), ""))
	}
	if cur != nil {
		return nil, fmt.Errorf("PROTOCOL.md: golden %s not closed", cur.name)
	}
	return out, sc.Err()
}

func mustGoldens(t testing.TB) []golden {
	t.Helper()
	g, err := readGoldens()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGolden(t *testing.T) {
	goldens := mustGoldens(t)
	seen := map[string]bool{}
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			if seen[g.name] {
				t.Fatalf("golden %s appears twice in PROTOCOL.md", g.name)
			}
			seen[g.name] = true
			want, ok := goldenCases[g.name]
			if !ok {
				t.Fatalf("PROTOCOL.md has golden %s, the test does not know it", g.name)
			}
			checkGeneric(t, g.bytes, want.err == nil)
			switch {
			case want.err != nil:
				c := newCodec(t)
				var m rollback.Message[uint16]
				_, err := c.DecodeMessage(g.bytes, &m)
				errc := want.err
				if want.err != ErrMalformed {
					errc = DecodeControl(g.bytes, &Control{})
				}
				if !errors.Is(err, want.err) || !errors.Is(errc, want.err) {
					t.Fatalf("decoding gives %v and %v, want %v", err, errc, want.err)
				}
			case want.msg != nil:
				c := newCodec(t)
				got, frames, err := c.AppendMessage(nil, want.msg, want.perFrame)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, g.bytes) {
					t.Fatalf("encode:\n got %x\nwant %x (PROTOCOL.md)", got, g.bytes)
				}
				if want.perFrame > 0 && frames*want.perFrame != len(want.msg.Inputs) {
					t.Fatalf("encoded %d frames", frames)
				}
				var m rollback.Message[uint16]
				n, err := c.DecodeMessage(g.bytes, &m)
				if err != nil {
					t.Fatal(err)
				}
				if n != want.perFrame || !sameMessage(&m, want.msg) {
					t.Fatalf("decode: %d per frame, %+v\nwant %d, %+v", n, m, want.perFrame, *want.msg)
				}
				typ, err := Peek(g.bytes)
				if err != nil || typ != Type(want.msg.Kind) || !typ.Engine() {
					t.Fatalf("Peek: %v, %v", typ, err)
				}
			default:
				got, err := AppendControl(nil, want.ctl)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, g.bytes) {
					t.Fatalf("encode:\n got %x\nwant %x (PROTOCOL.md)", got, g.bytes)
				}
				var c Control
				if err := DecodeControl(g.bytes, &c); err != nil {
					t.Fatal(err)
				}
				if !sameControl(&c, want.ctl) {
					t.Fatalf("decode: %+v\nwant %+v", c, *want.ctl)
				}
				typ, err := Peek(g.bytes)
				if err != nil || typ != want.ctl.Type || typ.Engine() {
					t.Fatalf("Peek: %v, %v", typ, err)
				}
			}
		})
	}
	for name := range goldenCases {
		if !seen[name] {
			t.Errorf("golden %s is missing from PROTOCOL.md", name)
		}
	}
}

// checkGeneric decodes a packet with a general msgpack library: it must be
// exactly one array (nothing after it) whose first two elements are
// unsigned integers, version and type.
func checkGeneric(t *testing.T, b []byte, wantVersion1 bool) {
	t.Helper()
	r := bytes.NewReader(b)
	dec := msgpack.NewDecoder(r)
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not msgpack: %v", err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes after the msgpack value", r.Len())
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 2 {
		t.Fatalf("not an array of version, type, …: %#v", v)
	}
	ver, ok1 := asUint(arr[0])
	typ, ok2 := asUint(arr[1])
	if !ok1 || !ok2 || (wantVersion1 && ver != Version) {
		t.Fatalf("version, type = %#v, %#v", arr[0], arr[1])
	}
	if !wantVersion1 {
		return
	}
	// The element counts of PROTOCOL.md's table of types.
	want := map[Type]int{TypeSync: 3, TypeSnapshot: 4, TypeGoodbye: 2, TypeHello: 6, TypeBye: 4, TypeICERestart: 4}[Type(typ)]
	if Type(typ) == TypeInput {
		flags, _ := asUint(arr[2])
		want = 9 + int(flags&1+flags>>1&1+flags>>2&1)
		if _, ok := arr[7].([]byte); !ok {
			t.Fatalf("inputs are %T, want bin", arr[7])
		}
		for _, g := range arr[9:] {
			if _, ok := g.([]any); !ok {
				t.Fatalf("optional group is %T, want array", g)
			}
		}
	}
	if len(arr) != want {
		t.Fatalf("%d elements, want %d", len(arr), want)
	}
	t.Logf("msgpack: %v", v)
}

func asUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case int8:
		return uint64(x), x >= 0
	case uint8:
		return uint64(x), true
	case int16:
		return uint64(x), x >= 0
	case uint16:
		return uint64(x), true
	case int32:
		return uint64(x), x >= 0
	case uint32:
		return uint64(x), true
	case int64:
		return uint64(x), x >= 0
	case uint64:
		return x, true
	}
	return 0, false
}

// TestDumpGoldens prints every golden message's packet, one msgpack element
// a line, for writing PROTOCOL.md: WIRE_DUMP=1 go test -run DumpGoldens -v
func TestDumpGoldens(t *testing.T) {
	if os.Getenv("WIRE_DUMP") == "" {
		t.Skip("set WIRE_DUMP=1")
	}
	for name, g := range goldenCases {
		var b []byte
		if g.msg != nil {
			b, _, _ = newCodec(t).AppendMessage(nil, g.msg, g.perFrame)
		} else if g.ctl != nil {
			b, _ = AppendControl(nil, g.ctl)
		} else {
			continue
		}
		fmt.Printf("```hex golden:%s\n", name)
		r := reader{b: b}
		r.arrayLen("")
		fmt.Printf("%x\n", b[:r.off])
		for r.off < len(b) {
			start := r.off
			skipValue(&r)
			fmt.Printf("%x\n", b[start:r.off])
		}
		fmt.Printf("```\n\n")
	}
}

// skipValue skips one scalar, bin, str, or a whole array of scalars.
func skipValue(r *reader) {
	c := r.b[r.off]
	switch {
	case c&0xf0 == 0x90 || c == 0xdc:
		n := r.arrayLen("")
		for range n {
			skipValue(r)
		}
	case c >= 0xc4 && c <= 0xc6:
		r.bin("", 1<<30)
	case c&0xe0 == 0xa0 || (c >= 0xd9 && c <= 0xdb):
		r.str("", 1<<30)
	case c == 0xca || c == 0xcb:
		r.float32("")
	case c == 0xc2 || c == 0xc3:
		r.bool("")
	default:
		r.int("")
	}
}
