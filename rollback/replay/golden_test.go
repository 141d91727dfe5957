package replay_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

// goldenHex is the replay FORMAT.md dissects: 2 players, 1-byte inputs
// (rollback.UintCodec[uint8]), 60 fps, metadata "demo", 3 frames, and the
// checksum 0x0123456789abcdef of the state at frame 2.
const goldenHex = `
4c594e5245504c59 0100 02 01 3c00 04000000 64656d6f 671938e5
42 00000000 0300 0100 15000000 6d46f585 e5ef033b
  02 efcdab8967452301
  02 00 05 01 00 07
  02 00 00 01 02 00
45 03000000 be4455c8
`

func goldenReplay(t *testing.T) []byte {
	var buf bytes.Buffer
	w, err := replay.NewWriter(&buf, rollback.UintCodec[uint8]{}, replay.Header{Players: 2, Metadata: []byte("demo")})
	if err != nil {
		t.Fatal(err)
	}
	c, d := rollback.Confirmed, rollback.Disconnected
	w.RecordFrame(0, []rollback.PlayerInput[uint8]{{Input: 5, Status: c}, {Input: 0, Status: c}})
	w.RecordFrame(1, []rollback.PlayerInput[uint8]{{Input: 5, Status: c}, {Input: 0, Status: c}})
	w.RecordChecksum(2, 0x0123456789abcdef)
	w.RecordFrame(2, []rollback.PlayerInput[uint8]{{Input: 7, Status: c}, {Input: 0, Status: d}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	got := goldenReplay(t)
	want, err := hex.DecodeString(strings.Join(strings.Fields(goldenHex), ""))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("golden replay changed:\n got %x\nwant %x", got, want)
	}
	// FORMAT.md shows the same bytes, laid out the same way.
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), strings.TrimSpace(goldenHex)) {
		t.Fatalf("FORMAT.md does not contain the golden replay:\n%s", strings.TrimSpace(goldenHex))
	}
	// And it reads back.
	r, err := replay.NewReader(bytes.NewReader(got), rollback.UintCodec[uint8]{})
	if err != nil {
		t.Fatal(err)
	}
	for f := rollback.Frame(0); f < 3; f++ {
		gf, in, err := r.Next()
		if err != nil || gf != f {
			t.Fatalf("Next() = %d, %v, %v", gf, in, err)
		}
		if sf, sum, ok := r.Checksum(); ok != (f == 2) || ok && (sf != 2 || sum != 0x0123456789abcdef) {
			t.Fatalf("frame %d: Checksum() = %d, %x, %v", f, sf, sum, ok)
		}
	}
}
