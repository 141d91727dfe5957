//go:build !js

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lynnet/lyn/demo-game/web"
	"github.com/lynnet/lyn/signaling"
	"github.com/lynnet/lyn/signaling/relay"
)

// signalPath is where the signaling server's rooms are (web.DefaultSignalPath).
const signalPath = web.DefaultSignalPath

// serverConfig says how to run the in-process signaling server and relay.
type serverConfig struct {
	// Addr is the TCP address of the signaling server (and of the web page).
	Addr string
	// RelayAddr is the UDP address of the STUN/TURN relay ("" for none).
	RelayAddr string
	// PublicIP is advertised for STUN/TURN; zero: RelayAddr's IP.
	PublicIP netip.Addr
	// Secret enables TURN (random when nil).
	Secret []byte
	// LoopbackPeers lets the relay relay to loopback addresses: the
	// embedded game's peers are all on this machine.
	LoopbackPeers bool
	// Web serves every path outside signalPath (nil: 404).
	Web    http.Handler
	Logger *slog.Logger
}

// server is a running signaling server with its relay.
type server struct {
	sig     *signaling.Server
	hs      *http.Server
	rl      *relay.Server
	addr    net.Addr // the signaling server's TCP address
	iceURLs []string // the relay's STUN and TURN URLs as advertised
	served  chan error
}

// startServer starts the signaling server and the relay.
func startServer(cfg serverConfig) (*server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Secret == nil {
		cfg.Secret = randomSecret()
	}
	s := &server{served: make(chan error, 1)}
	scfg := signaling.Config{Logger: cfg.Logger.With("component", "signaling")}
	if cfg.RelayAddr != "" {
		rcfg := relay.Config{ListenAddr: cfg.RelayAddr, PublicIP: cfg.PublicIP, Secret: cfg.Secret, Logger: cfg.Logger}
		if cfg.LoopbackPeers {
			rcfg.AllowPeer = func(a netip.Addr) bool { return a.IsLoopback() || relay.PublicPeersOnly(a) }
		}
		rl, err := relay.Start(rcfg)
		if err != nil {
			return nil, fmt.Errorf("starting STUN/TURN on %s: %w", cfg.RelayAddr, err)
		}
		s.rl = rl
		host := cfg.PublicIP.String()
		ua, _ := rl.Addr().(*net.UDPAddr)
		if !cfg.PublicIP.IsValid() && ua != nil {
			host = ua.IP.String()
		}
		port := 0
		if ua != nil {
			port = ua.Port
		}
		s.iceURLs = relay.ICEServerURLs(host, port)
		secret := cfg.Secret
		scfg.ICEServers = func(peerID string) []signaling.ICEServer {
			var out []signaling.ICEServer
			for _, u := range s.iceURLs {
				is := signaling.ICEServer{URLs: []string{u}}
				if strings.HasPrefix(u, "turn") {
					is.Username, is.Credential = relay.Credentials(secret, peerID, 12*time.Hour, time.Now())
				}
				out = append(out, is)
			}
			return out
		}
	}
	s.sig = signaling.NewServer(scfg)
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.closeRelay()
		return nil, err
	}
	s.addr = l.Addr()
	s.hs = s.sig.HTTPServer(cfg.Addr)
	mux := http.NewServeMux()
	// Rooms are /signal/<room>, as the browser page expects.
	mux.Handle(signalPath, http.StripPrefix(strings.TrimSuffix(signalPath, "/"), s.sig))
	if cfg.Web != nil {
		mux.Handle("/", cfg.Web)
	}
	s.hs.Handler = mux
	go func() { s.served <- s.hs.Serve(l) }()
	return s, nil
}

// roomURL returns the ws:// URL of room, dialed at host (the server's own
// address when host is "").
func (s *server) roomURL(host, room string) string {
	_, port, _ := net.SplitHostPort(s.addr.String())
	if host == "" {
		host = "127.0.0.1"
		if ta, ok := s.addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
			host = ta.IP.String()
		}
	}
	return "ws://" + net.JoinHostPort(host, port) + signalPath + room
}

func (s *server) port() int {
	ta, _ := s.addr.(*net.TCPAddr)
	if ta == nil {
		return 0
	}
	return ta.Port
}

// relayPort is the relay's UDP port (0 without a relay).
func (s *server) relayPort() int {
	if s.rl == nil {
		return 0
	}
	ua, _ := s.rl.Addr().(*net.UDPAddr)
	if ua == nil {
		return 0
	}
	return ua.Port
}

func (s *server) closeRelay() error {
	if s.rl == nil {
		return nil
	}
	return s.rl.Close()
}

// Close stops the server, its connections and the relay.
func (s *server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := errors.Join(s.hs.Shutdown(ctx), s.sig.Shutdown(ctx))
	if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, s.closeRelay())
}

func randomSecret() []byte {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return []byte(hex.EncodeToString(b))
}

// publicIPv4 guesses the address friends reach this machine at: the first
// global or private IPv4 address of an interface that is up (no packet is
// sent to find out).
func publicIPv4() (netip.Addr, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return netip.Addr{}, err
	}
	var private netip.Addr
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			pn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(pn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			if !ip.Is4() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
				continue
			}
			if !ip.IsPrivate() {
				return ip, nil
			}
			if !private.IsValid() {
				private = ip
			}
		}
	}
	if private.IsValid() {
		return private, nil
	}
	return netip.Addr{}, errors.New("no IPv4 address on any interface: give -public-ip")
}

// relayAddrFor is the relay's UDP address for a -host TCP address: the
// same host and port.
func relayAddrFor(hostAddr string) (string, error) {
	h, p, err := net.SplitHostPort(hostAddr)
	if err != nil {
		return "", err
	}
	if _, err := strconv.Atoi(p); err != nil {
		return "", fmt.Errorf("port %q: %w", p, err)
	}
	return net.JoinHostPort(h, p), nil
}

// waitPeers returns once the signaling server holds at least n peers, or
// ctx ends. The embedded server is this process's own, so its count is the
// room's.
func (s *server) waitPeers(ctx context.Context, n int) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for s.sig.Stats().Peers < n {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
