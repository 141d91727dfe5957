// Package netcode carries a game's packets between peers over WebRTC data
// channels (pion).
//
// Connect builds a Mesh: one pion PeerConnection per remote peer, set up
// through a Signaler (a WebSocket signaling client, the in-memory
// MemorySignaling for tests, or a game's own lobby) with trickle ICE; of
// the peers given to Connect, the one with the lower PeerID offers. With
// Config.AcceptPeer a Mesh goes on reading its Signaler after Connect and
// accepts peers that arrive later (they offer). Each pair shares two data
// channels, neither costing an open round trip: ChannelInput (unordered, no
// retransmissions) for inputs and everything repeated until acknowledged,
// opened in band by the offerer, which sends at once (pion applies those
// options only to channels opened in band); and ChannelControl (reliable,
// ordered), pre-negotiated. Connect returns once every channel is usable.
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
//
// # Reconnecting
//
// A Mesh reads its Signaler until Close, because a broken path needs it.
// ICE checks each pair's path every 250 ms; after
// Config.ICEDisconnectedTimeout (1 s) of silence the path is interrupted
// (PeerStats.Interruptions). A path that comes back within
// Config.ICERestartAfter (another second) resumes by itself; otherwise the
// pair restarts ICE through the Signaler (the offering side offers, the
// other asks it to; Signal.Restart numbers the negotiations so overtaken
// ones are ignored), gathering candidates anew, so a peer that moved to
// another network is found at its new address. The data channels and
// their SCTP association live on: nothing sent on the control channel is
// lost, and the game's session sees the silence as EventPeerInterrupted
// and EventPeerResumed (or, past its DisconnectTimeout, disconnects the
// peer at a frame every peer agrees on). SCTP's retransmission timer is
// capped at 500 ms so traffic resumes soon after ICE does: a session
// resumes ~0.5 s after a 1.25 s cut ends and ~0.8 s after a 4 s cut (which
// needs a restart) ends (TestVNetReconnectAfterCut). Link.Restart restarts
// on demand. Restarts cannot ride the path they replace (restarting ICE
// drops it at once), so once the signaling server is gone a broken path
// cannot be restarted: the game goes on over the paths that work,
// Mesh.SignalingErr says why, and each restart it would have made is
// reported as a PeerError wrapping ErrSignalingGone (Mesh.Errors,
// Session.PeerErrors). PeerStats.Restarts and LastRestart count and time
// the restarts, RestartAttempts the negotiations begun. Restarts repeat
// every Config.ICERestartTimeout (5 s) until the path is back, the
// signaling server says the peer left, or the session gives up on the
// peer: Join's Session then ends its Link (Link.Disconnect), closing the
// PeerConnection and ignoring the peer's signals
// (TestVNetGivenUpPeerNotRestarted).
//
// Join and JoinSpectator do all of it from a room URL on a lyn signaling
// server: players get a running rollback session over a full mesh,
// spectators a rollback spectator.
//
// # Spectators
//
// A spectator watches a game without playing in it: JoinSpectator joins
// the room with ?role=spectator, before or after the game started, and
// makes one WebRTC connection, to the host: the first player in the start
// order (PeerID 1, HostID). The other players never see it. The host
// streams it every confirmed input, starting with a snapshot of the game if
// it joined late; the spectator then runs up to
// SpectatorSession.CatchUpSpeed frames per tick (default 8) until Live, and
// compares its state checksums with the host's as it goes. The host's
// engine must know its spectators' PeerIDs from the start, so the host
// reserves MaxSpectators of them (default 4: PeerIDs 1001 to 1004) in
// Session.Spectators; the first signal of an arriving spectator takes a
// free one (round robin) and the host's answer tells the spectator which
// (Spectator.ID). The spectator offers, unlike players, where the lower
// PeerID offers: only it knows when it arrives. When the signaling server
// reports a spectator gone, its connection is closed and its id freed.
// When every slot is taken the host ignores further spectators, whose
// JoinSpectator then fails when its context ends. The host keeps the
// signaling connection open (and read) for the whole game; if the host
// leaves, its spectators stop (EventPeerInterrupted), they do not move to
// another player.
package netcode
