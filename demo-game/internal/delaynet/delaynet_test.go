//go:build !js

package delaynet

import (
	"errors"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair puts two hosts on a vnet LAN with no delay of its own: a, behind
// the delay wrapper made from cfg, and b, plain. It must run in a synctest
// bubble.
func pair(t *testing.T, cfg Config) (a *Net, b transport.Net) {
	t.Helper()
	r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	na, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*vnet.Net{na, nb} {
		if err := r.AddNet(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	cfg.Net = na
	a, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a, nb
}

func listen(t *testing.T, n transport.Net, ip string) transport.UDPConn {
	t.Helper()
	c, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestRoundTripDelay sends a datagram from the plain host to the delayed
// one and an answer back: each leg takes RTT/2 (fake time, so exactly).
func TestRoundTripDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rtt = 80 * time.Millisecond
		a, b := pair(t, Config{RTT: rtt})
		ca := listen(t, a, "10.0.0.1")
		cb := listen(t, b, "10.0.0.2")

		start := time.Now()
		if _, err := cb.WriteTo([]byte("ping"), ca.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		n, from, err := ca.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); string(buf[:n]) != "ping" || got < rtt/2 || got > rtt/2+time.Millisecond {
			t.Fatalf("got %q after %v, want ping after %v", buf[:n], got, rtt/2)
		}
		if _, err := ca.WriteTo([]byte("pong"), from); err != nil {
			t.Fatal(err)
		}
		n, _, err = cb.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); string(buf[:n]) != "pong" || got < rtt || got > rtt+2*time.Millisecond {
			t.Fatalf("got %q after %v, want pong after %v", buf[:n], got, rtt)
		}
		if s := a.Stats(); s.Delayed != 2 || s.Dropped != 0 {
			t.Fatalf("stats %+v, want 2 delayed", s)
		}
	})
}

// TestOrderKeptUnderJitter sends 200 datagrams back to back through a
// jittery delay: without Reorder they arrive in order, each no earlier than
// RTT/2 after it was sent.
func TestOrderKeptUnderJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pair(t, Config{RTT: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Seed: 7})
		ca := listen(t, a, "10.0.0.1")
		cb := listen(t, b, "10.0.0.2")
		got := sendBurst(t, ca, cb, 200)
		for i, v := range got {
			if v != byte(i) {
				t.Fatalf("datagram %d arrived in place %d: %v", v, i, got)
			}
		}
	})
}

// TestReorderAllowed: with Reorder, jitter lets some datagrams overtake
// others, and all of them still arrive.
func TestReorderAllowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pair(t, Config{RTT: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Reorder: true, Seed: 7})
		ca := listen(t, a, "10.0.0.1")
		cb := listen(t, b, "10.0.0.2")
		got := sendBurst(t, ca, cb, 200)
		seen := make([]bool, 200)
		inversions := 0
		for i, v := range got {
			seen[v] = true
			if i > 0 && v < got[i-1] {
				inversions++
			}
		}
		for i, s := range seen {
			if !s {
				t.Fatalf("datagram %d lost", i)
			}
		}
		if inversions == 0 {
			t.Fatal("no datagram overtook another with 30 ms of jitter and Reorder")
		}
	})
}

// sendBurst sends n one-byte datagrams from the delayed socket, 1 ms apart,
// and returns them in the order they arrived.
func sendBurst(t *testing.T, from, to transport.UDPConn, n int) []byte {
	t.Helper()
	sent := make([]time.Time, n)
	for i := range n {
		sent[i] = time.Now()
		if _, err := from.WriteTo([]byte{byte(i)}, to.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	var got []byte
	buf := make([]byte, 10)
	for range n {
		k, _, err := to.ReadFrom(buf)
		if err != nil || k != 1 {
			t.Fatalf("read %d bytes: %v", k, err)
		}
		if d := time.Since(sent[buf[0]]); d < 20*time.Millisecond {
			t.Fatalf("datagram %d arrived %v after it was sent, before RTT/2", buf[0], d)
		}
		got = append(got, buf[0])
	}
	return got
}

// TestQueueFull drops what does not fit, and counts it.
func TestQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pair(t, Config{RTT: time.Second, QueueLen: 4})
		ca := listen(t, a, "10.0.0.1")
		cb := listen(t, b, "10.0.0.2")
		for i := range 10 {
			if _, err := ca.WriteTo([]byte{byte(i)}, cb.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if s := a.Stats(); s.Delayed != 4 || s.Dropped != 6 {
			t.Fatalf("stats %+v, want 4 delayed and 6 dropped", s)
		}
	})
}

// TestReadDeadline: a read with a deadline gives up with a timeout, and
// one without returns the datagram; Close ends a blocked read.
func TestReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pair(t, Config{RTT: 100 * time.Millisecond})
		ca := listen(t, a, "10.0.0.1")
		cb := listen(t, b, "10.0.0.2")
		if _, err := cb.WriteTo([]byte("x"), ca.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		_ = ca.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		buf := make([]byte, 10)
		_, _, err := ca.ReadFrom(buf)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read past the deadline: %v, want a timeout", err)
		}
		_ = ca.SetReadDeadline(time.Time{})
		if n, _, err := ca.ReadFrom(buf); err != nil || string(buf[:n]) != "x" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		done := make(chan error)
		go func() {
			_, _, err := ca.ReadFrom(buf)
			done <- err
		}()
		synctest.Wait()
		_ = ca.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read on a closed socket: %v", err)
		}
		if _, err := ca.WriteTo([]byte("y"), cb.LocalAddr()); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write on a closed socket: %v", err)
		}
	})
}

// TestListenPacketAndDial: the other ways pion opens UDP sockets are
// delayed too.
func TestListenPacketAndDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rtt = 60 * time.Millisecond
		a, b := pair(t, Config{RTT: rtt})
		cb := listen(t, b, "10.0.0.2")
		pc, err := a.ListenPacket("udp4", "10.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		dc, err := a.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP("10.0.0.1")}, cb.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer dc.Close()
		start := time.Now()
		if _, err := pc.WriteTo([]byte("p"), cb.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if _, err := dc.Write([]byte("d")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		for range 2 {
			if _, _, err := cb.ReadFrom(buf); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got < rtt/2 {
				t.Fatalf("%q arrived after %v, before RTT/2", buf[:1], got)
			}
		}
	})
}

func TestInvalidConfig(t *testing.T) {
	for _, cfg := range []Config{{RTT: -1}, {Jitter: -1}, {QueueLen: -1}} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

// TestCloseDeliversWhatWasSent: datagrams written just before Close still
// arrive (a peer's last words, its goodbye, must not vanish with the
// socket), and Close returns once they are out, one delay later.
func TestCloseDeliversWhatWasSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rtt = 80 * time.Millisecond
		a, b := pair(t, Config{RTT: rtt})
		ca, err := a.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP("10.0.0.1")})
		if err != nil {
			t.Fatal(err)
		}
		cb := listen(t, b, "10.0.0.2")
		start := time.Now()
		for _, m := range []string{"last", "words"} {
			if _, err := ca.WriteTo([]byte(m), cb.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		if err := ca.Close(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < rtt/2 || took > rtt/2+2*time.Millisecond {
			t.Fatalf("Close took %v, want the one-way delay %v", took, rtt/2)
		}
		buf := make([]byte, 100)
		for _, want := range []string{"last", "words"} {
			n, _, err := cb.ReadFrom(buf)
			if err != nil || string(buf[:n]) != want {
				t.Fatalf("got %q, %v; want %q", buf[:n], err, want)
			}
		}
		if _, err := ca.WriteTo([]byte("late"), cb.LocalAddr()); err == nil {
			t.Fatal("a write after Close succeeded")
		}
	})
}
