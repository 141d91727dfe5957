// Package netcode carries a game's packets between peers over WebRTC data
// channels (pion).
//
// Connect builds a Mesh: one pion PeerConnection per remote peer, set up
// through a Signaler (a WebSocket signaling client, the in-memory
// MemorySignaling for tests, or a game's own lobby) with trickle ICE; the
// peer with the lower PeerID offers. Each pair shares two pre-negotiated
// data channels, so no in-band open round trip is needed: ChannelInput
// (unordered, no retransmissions) for inputs and everything repeated until
// acknowledged, and ChannelControl (reliable, ordered). Connect returns
// once every channel is open.
//
// Sending (Link.SendInput, Link.SendControl, Mesh.Send) never blocks.
// Received packets are copied on pion's goroutines into bounded queues that
// the game goroutine drains with Mesh.Receive, also without blocking; when
// a queue is full new packets are dropped and counted in PeerStats. Nothing
// from pion's goroutines touches game state.
//
// Config's zero value uses lyn's tuned pion settings (candidate acceptance
// without waiting, a 100 ms DTLS retransmission timer, no DTLS
// HelloVerify round trip, SCTP zero checksum and SNAP); over a network with
// 100 ms round trips that connects in 4.5 round trips where pion's
// defaults take 7 (TestVNetConnectRoundTrips). Config.Net accepts a pion
// vnet for simulated networks; Config.LoopbackOnly keeps tests on "lo".
//
// The package also builds for js/wasm, where pion wraps the browser's
// RTCPeerConnection: the tuning, Net, interface and logging hooks and the
// round-trip statistics are native-only there (the browser decides).
package netcode
