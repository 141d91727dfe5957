//go:build !js

package signaling

import (
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// blackholeProxy forwards TCP to a target until freeze, after which the connections open
// at that moment stay open but carry nothing: a half-open connection, as after a NAT
// timeout. Connections made later are forwarded normally.
type blackholeProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	pairs  []*proxyPair
	wg     sync.WaitGroup
}

type proxyPair struct {
	a, b   net.Conn
	frozen atomic.Bool
}

func startProxy(t *testing.T, target string) *blackholeProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blackholeProxy{l: l, target: target}
	p.wg.Go(func() {
		for {
			a, err := l.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			pair := &proxyPair{a: a, b: b}
			p.mu.Lock()
			p.pairs = append(p.pairs, pair)
			p.mu.Unlock()
			p.wg.Go(func() { pair.pipe(a, b) })
			p.wg.Go(func() { pair.pipe(b, a) })
		}
	})
	t.Cleanup(p.close)
	return p
}

func (pp *proxyPair) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if err != nil {
			from.Close()
			to.Close()
			return
		}
		if pp.frozen.Load() {
			continue // swallowed
		}
		if _, err := to.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *blackholeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pair := range p.pairs {
		pair.frozen.Store(true)
	}
}

func (p *blackholeProxy) close() {
	p.l.Close()
	p.mu.Lock()
	for _, pair := range p.pairs {
		pair.a.Close()
		pair.b.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// A connection that dies silently (no FIN, no close frame) is noticed by the client's
// pings; it resumes, the server closes the stale socket with 4000, and the other peer sees
// nothing.
func TestClientDetectsHalfOpenConnectionAndResumes(t *testing.T) {
	ts := startServer(t, Config{ResumeGrace: 5 * time.Second})
	proxy := startProxy(t, ts.addr)
	room := freshRoom("halfopen")
	a := dial(t, ts.url(room), ClientConfig{})
	b := dial(t, "ws://"+proxy.l.Addr().String()+room, ClientConfig{
		PingInterval: 30 * time.Millisecond, PingTimeout: 100 * time.Millisecond, ResumeBackoff: 10 * time.Millisecond,
	})
	waitFor[*Start](t, a)
	waitFor[*Start](t, b)
	id := b.ID()
	proxy.freeze()
	r := waitFor[*Resumed](t, b)
	if r.Welcome.ID != id {
		t.Fatalf("resumed as %s, want %s", r.Welcome.ID, id)
	}
	send(t, a, id, `"after"`)
	if s := waitFor[*Signal](t, b); string(s.Data) != `"after"` {
		t.Fatalf("b got %+v", s)
	}
	send(t, b, a.ID(), `"back"`)
	if s, ok := recv(t, a).(*Signal); !ok || string(s.Data) != `"back"` {
		t.Fatalf("a got %+v (no peer-left may come first)", s)
	}
}

// Resuming while the server still holds the old socket closes the old one with 4000.
func TestResumeReplacesLiveSocket(t *testing.T) {
	ts := startServer(t, Config{})
	room := freshRoom("replace")
	a := dial(t, ts.url(room), ClientConfig{})
	old, m := rawDial(t, ts.url(room), nil)
	w := m.(*Welcome)
	waitFor[*Start](t, a)
	rawRead(t, old) // start
	_, m2 := rawDial(t, ts.url(room+"?resume="+w.ResumeToken), nil)
	if w2 := m2.(*Welcome); w2.ID != w.ID || !w2.Resumed {
		t.Fatalf("welcome %+v", w2)
	}
	err, _ := rawReadUntilClose(t, old)
	if code := closeStatus(err); code != StatusReplaced {
		t.Fatalf("old socket closed with %v, want 4000", err)
	}
}

// A failed resume's error names the URL it dialed; the resume token in it is
// a secret and must not reach the game's logs.
func TestResumeFailureHidesToken(t *testing.T) {
	ts := startServer(t, Config{})
	room := freshRoom("redact")
	c := dial(t, ts.url(room), ClientConfig{ResumeAttempts: 2, ResumeBackoff: time.Millisecond})
	token := c.welcome.ResumeToken
	if token == "" {
		t.Fatal("no resume token in the welcome")
	}
	// Stop accepting connections, then drop the live socket under the
	// client: every resume dial fails with an error that quotes the URL.
	ts.hs.Close()
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	ws.CloseNow()
	err := waitEnd(t, c)
	if !errors.Is(err, ErrResumeFailed) {
		t.Fatalf("client ended with %v, want ErrResumeFailed", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatalf("the error shows the resume token: %v", err)
	}
	if !strings.Contains(err.Error(), "<resume-token>") {
		t.Fatalf("the error should show where the token was: %v", err)
	}
}
