package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// ClientConfig configures Dial. The zero value joins as a player in a room of the size the
// URL or the room already sets, and resumes automatically after a drop.
type ClientConfig struct {
	// Players sets ?players= (2..8). Zero leaves the URL as it is.
	Players int
	// Spectator sets ?role=spectator.
	Spectator bool
	// JoinToken sets ?token=, needed when the server has a JoinSecret.
	JoinToken string

	// ResumeAttempts bounds reconnection attempts after a drop. Default 6; negative
	// disables resume (a drop ends the client).
	ResumeAttempts int
	// ResumeBackoff is the delay before the second attempt, doubling after each.
	// Default 250 ms.
	ResumeBackoff time.Duration
	// ResumeWindow bounds the whole resume, and should stay below the server's grace
	// period. Default 25 s.
	ResumeWindow time.Duration

	// PingInterval is how often the client pings the server to notice a dead connection
	// (a half-open TCP connection after a NAT timeout or a sleep); a ping unanswered for
	// PingTimeout counts as a drop and starts a resume. Defaults 15 s and 10 s; a negative
	// PingInterval disables it. In browsers (GOOS=js) pings are not available to
	// JavaScript, and this does nothing.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// EventBuffer is how many events may wait for Recv. The reader blocks beyond it, so call
	// Recv promptly. Default 256.
	EventBuffer int

	// MaxMessageBytes bounds a message from the server. Default 1 MiB.
	MaxMessageBytes int64

	// Logger receives debug logs about drops and resumes. Nil discards them.
	Logger *slog.Logger

	// HTTPClient makes the WebSocket handshakes (the first and every resume): one with
	// its own TLS roots for a wss:// server with a private certificate, a proxy, or an
	// in-memory dialer in tests. Its Timeout must be zero (ctx bounds the handshake).
	// Nil: http.DefaultClient. Browsers (GOOS=js) ignore it.
	HTTPClient *http.Client
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.ResumeAttempts == 0 {
		c.ResumeAttempts = 6
	}
	if c.ResumeBackoff <= 0 {
		c.ResumeBackoff = 250 * time.Millisecond
	}
	if c.ResumeWindow <= 0 {
		c.ResumeWindow = 25 * time.Second
	}
	if c.PingInterval == 0 {
		c.PingInterval = 15 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 10 * time.Second
	}
	if c.EventBuffer <= 0 {
		c.EventBuffer = 256
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Client is one peer's connection to a signaling server. Recv returns what the server
// says; Send addresses a signal to one peer. Both are safe for concurrent use.
type Client struct {
	cfg     ClientConfig
	base    *url.URL
	welcome *Welcome
	log     *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	events chan Event
	done   chan struct{} // closed when the client has ended; err says why
	err    error

	mu        sync.Mutex
	ws        *websocket.Conn
	connected chan struct{} // closed while ws is usable
	closing   bool
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Dial joins the room at rawURL (ws:// or wss://host/room) and returns once the welcome
// has arrived. A refusal by the server comes back as *Error (e.g. code room-full).
func Dial(ctx context.Context, rawURL string, cfg ClientConfig) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("signaling: bad url: %w", err)
	}
	q := u.Query()
	if cfg.Players != 0 {
		q.Set("players", strconv.Itoa(cfg.Players))
	}
	if cfg.Spectator {
		q.Set("role", string(RoleSpectator))
	}
	if cfg.JoinToken != "" {
		q.Set("token", cfg.JoinToken)
	}
	if !q.Has("v") {
		q.Set("v", strconv.Itoa(ProtocolVersion))
	}
	u.RawQuery = q.Encode()

	ws, w, err := dialWelcome(ctx, u.String(), cfg)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.Background())
	connected := make(chan struct{})
	close(connected)
	c := &Client{
		cfg: cfg, base: u, welcome: w, log: cfg.Logger,
		ctx: cctx, cancel: cancel,
		events:    make(chan Event, cfg.EventBuffer),
		done:      make(chan struct{}),
		ws:        ws,
		connected: connected,
	}
	c.wg.Add(1)
	go c.readLoop(ws)
	if cfg.PingInterval > 0 {
		c.wg.Add(1)
		go c.keepAlive()
	}
	return c, nil
}

// dialWelcome opens a socket and reads the welcome (or the error refusing it).
func dialWelcome(ctx context.Context, u string, cfg ClientConfig) (*websocket.Conn, *Welcome, error) {
	ws, _, err := websocket.Dial(ctx, u, dialOptions(cfg))
	if err != nil {
		return nil, nil, fmt.Errorf("signaling: dial: %w", err)
	}
	ws.SetReadLimit(cfg.MaxMessageBytes)
	_, data, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, nil, fmt.Errorf("signaling: waiting for welcome: %w", err)
	}
	msg, err := decodeServerMessage(data)
	if err != nil {
		ws.CloseNow()
		return nil, nil, err
	}
	switch m := msg.(type) {
	case *Welcome:
		return ws, m, nil
	case *Error:
		ws.CloseNow()
		return nil, nil, m
	default:
		ws.CloseNow()
		return nil, nil, fmt.Errorf("%w: expected welcome", ErrBadServerMessage)
	}
}

// Welcome returns the welcome received when the client joined: its id, the peers present,
// the ICE servers, and the start if the room had already started.
func (c *Client) Welcome() *Welcome { return c.welcome }

// ID returns the client's peer id, which a resume keeps.
func (c *Client) ID() PeerID { return c.welcome.ID }

// Recv returns the next event. Once the client has ended it returns the reason: ErrClosed
// after Close, *Error for a fatal server error, ErrServerGoingAway, or ErrResumeFailed.
func (c *Client) Recv(ctx context.Context) (Event, error) {
	if c.isClosing() {
		return nil, ErrClosed
	}
	select {
	case ev := <-c.events:
		return ev, nil
	default:
	}
	select {
	case ev := <-c.events:
		return ev, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		select {
		case ev := <-c.events:
			return ev, nil
		default:
			return nil, c.err
		}
	}
}

// Send sends payload (any JSON value: an SDP, a candidate...) to peer to. While the client
// is resuming, Send waits for it (bounded by ctx).
func (c *Client) Send(ctx context.Context, to PeerID, payload json.RawMessage) error {
	if len(payload) == 0 {
		return fmt.Errorf("signaling: empty payload")
	}
	msg, err := encodeSignal(to, payload)
	if err != nil {
		return fmt.Errorf("signaling: payload is not JSON: %w", err)
	}
	for {
		c.mu.Lock()
		ws, connected := c.ws, c.connected
		c.mu.Unlock()
		select {
		case <-connected:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return c.err
		}
		if ws == nil {
			continue
		}
		err := ws.Write(ctx, websocket.MessageText, msg)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-c.done:
			return c.err
		default:
		}
		// The socket dropped under us: wait for the resume, then send again.
		c.mu.Lock()
		if c.ws == ws {
			c.ws = nil
			c.connected = make(chan struct{})
		}
		c.mu.Unlock()
	}
}

// Close leaves the room (the others see peer-left at once) and ends the client.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closing = true
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		// Status 1000 tells the server this is a leave, not a drop.
		ws.Close(websocket.StatusNormalClosure, "bye")
	}
	c.cancel()
	c.wg.Wait()
	c.end(ErrClosed)
	return nil
}

func (c *Client) end(err error) {
	c.closeOnce.Do(func() {
		c.err = err
		close(c.done)
	})
}

func (c *Client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

func (c *Client) readLoop(ws *websocket.Conn) {
	defer c.wg.Done()
	var fatal *Error
	for {
		_, data, err := ws.Read(c.ctx)
		if err != nil {
			switch {
			case c.isClosing():
				c.end(ErrClosed)
				return
			case fatal != nil:
				c.end(fatal)
				return
			}
			switch websocket.CloseStatus(err) {
			case websocket.StatusGoingAway:
				c.end(ErrServerGoingAway)
				return
			case websocket.StatusNormalClosure, websocket.StatusPolicyViolation, websocket.StatusMessageTooBig,
				StatusReplaced: // another socket resumed as us: do not fight over the token
				c.end(fmt.Errorf("%w: %w", ErrClosed, err))
				return
			}
			c.log.Debug("signaling: connection dropped, resuming", "err", err)
			next, rerr := c.resume()
			if rerr != nil {
				if c.isClosing() {
					rerr = ErrClosed
				}
				c.end(rerr)
				return
			}
			ws = next
			continue
		}
		msg, err := decodeServerMessage(data)
		if err != nil {
			c.log.Debug("signaling: ignoring bad server message", "err", err)
			continue
		}
		var ev Event
		switch m := msg.(type) {
		case *Error:
			if m.Fatal {
				fatal = m
				continue
			}
			ev = m
		case Event:
			ev = m
		default:
			continue // a second welcome or a type from a newer server
		}
		select {
		case c.events <- ev:
		case <-c.ctx.Done():
			c.end(ErrClosed)
			return
		}
	}
}

// resume re-attaches with the resume token, retrying with backoff within ResumeWindow.
func (c *Client) resume() (*websocket.Conn, error) {
	c.mu.Lock()
	c.ws = nil
	if isClosed(c.connected) {
		c.connected = make(chan struct{})
	}
	c.mu.Unlock()
	if c.cfg.ResumeAttempts < 0 {
		return nil, fmt.Errorf("%w: resume disabled", ErrResumeFailed)
	}
	u := *c.base
	q := u.Query()
	q.Del("players")
	q.Del("role")
	q.Del("token")
	q.Set("resume", c.welcome.ResumeToken)
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.ResumeWindow)
	defer cancel()
	backoff := c.cfg.ResumeBackoff
	var lastErr error
	for attempt := 0; attempt < c.cfg.ResumeAttempts; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("%w: %w", ErrResumeFailed, errors.Join(ctx.Err(), lastErr))
			}
			backoff *= 2
		}
		ws, w, err := dialWelcome(ctx, u.String(), c.cfg)
		if err != nil {
			// The dial error quotes the URL, and with it the resume token.
			err = redactedError{err, c.welcome.ResumeToken}
			lastErr = err
			c.log.Debug("signaling: resume attempt failed", "attempt", attempt+1, "err", err)
			var se *Error
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%w: %w", ErrResumeFailed, err) // the server said no
			}
			continue
		}
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			ws.CloseNow()
			return nil, ErrClosed
		}
		c.ws = ws
		close(c.connected)
		c.mu.Unlock()
		select {
		case c.events <- &Resumed{Welcome: w}:
		case <-c.ctx.Done():
		}
		return ws, nil
	}
	return nil, fmt.Errorf("%w: %d attempts: %w", ErrResumeFailed, c.cfg.ResumeAttempts, lastErr)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// keepAlive pings the server and cuts a socket that stopped answering, which makes the
// read loop resume.
func (c *Client) keepAlive() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.ctx.Done():
			return
		case <-c.done:
			return
		}
		c.mu.Lock()
		ws := c.ws
		c.mu.Unlock()
		if ws == nil {
			continue // resuming
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.cfg.PingTimeout)
		err := ws.Ping(ctx)
		timedOut := errors.Is(err, context.DeadlineExceeded)
		cancel()
		if timedOut {
			c.log.Debug("signaling: server stopped answering pings")
			ws.CloseNow()
		}
	}
}

// redactedError hides a secret (the resume token) in an error's text, which
// ends up in logs; errors.Is and errors.As still see the error it wraps.
type redactedError struct {
	err    error
	secret string
}

func (e redactedError) Error() string {
	if e.secret == "" {
		return e.err.Error()
	}
	return strings.ReplaceAll(e.err.Error(), e.secret, "<resume-token>")
}

func (e redactedError) Unwrap() error { return e.err }
