// Package relay is lyn's embedded STUN server and TURN relay, the part of
// lyn-signal that gets peers through NATs. Start serves STUN binding requests
// (so peers learn their public address) and, when Config.Secret is set, TURN
// allocations over UDP (so peers that cannot reach each other directly relay
// through the server). TURN users authenticate with short-lived credentials
// in the TURN REST API scheme: the signaling server, which shares the secret,
// mints them with Credentials and hands them out in its welcome message
// together with ICEServerURLs; nothing else is stored or exchanged. The
// server enforces server-wide and per-user allocation limits, a hard cap on
// allocation lifetime and a peer policy (by default no relaying to loopback,
// private or link-local addresses, nor to the server's own port), logs
// through log/slog (SlogLoggerFactory adapts pion's logger), and Close stops
// every goroutine it started. The TURN machinery is github.com/pion/turn;
// this package configures and guards it. Relays are IPv4 and UDP only (no
// TURN over TCP/TLS yet).
//
// # Using an external coturn instead
//
// The credentials are the ones coturn accepts with its shared-secret mode, so
// lyn-signal can hand out credentials for a separately run coturn
// (-ice-server turn:host:3478 -ice-server-secret <secret>; lyn-signal's
// TestCoturnE2E proves it against Debian's coturn). In turnserver.conf:
//
//	use-auth-secret
//	static-auth-secret=<the secret given to Credentials (lyn-signal's -ice-server-secret)>
//	realm=lyn
//	listening-port=3478
//	external-ip=<public IP>          # when behind 1:1 NAT, like PublicIP
//	min-port=49152                   # like RelayPortMin/RelayPortMax
//	max-port=65535
//	user-quota=32                    # like MaxAllocationsPerUser
//	total-quota=1024                 # like MaxAllocations
//	fingerprint
//	no-tcp-relay
//	no-multicast-peers               # like PublicPeersOnly, with:
//	denied-peer-ip=0.0.0.0-0.255.255.255
//	denied-peer-ip=10.0.0.0-10.255.255.255
//	denied-peer-ip=100.64.0.0-100.127.255.255
//	denied-peer-ip=127.0.0.0-127.255.255.255
//	denied-peer-ip=169.254.0.0-169.254.255.255
//	denied-peer-ip=172.16.0.0-172.31.255.255
//	denied-peer-ip=192.168.0.0-192.168.255.255
//
// coturn checks username = "<unix-expiry>:<user>" and password =
// base64(HMAC-SHA1(secret, username)) exactly as Credentials builds them
// (":" is coturn's default rest-api-separator). The realm is announced by
// the server in its 401 challenge and is not part of the password, so the
// clients need not know it in advance.
package relay
