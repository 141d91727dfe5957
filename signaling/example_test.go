//go:build !js

package signaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/lynnet/lyn/signaling"
)

// Two peers meet in room "duel", get the same start, and one sends the other an offer.
func ExampleDial() {
	srv := signaling.NewServer(signaling.Config{}) // zero value: sensible defaults
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/duel"

	ctx := context.Background()
	alice, err := signaling.Dial(ctx, url, signaling.ClientConfig{Players: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer alice.Close()
	bob, err := signaling.Dial(ctx, url, signaling.ClientConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bob.Close()

	for {
		ev, _ := bob.Recv(ctx)
		if start, ok := ev.(*signaling.Start); ok {
			fmt.Println("players:", len(start.Order), "bob is player", indexOf(start.Order, bob.ID()))
			break
		}
	}
	alice.Send(ctx, bob.ID(), json.RawMessage(`{"type":"offer","sdp":"v=0..."}`))
	for {
		ev, _ := bob.Recv(ctx)
		if sig, ok := ev.(*signaling.Signal); ok {
			fmt.Println("from alice:", sig.From == alice.ID(), string(sig.Data))
			break
		}
	}
	// Output:
	// players: 2 bob is player 1
	// from alice: true {"type":"offer","sdp":"v=0..."}
}

func indexOf(order []signaling.PeerID, id signaling.PeerID) int {
	for i, p := range order {
		if p == id {
			return i
		}
	}
	return -1
}
