// Command lyn-signal is lyn's standalone signaling server, optionally with an embedded
// STUN/TURN relay.
//
//	go run ./signaling/cmd/lyn-signal -addr :8080
//	go run ./signaling/cmd/lyn-signal -addr :443 -cert cert.pem -key key.pem \
//	    -turn-addr :3478 -public-ip 203.0.113.7 -relay-ports 49152-65535 -turn-secret "$SECRET"
//
// Instead of (or besides) the embedded relay it can hand out external STUN/TURN servers,
// such as a coturn run with use-auth-secret and static-auth-secret=$COTURN_SECRET; their
// turn: URLs get time-limited credentials minted with that secret (relay.Credentials):
//
//	go run ./signaling/cmd/lyn-signal -addr :8080 \
//	    -ice-server stun:turn.example.com:3478 -ice-server turn:turn.example.com:3478 \
//	    -ice-server-secret "$COTURN_SECRET"
//
// It serves rooms on every path, /healthz and /metrics, and shuts down gracefully (exit
// code 0) on SIGINT or SIGTERM. Secrets may also come from the environment
// (LYN_TURN_SECRET, LYN_ICE_SERVER_SECRET, LYN_JOIN_SECRET) to keep them out of the
// process list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lynnet/lyn/signaling"
	"github.com/lynnet/lyn/signaling/relay"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lyn-signal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("lyn-signal", flag.ContinueOnError)
	var (
		addr       = fs.String("addr", ":8080", "HTTP/WebSocket listen address")
		certFile   = fs.String("cert", "", "TLS certificate file (with -key: serve wss/https)")
		keyFile    = fs.String("key", "", "TLS key file")
		logLevel   = fs.String("log-level", "info", "debug, info, warn or error")
		joinSecret = fs.String("join-secret", os.Getenv("LYN_JOIN_SECRET"), "if set, joining needs a token minted with this secret (env LYN_JOIN_SECRET)")
		origins    listFlag
		iceURLs    listFlag

		maxConnsPerIP = fs.Int("max-conns-per-ip", 0, "connections per client IP (0: default 32, <0: unlimited)")
		maxRooms      = fs.Int("max-rooms", 0, "rooms (0: default 10000)")
		maxPeers      = fs.Int("max-peers-per-room", 0, "players plus spectators per room (0: default 16)")
		maxMsg        = fs.Int64("max-message-bytes", 0, "largest WebSocket message (0: default 65536)")
		msgRate       = fs.Float64("rate", 0, "messages per second per connection (0: default 50)")
		msgBurst      = fs.Int("burst", 0, "message burst per connection (0: default 100)")
		grace         = fs.Duration("resume-grace", 0, "how long a dropped peer may resume (0: default 30s, <0: off)")
		idle          = fs.Duration("idle-timeout", 0, "close connections silent this long (0: default 30s)")
		handshake     = fs.Duration("handshake-timeout", 0, "bound on the HTTP upgrade (0: default 10s)")

		turnAddr   = fs.String("turn-addr", "", "UDP address of the embedded STUN/TURN server, e.g. :3478 (empty: none)")
		publicIP   = fs.String("public-ip", "", "public IPv4 of this host, advertised for STUN/TURN")
		relayPorts = fs.String("relay-ports", "", "UDP port range for TURN relays, min-max (default: ephemeral)")
		turnSecret = fs.String("turn-secret", os.Getenv("LYN_TURN_SECRET"), "TURN REST shared secret; enables TURN (env LYN_TURN_SECRET)")
		turnTTL    = fs.Duration("turn-ttl", 6*time.Hour, "lifetime of TURN credentials handed out in welcome")
		extSecret  = fs.String("ice-server-secret", os.Getenv("LYN_ICE_SERVER_SECRET"), "shared secret (coturn's static-auth-secret) of the turn: servers given with -ice-server (default: -turn-secret; env LYN_ICE_SERVER_SECRET)")
	)
	fs.Var(&origins, "allowed-origin", "allowed Origin host pattern (repeatable; none: any origin)")
	fs.Var(&iceURLs, "ice-server", "external STUN/TURN URL for the welcome, e.g. turn:turn.example:3478 (repeatable; turn: URLs get coturn REST credentials made with -ice-server-secret)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *extSecret == "" {
		*extSecret = *turnSecret
	}
	for _, u := range iceURLs {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			return fmt.Errorf("-ice-server %q: want a stun:, stuns:, turn: or turns: URL", u)
		}
		if isTURN(u) && *extSecret == "" {
			return fmt.Errorf("-ice-server %q: a TURN server needs -ice-server-secret (or -turn-secret) to mint credentials", u)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if (*certFile == "") != (*keyFile == "") {
		return errors.New("-cert and -key go together")
	}

	var rl *relay.Server
	var embedded []string
	if *turnAddr != "" {
		rcfg := relay.Config{ListenAddr: *turnAddr, Secret: []byte(*turnSecret), Logger: logger.With("component", "relay")}
		if *publicIP != "" {
			ip, err := netip.ParseAddr(*publicIP)
			if err != nil {
				return fmt.Errorf("-public-ip: %w", err)
			}
			rcfg.PublicIP = ip
		}
		if *relayPorts != "" {
			lo, hi, ok := strings.Cut(*relayPorts, "-")
			portMin, err1 := strconv.Atoi(lo)
			portMax, err2 := strconv.Atoi(hi)
			if !ok || err1 != nil || err2 != nil {
				return fmt.Errorf("-relay-ports: want min-max, got %q", *relayPorts)
			}
			rcfg.RelayPortMin, rcfg.RelayPortMax = portMin, portMax
		}
		var err error
		if rl, err = relay.Start(rcfg); err != nil {
			return fmt.Errorf("starting STUN/TURN: %w", err)
		}
		defer rl.Close()
		host := *publicIP
		raddr, _ := rl.Addr().(*net.UDPAddr)
		if host == "" && raddr != nil && !raddr.IP.IsUnspecified() {
			host = raddr.IP.String()
		}
		if host == "" {
			return errors.New("-turn-addr on all interfaces needs -public-ip to advertise")
		}
		port := 0
		if raddr != nil {
			port = raddr.Port
		}
		for _, u := range relay.ICEServerURLs(host, port) {
			if *turnSecret == "" && !strings.HasPrefix(u, "stun:") {
				continue // STUN only without a secret
			}
			embedded = append(embedded, u)
		}
		logger.Info("stun/turn listening", "addr", rl.Addr().String(), "turn", *turnSecret != "", "urls", embedded)
	}

	cfg := signaling.Config{
		AllowedOrigins:    origins,
		Logger:            logger,
		MaxConnsPerIP:     *maxConnsPerIP,
		MaxRooms:          *maxRooms,
		MaxPeersPerRoom:   *maxPeers,
		MaxMessageBytes:   *maxMsg,
		MessagesPerSecond: *msgRate,
		MessageBurst:      *msgBurst,
		ResumeGrace:       *grace,
		IdleTimeout:       *idle,
		HandshakeTimeout:  *handshake,
		ICEServers: iceServers([]iceGroup{
			{urls: embedded, secret: []byte(*turnSecret)},
			{urls: iceURLs, secret: []byte(*extSecret)},
		}, *turnTTL, time.Now),
	}
	if *joinSecret != "" {
		cfg.JoinSecret = []byte(*joinSecret)
	}
	srv := signaling.NewServer(cfg)
	hs := srv.HTTPServer(*addr)

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() {
		if *certFile != "" {
			served <- hs.ServeTLS(l, *certFile, *keyFile)
		} else {
			served <- hs.Serve(l)
		}
	}()
	logger.Info("listening", "addr", l.Addr().String(), "tls", *certFile != "")

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// Stop accepting first; hijacked WebSocket connections are the signaling server's.
	hsErr := hs.Shutdown(sctx)
	sigErr := srv.Shutdown(sctx)
	if rl != nil {
		rl.Close()
	}
	if err := errors.Join(hsErr, sigErr); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// iceGroup is a set of STUN/TURN URLs whose turn: URLs share a TURN REST secret.
type iceGroup struct {
	urls   []string
	secret []byte
}

func isTURN(u string) bool { return strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") }

// iceServers builds Config.ICEServers: one entry with every STUN URL, then one per group
// with its TURN URLs and fresh credentials for the peer (made with the group's secret,
// valid for ttl from now()). Nil when there is no URL at all.
func iceServers(groups []iceGroup, ttl time.Duration, now func() time.Time) func(string) []signaling.ICEServer {
	var stun []string
	var turn []iceGroup
	for _, g := range groups {
		var t []string
		for _, u := range g.urls {
			if isTURN(u) {
				t = append(t, u)
			} else {
				stun = append(stun, u)
			}
		}
		if len(t) > 0 {
			turn = append(turn, iceGroup{urls: t, secret: g.secret})
		}
	}
	if len(stun) == 0 && len(turn) == 0 {
		return nil
	}
	return func(peerID string) []signaling.ICEServer {
		var out []signaling.ICEServer
		if len(stun) > 0 {
			out = append(out, signaling.ICEServer{URLs: stun})
		}
		for _, g := range turn {
			s := signaling.ICEServer{URLs: g.urls}
			if len(g.secret) > 0 {
				s.Username, s.Credential = relay.Credentials(g.secret, peerID, ttl, now())
			}
			out = append(out, s)
		}
		return out
	}
}
