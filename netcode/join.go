package netcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/lynnet/lyn/rollback"
	"github.com/lynnet/lyn/signaling"
	"github.com/pion/webrtc/v4"
)

// Spectator PeerIDs. Players are numbered 1..N by their place in the start
// order; the host (the first player, HostID) reserves FirstSpectatorID,
// FirstSpectatorID+1, ... for the spectators it accepts.
const (
	HostID               PeerID = 1
	FirstSpectatorID     PeerID = 1001
	DefaultMaxSpectators        = 4
)

// JoinConfig says which room to join and how to play in it. Zero values are
// defaults except for URL, Codec and NewGame.
type JoinConfig[I comparable] struct {
	// URL is the room on a lyn signaling server, e.g.
	// "ws://localhost:8080/duel" (wss:// for TLS).
	URL string
	// Players is the room's size, 2 to 8 (default 2 for Join; JoinSpectator
	// takes the room's when zero).
	Players int
	// JoinToken is needed when the server gates rooms (signaling.MintJoinToken).
	JoinToken string
	// Codec encodes inputs for the wire, e.g. rollback.UintCodec[Buttons]{}.
	Codec rollback.InputCodec[I]
	// NewGame makes the game once the room has started: seed is shared by
	// every peer, players is the number of players.
	NewGame func(seed uint64, players int) rollback.Game[I]
	// Session is the template of the rollback session (input delay,
	// prediction window, recorder, clock...); Join sets Players and Self,
	// and Spectators on the host (see MaxSpectators). Its
	// DisconnectTimeout bounds how long a peer may be cut off and still
	// come back: netcode restarts a broken path about 2 s into the cut
	// (Config.ICEDisconnectedTimeout + ICERestartAfter) and a peer that
	// moved to another network is back some 3 s after the move
	// (TestVNetReconnectNewAddress), so the engine's default of 2 s gives
	// up first; a game that wants players to survive a network switch
	// sets 5 to 10 s.
	Session rollback.Config[I]
	// MaxSpectators is how many spectators the host accepts at the same
	// time (default DefaultMaxSpectators; negative: none). Only the host
	// uses it: its Session.Spectators becomes FirstSpectatorID ..
	// FirstSpectatorID+MaxSpectators-1.
	MaxSpectators int
	// SpectatorSession is the template of JoinSpectator's rollback
	// spectator (catch-up speed, checksum interval, clock...);
	// JoinSpectator sets Players and Host.
	SpectatorSession rollback.SpectatorConfig[I]
	// Net configures WebRTC. The ICE servers the signaling server hands out
	// (its STUN/TURN, with short-lived credentials) are added to
	// Net.ICEServers. Join and JoinSpectator set Net.AcceptPeer.
	Net Config
	// Logger receives netcode's logs (default: discard).
	Logger *slog.Logger
	// HTTPClient makes the signaling server's WebSocket handshakes (see
	// signaling.ClientConfig.HTTPClient): own TLS roots, a proxy, or an
	// in-memory dialer in tests. Nil: http.DefaultClient.
	HTTPClient *http.Client
}

// Session is a game session over WebRTC: a rollback.Session (all its
// methods are promoted) plus the connections under it.
type Session[I comparable] struct {
	*rollback.Session[I]
	conn
	player rollback.Player
	// live are the Links to the other players that the session has not
	// given up on yet (see AdvanceFrame).
	live []*Link
}

// Spectator watches a game over WebRTC: a rollback.Spectator (all its
// methods are promoted) plus its one connection, to the host.
type Spectator[I comparable] struct {
	*rollback.Spectator[I]
	conn
	id PeerID
}

// conn is what both kinds of session hold under the engine.
type conn struct {
	transport interface {
		Errors([]PeerError) []PeerError
		Stats() TransportStats
	}
	mesh   *Mesh
	client *signaling.Client
	seed   uint64
	start  time.Time
}

// Join joins the room at cfg.URL as a player, waits until it is full,
// connects to every other player over WebRTC and returns the running
// session. Drive it once per tick: AddLocalInput(s.LocalPlayer(), in),
// AdvanceFrame(), Events().
//
// The host (the first player in the start order, PeerID HostID) also
// accepts spectators (JoinSpectator), before or after the start, until
// Close; the other players ignore them.
func Join[I comparable](ctx context.Context, cfg JoinConfig[I]) (*Session[I], error) {
	if cfg.Players == 0 {
		cfg.Players = 2
	}
	client, start, netCfg, err := joinRoom(ctx, &cfg, false)
	if err != nil {
		return nil, err
	}
	self := slices.Index(start.Order, client.ID())
	if self < 0 {
		client.Close()
		return nil, fmt.Errorf("%w: this peer (%s) is not in the start order", ErrSignaling, client.ID())
	}
	ids := playerIDs(start)
	sig := &clientSignaler{client: client, order: start.Order, log: cfg.Logger}
	rc := cfg.Session
	rc.Players, rc.Self, rc.Spectators = ids, ids[self], nil
	if ids[self] == HostID {
		k := cfg.MaxSpectators
		if k == 0 {
			k = DefaultMaxSpectators
		}
		for i := range max(k, 0) {
			rc.Spectators = append(rc.Spectators, FirstSpectatorID+PeerID(i))
		}
		sig.slots = make([]signaling.PeerID, len(rc.Spectators))
	}
	// The mesh reads the signaling client until Close: the host lets in
	// the spectators the signaler gave a slot; everyone applies late
	// candidates (and keeps the client drained).
	netCfg.AcceptPeer = func(p PeerID) bool {
		return p >= FirstSpectatorID && int(p-FirstSpectatorID) < len(sig.slots)
	}
	mesh, tr, err := connectTransport(ctx, client, ids[self], ids, sig, netCfg, &cfg)
	if err != nil {
		return nil, err
	}
	rs, err := rollback.NewSession(rc, cfg.NewGame(start.Seed, len(ids)), tr)
	if err != nil {
		mesh.Close()
		client.Close()
		return nil, err
	}
	s := &Session[I]{Session: rs, player: self, conn: conn{transport: tr, mesh: mesh, client: client, seed: start.Seed, start: time.Now()}}
	for _, id := range ids {
		if l := mesh.Link(id); l != nil {
			s.live = append(s.live, l)
		}
	}
	return s, nil
}

// JoinSpectator joins the room at cfg.URL as a spectator (before or after
// it started), connects to the host only (one PeerConnection, to PeerID
// HostID) and returns the spectator. Drive it once per tick with
// AdvanceFrame (ErrCatchingUp means nothing to show yet); a late spectator
// starts from the host's snapshot and runs up to
// SpectatorSession.CatchUpSpeed frames per tick until Live. The host
// accepts at most its MaxSpectators at a time: when they are taken the
// host ignores this one, and JoinSpectator fails when ctx ends.
func JoinSpectator[I comparable](ctx context.Context, cfg JoinConfig[I]) (*Spectator[I], error) {
	client, start, netCfg, err := joinRoom(ctx, &cfg, true)
	if err != nil {
		return nil, err
	}
	ids := playerIDs(start)
	sig := &clientSignaler{client: client, order: start.Order, log: cfg.Logger}
	// Reject everyone but keep reading: late candidates from the host.
	netCfg.AcceptPeer = func(PeerID) bool { return false }
	// A spectator has no id until the host gives it one: it connects as 0,
	// which is below every id, so it offers, as the host expects.
	mesh, tr, err := connectTransport(ctx, client, 0, []PeerID{HostID}, sig, netCfg, &cfg)
	if err != nil {
		return nil, err
	}
	sc := cfg.SpectatorSession
	sc.Players, sc.Host = ids, HostID
	sp, err := rollback.NewSpectator(sc, cfg.NewGame(start.Seed, len(ids)), tr)
	if err != nil {
		mesh.Close()
		client.Close()
		return nil, err
	}
	id := mesh.Link(HostID).AssignedID()
	return &Spectator[I]{Spectator: sp, id: id, conn: conn{transport: tr, mesh: mesh, client: client, seed: start.Seed, start: time.Now()}}, nil
}

// joinRoom checks cfg, dials the room and waits for its start.
func joinRoom[I comparable](ctx context.Context, cfg *JoinConfig[I], spectator bool) (*signaling.Client, *signaling.Start, Config, error) {
	if cfg.URL == "" || cfg.Codec == nil || cfg.NewGame == nil {
		return nil, nil, Config{}, fmt.Errorf("%w: JoinConfig needs URL, Codec and NewGame", ErrInvalidConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	netCfg := cfg.Net
	if netCfg.Logger == nil {
		netCfg.Logger = cfg.Logger
	}
	client, err := signaling.Dial(ctx, cfg.URL, signaling.ClientConfig{Players: cfg.Players, Spectator: spectator, JoinToken: cfg.JoinToken, Logger: cfg.Logger, HTTPClient: cfg.HTTPClient})
	if err != nil {
		return nil, nil, Config{}, fmt.Errorf("%w: %w", ErrSignaling, err)
	}
	start, err := waitStart(ctx, client)
	if err != nil {
		client.Close()
		return nil, nil, Config{}, err
	}
	if len(start.Order) == 0 {
		client.Close()
		return nil, nil, Config{}, fmt.Errorf("%w: empty start order", ErrSignaling)
	}
	for _, s := range client.Welcome().ICEServers {
		netCfg.ICEServers = append(netCfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return client, start, netCfg, nil
}

// playerIDs numbers the players by their place in the start order: every
// peer derives the same ids. PeerID 0 is avoided so that it means "nobody".
func playerIDs(start *signaling.Start) []PeerID {
	ids := make([]PeerID, len(start.Order))
	for i := range ids {
		ids[i] = PeerID(i + 1)
	}
	return ids
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

// clientSignaler adapts a signaling.Client to Signaler: players are
// numbered by their place in the start order. On the host, slots maps
// spectators: the first Signal from a peer not in the order takes a free
// slot i and PeerID FirstSpectatorID+i; its peer-left frees the slot and is
// reported to the Mesh as signalGone. Elsewhere slots is empty and
// such peers are ignored. A player's peer-left is reported as signalGone
// too (the Mesh stops restarting ICE with it).
type clientSignaler struct {
	client *signaling.Client
	order  []signaling.PeerID
	log    *slog.Logger

	mu    sync.Mutex         // guards slots' contents and next (Send runs on pion's goroutines)
	slots []signaling.PeerID // "" when free; length fixed
	next  int                // where the search for a free slot begins
}

func (c *clientSignaler) Send(ctx context.Context, to PeerID, s Signal) error {
	var dst signaling.PeerID
	if i := int(to) - 1; i >= 0 && i < len(c.order) {
		dst = c.order[i]
	} else if j := int(to - FirstSpectatorID); j >= 0 && j < len(c.slots) {
		c.mu.Lock()
		dst = c.slots[j]
		c.mu.Unlock()
	}
	if dst == "" {
		return fmt.Errorf("%w: %d", ErrUnknownPeer, to)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return c.client.Send(ctx, dst, b)
}

func (c *clientSignaler) Recv(ctx context.Context) (PeerID, Signal, error) {
	for {
		ev, err := c.client.Recv(ctx)
		if err != nil {
			return 0, Signal{}, err
		}
		switch ev := ev.(type) {
		case *signaling.Signal:
			var s Signal
			if json.Unmarshal(ev.Data, &s) != nil {
				continue // not a Signal: ignore
			}
			if i := slices.Index(c.order, ev.From); i >= 0 {
				return PeerID(i + 1), s, nil
			}
			if id, ok := c.spectator(ev.From); ok {
				return id, s, nil
			}
			c.log.Debug("netcode: ignoring signal from a peer that is not a player", "peer", ev.From)
		case *signaling.PeerLeft:
			if i := slices.Index(c.order, ev.ID); i >= 0 {
				return PeerID(i + 1), Signal{Kind: signalGone}, nil
			}
			if id, ok := c.release(ev.ID); ok {
				return id, Signal{Kind: signalGone}, nil
			}
		default:
			c.log.Debug("netcode: signaling event", "event", fmt.Sprintf("%T", ev))
		}
	}
}

// spectator returns the PeerID of the spectator from, giving it a free
// slot if it has none. Slots are handed out round robin (the first free one
// after the last one given), so that a departed spectator's id rests as
// long as possible before it is given again: the host's engine keeps
// streaming to that id until it hears the goodbye, or for
// Session.DisconnectTimeout if the goodbye was lost.
func (c *clientSignaler) spectator(from signaling.PeerID) (PeerID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.slots, from); i >= 0 {
		return FirstSpectatorID + PeerID(i), true
	}
	for k := range len(c.slots) {
		i := (c.next + k) % len(c.slots)
		if c.slots[i] == "" {
			c.slots[i], c.next = from, i+1
			c.log.Debug("netcode: spectator gets a slot", "peer", from, "id", FirstSpectatorID+PeerID(i))
			return FirstSpectatorID + PeerID(i), true
		}
	}
	if len(c.slots) > 0 {
		c.log.Info("netcode: no spectator slot free, ignoring", "peer", from)
	}
	return 0, false
}

// release frees the slot of a spectator that left.
func (c *clientSignaler) release(who signaling.PeerID) (PeerID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.slots, who); i >= 0 {
		c.slots[i] = ""
		return FirstSpectatorID + PeerID(i), true
	}
	return 0, false
}

// AdvanceFrame runs one tick of the session (rollback.Session.AdvanceFrame)
// and then ends, with Link.Disconnect, the Link of every player peer the
// session has given up on since: the session ignores that peer for good,
// so its PeerConnection is closed rather than restarted every
// Config.ICERestartTimeout. This runs on the game's goroutine, between
// frames: pion's goroutines never look at the session.
func (s *Session[I]) AdvanceFrame() error {
	err := s.Session.AdvanceFrame()
	s.endGivenUp()
	return err
}

// endGivenUp disconnects the Links of the peers the session gave up on.
func (s *Session[I]) endGivenUp() {
	for i := 0; i < len(s.live); {
		l := s.live[i]
		if ps, ok := s.Session.PeerStats(l.Peer()); ok && ps.Disconnected {
			l.Disconnect()
			s.live = slices.Delete(s.live, i, i+1)
			continue
		}
		i++
	}
}

// LocalPlayer returns the player this peer plays.
func (s *Session[I]) LocalPlayer() rollback.Player { return s.player }

// Seed returns the seed every peer of the room shares.
func (c *conn) Seed() uint64 { return c.seed }

// NetStats describes one connection as netcode sees it.
type NetStats struct {
	PeerStats
	// KbpsIn and KbpsOut are average kilobits per second since Join,
	// counting lyn's packets (not DTLS/SCTP/UDP/IP headers).
	KbpsIn, KbpsOut float64
}

// NetStats returns every connection's stats: candidate pair type, bytes,
// and average bandwidth.
func (c *conn) NetStats() []NetStats {
	secs := time.Since(c.start).Seconds()
	var out []NetStats
	for _, ps := range c.mesh.Stats() {
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
// version, an ICE restart impossible because signaling is gone) since the
// last call to dst.
func (c *conn) PeerErrors(dst []PeerError) []PeerError {
	return c.mesh.Errors(c.transport.Errors(dst))
}

// Mesh returns the WebRTC connections under the session: per-peer Links
// (Link.Restart), Stats, and SignalingErr, which says when the signaling
// server is gone (the game goes on; a broken path can no longer be
// restarted).
func (c *conn) Mesh() *Mesh { return c.mesh }

// TransportStats returns the packet counters of the wire layer.
func (c *conn) TransportStats() TransportStats { return c.transport.Stats() }

func (c *conn) close() error {
	err := c.mesh.Close() // stops reading the client too
	return errors.Join(err, c.client.Close())
}

// Close leaves the game: the other peers (and the host's spectators) are
// told, the connections and the signaling client are closed, and no
// goroutine is left behind.
func (s *Session[I]) Close() error {
	err := s.Session.Close()
	s.conn.mesh.flush(closeFlushLimit)
	return errors.Join(err, s.conn.close())
}

// ID returns the PeerID the host gave this spectator (FirstSpectatorID or
// above), 0 if it did not say.
func (s *Spectator[I]) ID() PeerID { return s.id }

// Close tells the host this spectator leaves, closes the connection and the
// signaling client, and leaves no goroutine behind.
func (s *Spectator[I]) Close() error {
	err := s.Spectator.Close()
	s.conn.mesh.flush(closeFlushLimit)
	return errors.Join(err, s.conn.close())
}

// closeFlushLimit bounds how long Close waits for the goodbye to be
// acknowledged: a few round trips of a slow path, nothing on a dead one.
const closeFlushLimit = 300 * time.Millisecond

// connectTransport connects the mesh and wraps it in a Transport for the
// engine; on failure it closes what it opened, the signaling client too.
func connectTransport[I comparable](ctx context.Context, client *signaling.Client, self PeerID, peers []PeerID,
	sig Signaler, netCfg Config, cfg *JoinConfig[I]) (*Mesh, *Transport[I], error) {
	mesh, err := Connect(ctx, self, peers, sig, netCfg)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	tr, err := NewTransport(mesh, cfg.Codec, cfg.Logger)
	if err != nil {
		mesh.Close()
		client.Close()
		return nil, nil, err
	}
	return mesh, tr, nil
}
