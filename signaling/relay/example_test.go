package relay_test

import (
	"fmt"
	"log"
	"net"
	"time"

	"github.com/lynnet/lyn/signaling/relay"
)

// Credentials are deterministic given the secret, user, ttl and clock, and
// match what coturn's use-auth-secret mode expects.
func ExampleCredentials() {
	secret := []byte("north-wind")
	issued := time.Unix(1_700_000_000, 0).Add(-time.Hour)
	username, password := relay.Credentials(secret, "alice", time.Hour, issued)
	fmt.Println(username)
	fmt.Println(password)
	for _, u := range relay.ICEServerURLs("turn.example.com", 3478) {
		fmt.Println(u)
	}
	// Output:
	// 1700000000:alice
	// Oko4dt8u/EbTRjRUJWQDFm/zTCc=
	// stun:turn.example.com:3478
	// turn:turn.example.com:3478?transport=udp
}

// A signaling server starts the relay next to itself and hands every peer
// the URLs and fresh credentials in its welcome message.
func ExampleStart() {
	secret := []byte("shared with nobody but the signaling server")
	srv, err := relay.Start(relay.Config{
		ListenAddr: "127.0.0.1:0", // production: ":3478" plus PublicIP
		Secret:     secret,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	port := srv.Addr().(*net.UDPAddr).Port
	urls := relay.ICEServerURLs("127.0.0.1", port)
	username, password := relay.Credentials(secret, "peer-42", 10*time.Minute, time.Now())

	// Build the signaling package's ICEServer{URLs, Username, Credential}
	// from these; here just check their shape.
	user, err := relay.CheckCredentials(secret, username, password, time.Now())
	fmt.Println(len(urls), user, err)
	// Output: 2 peer-42 <nil>
}
