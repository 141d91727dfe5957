// Package signaling introduces lyn peers to each other; it never sees game traffic.
//
// A Server is an http.Handler speaking JSON over WebSocket (the protocol is in PROTOCOL.md,
// section Signaling, complete enough to write a browser or foreign-language client from).
// A room is a URL path: peers connect to ws://host/<room>?players=N, get a welcome (their
// peer id, the peers present, ICE servers, a resume token), see peer-joined and peer-left,
// and relay WebRTC offers, answers and trickled ICE candidates to one peer at a time as
// opaque signal payloads. When N players are in, every member gets start with the player
// order and a shared random seed; spectators may join before or after. A peer whose socket
// drops keeps its id and place for a grace period and may resume with its token; the others
// see peer-left only if it does not come back. Every resource a client can consume is
// bounded by a Config field (frame size, message rate, connections per IP, rooms, peers per
// room, timeouts, send queues), and /healthz and /metrics serve load balancers and
// Prometheus. Dial is the matching Go client (it also builds for GOOS=js GOARCH=wasm): Recv
// returns typed events, Send addresses a signal, and a dropped socket is resumed
// automatically. cmd/lyn-signal is the standalone server, with the embedded STUN/TURN relay
// of package relay.
//
// # More than one server
//
// A room lives in one process's memory; there is no cluster protocol. To run several
// instances, route by room: every connection for one path must reach the same instance,
// including resumes (they use the same path). Hash the request path at the load balancer,
// and keep /healthz for health checks. With HAProxy:
//
//	backend lyn_signal
//	    balance uri whole          # hash of the path (the room), query excluded
//	    hash-type consistent       # adding or removing a server moves few rooms
//	    option httpchk GET /healthz
//	    timeout tunnel 1h
//	    server s1 10.0.0.11:8080 check
//	    server s2 10.0.0.12:8080 check
//
// With nginx:
//
//	upstream lyn_signal {
//	    hash $uri consistent;
//	    server 10.0.0.11:8080;
//	    server 10.0.0.12:8080;
//	}
//	location / {
//	    proxy_pass http://lyn_signal;
//	    proxy_http_version 1.1;
//	    proxy_set_header Upgrade $http_upgrade;
//	    proxy_set_header Connection "upgrade";
//	    proxy_read_timeout 1h;
//	}
//
// Behind a proxy, set Config.ClientIP to read the proxy's X-Forwarded-For, or every client
// shares the proxy's address for MaxConnsPerIP. When an instance is removed, its rooms'
// peers see close status 1001 and must rejoin (their WebRTC connections, once up, do not
// depend on signaling). Shutdown (SIGTERM in lyn-signal) stops accepting, which fails the
// health check, and closes the instance's connections.
package signaling
