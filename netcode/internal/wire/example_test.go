package wire_test

import (
	"errors"
	"fmt"

	"github.com/lynnet/lyn/netcode/internal/wire"
	"github.com/lynnet/lyn/rollback"
)

// Buttons is a game's input: one bit per button.
type Buttons uint16

func Example() {
	codec, err := wire.NewCodec[Buttons](rollback.UintCodec[Buttons]{})
	if err != nil {
		panic(err)
	}

	// The engine asks to send the inputs of frames 5000–5003 (this peer hosts
	// one player) with an acknowledgement and every player's status.
	out := rollback.Message[Buttons]{
		Kind: rollback.KindInput, Frame: 5000, Ack: 5001,
		Inputs: []Buttons{5, 5, 7, 7},
		Status: []rollback.PlayerStatus{{LastFrame: 5003}, {LastFrame: 5001}},
	}
	buf := make([]byte, 0, wire.MaxPacketSize) // reused for every packet
	packet, frames, err := codec.AppendMessage(buf, &out, 1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d frames in %d bytes: % x\n", frames, len(packet), packet)

	// The receiver decodes it into a message it reuses.
	var in rollback.Message[Buttons]
	perFrame, err := codec.DecodeMessage(packet, &in)
	switch {
	case errors.Is(err, wire.ErrVersion):
		fmt.Println("tell the peer (Bye code ByeVersion) and the game:", err)
	case errors.Is(err, wire.ErrUnknownType):
		// ignore and count
	case err != nil:
		// drop and count
	default:
		fmt.Println(in.Kind, in.Frame, in.Inputs, perFrame, "per frame, ack", in.Ack, in.Status)
	}
	// Output:
	// 4 frames in 20 bytes: 99 01 02 00 cd 13 88 01 01 04 c4 05 00 05 82 00 02 92 00 04
	// input 5000 [5 5 7 7] 1 per frame, ack 5001 [{5003 false} {5001 false}]
}

func ExampleDecodeControl() {
	hello, _ := wire.AppendControl(nil, &wire.Control{Type: wire.TypeHello, Hello: wire.Hello{
		Session: 0x5eed, Peer: 2, Players: []rollback.PeerID{1, 2}, App: "pong 1.0",
	}})
	// The control channel carries control messages and snapshots: Peek
	// says which decoder to use.
	typ, err := wire.Peek(hello)
	if err != nil || typ.Engine() {
		return // a snapshot: give it to Codec.DecodeMessage
	}
	var c wire.Control
	if err := wire.DecodeControl(hello, &c); err != nil {
		panic(err)
	}
	fmt.Println(c.Type, c.Hello.Peer, c.Hello.Players, c.Hello.App)
	// Output: hello 2 [1 2] pong 1.0
}
