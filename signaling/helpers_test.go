//go:build !js

package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const waitLimit = 5 * time.Second

// testServer runs s on a loopback listener via s.HTTPServer.
type testServer struct {
	*Server
	addr string // host:port
	hs   *http.Server
}

func (ts *testServer) url(pathAndQuery string) string { return "ws://" + ts.addr + pathAndQuery }
func (ts *testServer) http(path string) string        { return "http://" + ts.addr + path }

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	return startServerWith(t, cfg, &net.ListenConfig{})
}

func startServerWith(t testing.TB, cfg Config, lc *net.ListenConfig) *testServer {
	t.Helper()
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(cfg)
	hs := s.HTTPServer("")
	served := make(chan struct{})
	go func() {
		defer close(served)
		hs.Serve(l)
	}()
	ts := &testServer{Server: s, addr: l.Addr().String(), hs: hs}
	t.Cleanup(func() {
		hs.Close()
		<-served
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil && err != ErrServerClosed {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ts
}

func dial(t testing.TB, url string, cfg ClientConfig) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, err := Dial(ctx, url, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t testing.TB, c *Client) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ev, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("%s: recv: %v", c.ID(), err)
	}
	return ev
}

// waitFor returns the next event of type T, skipping others.
func waitFor[T Event](t testing.TB, c *Client) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		ev, err := c.Recv(ctx)
		if err != nil {
			var zero T
			t.Fatalf("%s: waiting for %T: %v", c.ID(), zero, err)
		}
		if v, ok := ev.(T); ok {
			return v
		}
	}
}

// waitEnd waits for the client to end and returns why.
func waitEnd(t testing.TB, c *Client) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		_, err := c.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("client did not end: %v", err)
			}
			return err
		}
	}
}

// rawDial opens a bare WebSocket (no Client logic) and reads the first message.
func rawDial(t testing.TB, url string, hdr http.Header) (*websocket.Conn, any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("raw dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(1 << 20)
	return ws, rawRead(t, ws)
}

func rawRead(t testing.TB, ws *websocket.Conn) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("raw read: %v", err)
	}
	m, err := decodeServerMessage(data)
	if err != nil {
		t.Fatalf("raw read: %v in %s", err, data)
	}
	return m
}

// rawReadUntilClose reads until the server closes and returns the close error and the
// last error message seen.
func rawReadUntilClose(t testing.TB, ws *websocket.Conn) (error, *Error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var last *Error
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("server did not close the connection")
			}
			return err, last
		}
		if m, _ := decodeServerMessage(data); m != nil {
			if e, ok := m.(*Error); ok {
				last = e
			}
		}
	}
}

func rawSend(t testing.TB, ws *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("raw send: %v", err)
	}
}

func send(t testing.TB, c *Client, to PeerID, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.Send(ctx, to, json.RawMessage(payload)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

var roomSeq int

func freshRoom(prefix string) string {
	roomSeq++
	return fmt.Sprintf("/%s-%d", prefix, roomSeq)
}

// assertRoomWorks fills a fresh 2-player room and relays an offer/answer through it: the
// proof, in each limit test, that other rooms are unaffected.
func assertRoomWorks(t testing.TB, ts *testServer) {
	t.Helper()
	room := freshRoom("other")
	a := dial(t, ts.url(room), ClientConfig{})
	b := dial(t, ts.url(room), ClientConfig{})
	sa := waitFor[*Start](t, a)
	sb := waitFor[*Start](t, b)
	if sa.Seed != sb.Seed {
		t.Fatalf("seeds differ")
	}
	send(t, a, b.ID(), `{"sdp":"offer"}`)
	if s := waitFor[*Signal](t, b); s.From != a.ID() || string(s.Data) != `{"sdp":"offer"}` {
		t.Fatalf("b got %+v", s)
	}
	send(t, b, a.ID(), `{"sdp":"answer"}`)
	if s := waitFor[*Signal](t, a); s.From != b.ID() {
		t.Fatalf("a got %+v", s)
	}
	a.Close()
	b.Close()
}

// eventually polls cond (a bounded wait on server state that has no event to wait on).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func isCode(err error, code ErrorCode) bool {
	e, ok := err.(*Error)
	if !ok {
		return strings.Contains(fmt.Sprint(err), string(code))
	}
	return e.Code == code
}

func timeUnix(s int64) time.Time { return time.Unix(s, 0) }

func closeStatus(err error) websocket.StatusCode { return websocket.CloseStatus(err) }
