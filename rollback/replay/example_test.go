package replay_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/rollback/replay"
)

// counter is a minimal deterministic game: its state is one number.
type counter struct{ n uint8 }

func (c *counter) Save(dst []byte) []byte { return append(dst, c.n) }
func (c *counter) Load(s []byte) error {
	if len(s) != 1 {
		return errors.New("counter: bad state")
	}
	c.n = s[0]
	return nil
}
func (c *counter) Advance(in []rollback.PlayerInput[uint8]) {
	for _, i := range in {
		c.n += i.Input
	}
}

func ExamplePlay() {
	codec := rollback.UintCodec[uint8]{}
	var file bytes.Buffer

	// Record: a session would call RecordFrame and RecordChecksum itself
	// when the Writer is its Config.Recorder.
	w, err := replay.NewWriter(&file, codec, replay.Header{Players: 2, Metadata: []byte("counter 1.0")})
	if err != nil {
		panic(err)
	}
	game := &counter{}
	for f := range rollback.Frame(90) {
		if f > 0 && f%30 == 0 {
			sum, _ := rollback.ChecksumOf(game, nil)
			w.RecordChecksum(f, sum) // the state at f, before f's inputs
		}
		in := []rollback.PlayerInput[uint8]{{Input: 1}, {Input: uint8(f % 3)}}
		w.RecordFrame(f, in)
		game.Advance(in)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	// Play it back on a fresh game.
	res, err := replay.Play(bytes.NewReader(file.Bytes()), codec, &counter{})
	fmt.Printf("%s: %d frames, %d checksums verified, err=%v\n", res.Header.Metadata, res.Frames, res.Checksums, err)

	// A game that behaves differently is caught at the first checksum.
	_, err = replay.Play(bytes.NewReader(file.Bytes()), codec, &counter{n: 1})
	var m *replay.MismatchError
	if errors.As(err, &m) {
		fmt.Println("mismatch at frame", m.Frame)
	}
	// Output:
	// counter 1.0: 90 frames, 2 checksums verified, err=<nil>
	// mismatch at frame 30
}

func ExampleReader() {
	codec := rollback.UintCodec[uint8]{}
	var file bytes.Buffer
	w, _ := replay.NewWriter(&file, codec, replay.Header{Players: 1})
	w.RecordFrame(0, []rollback.PlayerInput[uint8]{{Input: 4}})
	w.RecordChecksum(1, 0xfeed)
	w.RecordFrame(1, []rollback.PlayerInput[uint8]{{Status: rollback.Disconnected}})
	w.Close()

	r, err := replay.NewReader(&file, codec)
	if err != nil {
		panic(err)
	}
	for {
		frame, inputs, err := r.Next()
		if err != nil { // io.EOF at the end
			break
		}
		if f, sum, ok := r.Checksum(); ok {
			fmt.Printf("state at frame %d: checksum %x\n", f, sum)
		}
		fmt.Printf("frame %d: %v\n", frame, inputs)
	}
	// Output:
	// frame 0: [{4 confirmed}]
	// state at frame 1: checksum feed
	// frame 1: [{0 disconnected}]
}
