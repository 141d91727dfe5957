package relay

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/pion/transport/v5"
)

// Defaults applied to zero-valued Config fields.
const (
	DefaultListenAddr            = ":3478"
	DefaultRealm                 = "lyn"
	DefaultMaxAllocations        = 1024
	DefaultMaxAllocationsPerUser = 32
	DefaultMaxAllocationLifetime = 4 * time.Hour
)

// Config configures a Server. The zero value is a STUN-only server on UDP
// :3478; setting Secret (and, when listening on all interfaces, PublicIP)
// turns on the TURN relay. Every field's zero value is a documented default.
type Config struct {
	// ListenAddr is the UDP address ("host:port") STUN and TURN listen on.
	// Default ":3478", all IPv4 interfaces. Port 0 picks a free port; see
	// Server.Addr. Only IPv4 is supported for now.
	ListenAddr string

	// PublicIP is the IPv4 address advertised to clients as their relayed
	// address (XOR-RELAYED-ADDRESS), i.e. the address peers send to. It must
	// be reachable by the peers, so behind a 1:1 NAT (a cloud VM) set it to
	// the public IP. If unset, the IP ListenAddr is bound to is used; if that
	// is unspecified (":3478", "0.0.0.0:3478") and Secret is set, Start fails
	// with ErrPublicIPRequired. Ignored in STUN-only mode.
	PublicIP netip.Addr

	// RelayPortMin and RelayPortMax bound the UDP ports of relay sockets
	// (inclusive). Both zero (the default) lets the OS choose ephemeral ports;
	// otherwise both must be set with 1 ≤ RelayPortMin ≤ RelayPortMax ≤ 65535.
	// Relay sockets are bound to ListenAddr's IP if it is specific, else to
	// all IPv4 interfaces.
	RelayPortMin, RelayPortMax int

	// Realm is the TURN realm (default "lyn"). Clients learn it from the
	// server; requests naming another realm are refused.
	Realm string

	// Secret is the shared secret of the TURN REST credential scheme; see
	// Credentials. Nil or empty means STUN only: binding requests are
	// answered, TURN requests get 400 Bad Request. The slice is copied by
	// Start and never logged.
	Secret []byte

	// Logger receives the server's logs and pion's (through
	// SlogLoggerFactory). Nil discards them.
	Logger *slog.Logger

	// MaxAllocations caps live relay allocations on the whole server
	// (default 1024; negative means no limit). Beyond it Allocate requests
	// get 508 (Insufficient Capacity).
	MaxAllocations int

	// MaxAllocationsPerUser caps live allocations per credential user (the
	// part after the colon in the username), default 32 — a WebRTC peer in a
	// mesh holds one allocation per PeerConnection, plus stragglers after
	// ICE restarts. Negative means no limit. Beyond it Allocate requests get
	// 486 (Allocation Quota Reached).
	MaxAllocationsPerUser int

	// MaxAllocationLifetime is a hard cap on how long one allocation may
	// live, refreshes included (default 4h; negative means no cap). When it
	// is reached the relay socket is closed and the allocation deleted.
	// Independently, refreshes need valid credentials, so an allocation
	// also ends at most one TURN lifetime (10 min by default, ≤ 1 h as the
	// client asks) after its credentials expire.
	MaxAllocationLifetime time.Duration

	// AllowPeer decides which peer IPs TURN clients may relay to; it is
	// consulted on CreatePermission and ChannelBind (false → 403 Forbidden).
	// Nil means PublicPeersOnly, which keeps the relay from being used to
	// reach loopback, private-network or link-local services (such as cloud
	// metadata at 169.254.169.254) next to the server. The relay's own
	// advertised IP is always allowed, so relay-to-relay traffic works; its
	// STUN/TURN port is never a valid destination.
	AllowPeer func(peer netip.Addr) bool

	// Now is the clock used to check credential expiry (nil means
	// time.Now). Timers (allocation lifetime, cap) use the real clock.
	Now func() time.Time

	// Net is the network the listening socket and the relay sockets are
	// opened on (pion's transport.Net): a vnet.Net puts the server on a
	// simulated network, next to peers behind simulated NATs. Nil: the
	// operating system's network.
	Net transport.Net
}

// withDefaults returns a copy of c with defaults filled in and validated.
func (c Config) withDefaults() (Config, error) {
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxAllocations == 0 {
		c.MaxAllocations = DefaultMaxAllocations
	}
	if c.MaxAllocationsPerUser == 0 {
		c.MaxAllocationsPerUser = DefaultMaxAllocationsPerUser
	}
	if c.MaxAllocationLifetime == 0 {
		c.MaxAllocationLifetime = DefaultMaxAllocationLifetime
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AllowPeer == nil {
		c.AllowPeer = PublicPeersOnly
	}
	c.Secret = append([]byte(nil), c.Secret...)

	if (c.RelayPortMin == 0) != (c.RelayPortMax == 0) {
		return c, fmt.Errorf("%w: set both RelayPortMin and RelayPortMax, or neither", ErrInvalidConfig)
	}
	if c.RelayPortMin != 0 && (c.RelayPortMin < 1 || c.RelayPortMax > 65535 || c.RelayPortMin > c.RelayPortMax) {
		return c, fmt.Errorf("%w: relay port range %d-%d", ErrInvalidConfig, c.RelayPortMin, c.RelayPortMax)
	}
	if c.PublicIP.IsValid() {
		c.PublicIP = c.PublicIP.Unmap()
		if !c.PublicIP.Is4() || c.PublicIP.IsUnspecified() {
			return c, fmt.Errorf("%w: PublicIP %v must be a specific IPv4 address", ErrInvalidConfig, c.PublicIP)
		}
	}
	return c, nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// PublicPeersOnly is the default Config.AllowPeer policy. It refuses
// addresses that are not globally routable unicast: unspecified, loopback,
// private (10/8, 172.16/12, 192.168/16, fc00::/7), carrier-grade NAT
// (100.64/10), link-local, multicast, 0/8 and the IPv4 broadcast address.
// Deployments on a LAN that need relaying to private addresses can pass
// their own policy.
func PublicPeersOnly(peer netip.Addr) bool {
	peer = peer.Unmap()
	switch {
	case !peer.IsValid(), peer.IsUnspecified(), peer.IsLoopback(), peer.IsPrivate(),
		peer.IsLinkLocalUnicast(), peer.IsLinkLocalMulticast(), peer.IsInterfaceLocalMulticast(),
		peer.IsMulticast(), cgnat.Contains(peer):
		return false
	case peer.Is4():
		b := peer.As4()
		return b[0] != 0 && peer != netip.AddrFrom4([4]byte{255, 255, 255, 255})
	default:
		return true
	}
}
