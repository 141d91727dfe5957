package netcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/signaling"
	"github.com/pion/webrtc/v4"
)

// JoinConfig says which room to join and how to play in it. Zero values are
// defaults except for URL, Codec and NewGame.
type JoinConfig[I comparable] struct {
	// URL is the room on a lyn signaling server, e.g.
	// "ws://localhost:8080/duel" (wss:// for TLS).
	URL string
	// Players is the room's size, 2 to 8 (default 2).
	Players int
	// JoinToken is needed when the server gates rooms (signaling.MintJoinToken).
	JoinToken string
	// Codec encodes inputs for the wire, e.g. rollback.UintCodec[Buttons]{}.
	Codec rollback.InputCodec[I]
	// NewGame makes the game once the room has started: seed is shared by
	// every peer, players is the number of players.
	NewGame func(seed uint64, players int) rollback.Game[I]
	// Session is the template of the rollback session (input delay,
	// prediction window, recorder, clock...); Join sets Players and Self.
	Session rollback.Config[I]
	// Net configures WebRTC. The ICE servers the signaling server hands out
	// (its STUN/TURN, with short-lived credentials) are added to
	// Net.ICEServers.
	Net Config
	// Logger receives netcode's logs (default: discard).
	Logger *slog.Logger
}

// Session is a game session over WebRTC: a rollback.Session (all its
// methods are promoted) plus the connections under it.
type Session[I comparable] struct {
	*rollback.Session[I]
	transport *Transport[I]
	mesh      *Mesh
	client    *signaling.Client
	seed      uint64
	player    rollback.Player
	start     time.Time
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// Join joins the room at cfg.URL, waits until it is full, connects to every
// other player over WebRTC and returns the running session. Drive it once per
// tick: AddLocalInput(s.LocalPlayer(), in), AdvanceFrame(), Events().
func Join[I comparable](ctx context.Context, cfg JoinConfig[I]) (*Session[I], error) {
	if cfg.URL == "" || cfg.Codec == nil || cfg.NewGame == nil {
		return nil, fmt.Errorf("%w: JoinConfig needs URL, Codec and NewGame", ErrInvalidConfig)
	}
	if cfg.Players == 0 {
		cfg.Players = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Net.Logger == nil {
		cfg.Net.Logger = cfg.Logger
	}
	client, err := signaling.Dial(ctx, cfg.URL, signaling.ClientConfig{Players: cfg.Players, JoinToken: cfg.JoinToken, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignaling, err)
	}
	start, err := waitStart(ctx, client)
	if err != nil {
		client.Close()
		return nil, err
	}
	self := slices.Index(start.Order, client.ID())
	if self < 0 {
		client.Close()
		return nil, fmt.Errorf("%w: this peer (%s) is not in the start order", ErrSignaling, client.ID())
	}
	// Players are numbered by their place in the start order: every peer
	// derives the same ids. PeerID 0 is avoided so that it means "nobody".
	ids := make([]PeerID, len(start.Order))
	for i := range ids {
		ids[i] = PeerID(i + 1)
	}
	netCfg := cfg.Net
	for _, s := range client.Welcome().ICEServers {
		netCfg.ICEServers = append(netCfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	sig := &clientSignaler{client: client, order: start.Order}
	mesh, err := Connect(ctx, ids[self], ids, sig, netCfg)
	if err != nil {
		client.Close()
		return nil, err
	}
	tr, err := NewTransport(mesh, cfg.Codec, cfg.Logger)
	if err != nil {
		mesh.Close()
		client.Close()
		return nil, err
	}
	rc := cfg.Session
	rc.Players, rc.Self = ids, ids[self]
	rs, err := rollback.NewSession(rc, cfg.NewGame(start.Seed, len(ids)), tr)
	if err != nil {
		mesh.Close()
		client.Close()
		return nil, err
	}
	s := &Session[I]{Session: rs, transport: tr, mesh: mesh, client: client, seed: start.Seed, player: self, start: time.Now()}
	// Keep reading the signaling connection (keep-alives, peers leaving):
	// the session no longer needs it, but an unread client would stall.
	var bg context.Context
	bg, s.cancel = context.WithCancel(context.Background())
	s.wg.Go(func() {
		for {
			ev, err := client.Recv(bg)
			if err != nil {
				return
			}
			cfg.Logger.Debug("netcode: signaling event after start", "event", fmt.Sprintf("%T", ev))
		}
	})
	return s, nil
}

// waitStart reads the signaling client until the room starts.
func waitStart(ctx context.Context, c *signaling.Client) (*signaling.Start, error) {
	if w := c.Welcome(); w != nil && w.Start != nil {
		return w.Start, nil
	}
	for {
		ev, err := c.Recv(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: waiting for the room to start: %w", ErrSignaling, err)
		}
		if st, ok := ev.(*signaling.Start); ok {
			return st, nil
		}
	}
}

// clientSignaler adapts a signaling.Client to Signaler: peers are numbered
// by their place in the start order.
type clientSignaler struct {
	client *signaling.Client
	order  []signaling.PeerID
}

func (c *clientSignaler) Send(ctx context.Context, to PeerID, s Signal) error {
	i := int(to) - 1
	if i < 0 || i >= len(c.order) {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return c.client.Send(ctx, c.order[i], b)
}

func (c *clientSignaler) Recv(ctx context.Context) (PeerID, Signal, error) {
	for {
		ev, err := c.client.Recv(ctx)
		if err != nil {
			return 0, Signal{}, err
		}
		sig, ok := ev.(*signaling.Signal)
		if !ok {
			continue
		}
		i := slices.Index(c.order, sig.From)
		var s Signal
		if i < 0 || json.Unmarshal(sig.Data, &s) != nil {
			continue // not a player of this session, or not a Signal: ignore
		}
		return PeerID(i + 1), s, nil
	}
}

// LocalPlayer returns the player this peer plays.
func (s *Session[I]) LocalPlayer() rollback.Player { return s.player }

// Seed returns the seed every peer of the room shares.
func (s *Session[I]) Seed() uint64 { return s.seed }

// NetStats describes one connection as netcode sees it.
type NetStats struct {
	PeerStats
	// KbpsIn and KbpsOut are average kilobits per second since Join,
	// counting lyn's packets (not DTLS/SCTP/UDP/IP headers).
	KbpsIn, KbpsOut float64
}

// NetStats returns every connection's stats: candidate pair type, bytes,
// and average bandwidth.
func (s *Session[I]) NetStats() []NetStats {
	secs := time.Since(s.start).Seconds()
	var out []NetStats
	for _, ps := range s.mesh.Stats() {
		ns := NetStats{PeerStats: ps}
		if secs > 0 {
			ns.KbpsIn = float64(ps.BytesReceived) * 8 / 1000 / secs
			ns.KbpsOut = float64(ps.BytesSent) * 8 / 1000 / secs
		}
		out = append(out, ns)
	}
	return out
}

// PeerErrors appends the peer problems netcode saw (another protocol
// version, say) since the last call to dst.
func (s *Session[I]) PeerErrors(dst []PeerError) []PeerError { return s.transport.Errors(dst) }

// TransportStats returns the packet counters of the wire layer.
func (s *Session[I]) TransportStats() TransportStats { return s.transport.Stats() }

// Close leaves the game: the other peers are told, the connections and the
// signaling client are closed, and no goroutine is left behind.
func (s *Session[I]) Close() error {
	err := s.Session.Close()
	err = errors.Join(err, s.mesh.Close())
	s.cancel()
	err = errors.Join(err, s.client.Close())
	s.wg.Wait()
	return err
}
