//go:build !js

package signaling

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener is a net.Listener whose connections are in-memory pipes,
// made by its dial method: an http.Server serves on it and an
// http.Transport dials it, with no socket (so it works in a synctest
// bubble, where goroutines blocked on real sockets would stop the clock).
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.done:
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// TestDialHTTPClient: ClientConfig.HTTPClient makes the handshakes. Two
// clients reach a Server through an in-memory listener (inside a synctest
// bubble, which real sockets would stall), meet in a room, exchange a
// signal, and everything shuts down cleanly.
func TestDialHTTPClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		srv := NewServer(Config{})
		hs := &http.Server{Handler: srv}
		served := make(chan error, 1)
		go func() { served <- hs.Serve(l) }()
		hc := &http.Client{Transport: &http.Transport{DialContext: l.dial}}

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cfg := ClientConfig{Players: 2, HTTPClient: hc}
		a, err := Dial(ctx, "ws://lyn.test/pipe-room", cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Dial(ctx, "ws://lyn.test/pipe-room", cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Send(ctx, b.ID(), []byte(`{"hello":1}`)); err != nil {
			t.Fatal(err)
		}
		for {
			ev, err := b.Recv(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := ev.(*Signal); ok {
				if s.From != a.ID() || string(s.Data) != `{"hello":1}` {
					t.Fatalf("signal %+v", s)
				}
				break
			}
		}
		a.Close()
		b.Close()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, ErrServerClosed) {
			t.Fatal(err)
		}
		hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Fatal(err)
		}
	})
}
