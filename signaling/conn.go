//go:build !js

package signaling

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// conn is one WebSocket connection on the server. Its read loop runs on the ServeHTTP
// goroutine. Writing happens on a goroutine that exists only while there is something to
// write, and pings on the ping timer's goroutine: an idle connection costs one goroutine.
type conn struct {
	s        *Server
	ws       *websocket.Conn
	ip       string
	limiter  *rate.Limiter
	timer    *time.Timer
	lastSeen atomic.Int64 // unix nanoseconds of the last message or pong
	bad      int          // bad messages so far; read loop only
	peer     *peer        // guarded by s.mu

	mu          sync.Mutex
	queue       [][]byte
	wrote       bool // the welcome has been written
	writing     bool
	closing     bool // a close is queued or done; nothing more is sent
	kicked      bool // the server decided to close this connection
	closeCode   websocket.StatusCode
	closeReason string
	done        bool           // the read loop has ended; no new helpers
	helpers     sync.WaitGroup // writer and ping goroutines
}

func (c *conn) touch() { c.lastSeen.Store(time.Now().UnixNano()) }

func (c *conn) wasKicked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kicked
}

// send queues msg without blocking. A client too slow to drain SendQueueLen messages is
// cut off so that it never holds anyone else up.
func (c *conn) send(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	if len(c.queue) >= c.s.cfg.SendQueueLen {
		c.s.reject("slow-consumer", "remote", c.ip)
		c.closeNowLocked()
		return
	}
	// Once the read loop has ended (done), messages still queue: finish hands them to the
	// peer's grace period if the socket merely dropped.
	c.queue = append(c.queue, msg)
	c.startWriterLocked()
}

func (c *conn) sendError(e *Error) { c.send(encode(TypeError, e)) }

// fail sends e (fatal) and then closes with status.
func (c *conn) fail(e *Error, status websocket.StatusCode) {
	e.Fatal = true
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.done {
		return
	}
	c.kicked = true
	c.queue = append(c.queue, encode(TypeError, e))
	c.closeCode, c.closeReason = status, string(e.Code)
	c.closing = true
	c.startWriterLocked()
}

// closeWith closes with a close handshake after the queued messages are written.
func (c *conn) closeWith(status websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.done {
		return
	}
	c.kicked = true
	c.closeCode, c.closeReason = status, reason
	c.closing = true
	c.startWriterLocked()
}

// replaced closes a socket whose peer resumed on another: status 4000, nothing more is
// written to it (what was queued is lost with the socket, as on any drop).
func (c *conn) replaced() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.queue = nil
	c.kicked, c.closing = true, true
	c.closeCode, c.closeReason = StatusReplaced, "replaced"
	c.startWriterLocked()
}

// closeNow cuts the connection without a handshake; safe with any lock held.
func (c *conn) closeNow(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeNowLocked()
}

func (c *conn) closeNowLocked() {
	c.kicked = true
	c.closing = true
	c.queue = nil
	if c.done {
		return
	}
	// CloseNow can wait for a close handshake in progress, so never call it with locks
	// held.
	c.helpers.Add(1)
	go func() {
		defer c.helpers.Done()
		c.ws.CloseNow()
	}()
}

func (c *conn) startWriterLocked() {
	if c.writing || c.done {
		return
	}
	c.writing = true
	c.helpers.Add(1)
	go c.writeLoop()
}

func (c *conn) writeLoop() {
	defer c.helpers.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			closing, code, reason := c.closing && c.closeCode != 0, c.closeCode, c.closeReason
			c.closeCode = 0
			c.writing = false
			c.queue = nil // drop the grown backing array while idle
			c.mu.Unlock()
			if closing {
				c.ws.Close(code, reason)
			}
			return
		}
		msg := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		timeout := c.s.cfg.WriteTimeout
		if !c.wrote {
			c.wrote = true
			timeout = c.s.cfg.HandshakeTimeout
		}
		c.mu.Unlock()

		// Not derived from the server's context: Shutdown cuts sockets itself, and a
		// detached timeout is cheaper (no registration with a parent).
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := c.ws.Write(ctx, websocket.MessageText, msg)
		timedOut := ctx.Err() != nil
		cancel()
		if err != nil {
			// Asked before c.mu is taken: the server's lock comes first
			// (relay holds it while it queues on this conn), never after.
			if timedOut && !c.s.isClosed() {
				c.s.reject("write-timeout", "remote", c.ip)
			}
			c.mu.Lock()
			if timedOut {
				// Too slow or stalled: cut off, like an overflowing queue.
				c.kicked, c.closing, c.queue = true, true, nil
			} else if !c.closing {
				// The socket broke: keep the message for a resume.
				c.queue = append([][]byte{msg}, c.queue...)
			}
			c.writing = false
			c.mu.Unlock()
			c.ws.CloseNow() // a failed write has already closed it; make sure
			return
		}
	}
}

// onTimer runs every PingInterval on the timer's goroutine: it pings a silent connection
// and closes one that stayed silent for IdleTimeout.
func (c *conn) onTimer() {
	c.mu.Lock()
	if c.done || c.closing {
		c.mu.Unlock()
		return
	}
	c.helpers.Add(1)
	c.mu.Unlock()
	defer c.helpers.Done()

	cfg := &c.s.cfg
	silent := time.Since(time.Unix(0, c.lastSeen.Load()))
	if silent >= cfg.IdleTimeout {
		c.s.reject("idle-timeout", "remote", c.ip)
		c.closeNow("idle")
		return
	}
	if silent >= cfg.PingInterval {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.IdleTimeout-silent)
		err := c.ws.Ping(ctx)
		expired := errors.Is(err, context.DeadlineExceeded)
		cancel()
		if expired {
			c.s.reject("idle-timeout", "remote", c.ip)
			c.closeNow("idle")
			return
		}
		if err != nil {
			return // closed meanwhile
		}
	}
	c.mu.Lock()
	if !c.done && !c.closing {
		c.timer.Reset(cfg.PingInterval)
	}
	c.mu.Unlock()
}

// shutdown ends a connection after its read loop: no new helpers, then wait for them.
func (c *conn) shutdown() {
	c.mu.Lock()
	c.done = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.ws.CloseNow()
	c.helpers.Wait()
}
