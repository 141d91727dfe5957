//go:build !js

package delaynet_test

import (
	"fmt"
	"time"

	"github.com/lynnet/lyn/demo-game/internal/delaynet"
	"github.com/lynnet/lyn/netcode"
)

// A peer behind 80 ms of extra round trip, with up to 5 ms of jitter each
// way, for netcode.Join or netcode.Connect.
func ExampleNew() {
	slow, err := delaynet.New(delaynet.Config{RTT: 80 * time.Millisecond, Jitter: 5 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := netcode.Config{Net: slow, LoopbackOnly: true}
	fmt.Println(cfg.Net != nil, slow.Stats().Delayed)
	// Output: true 0
}
