package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lynnet/lyn/internal/syncbuf"
	"github.com/lynnet/lyn/signaling"
)

// TestBinary builds lyn-signal, runs it on loopback with the embedded STUN/TURN relay,
// joins a room, and stops it with SIGTERM, expecting exit code 0.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "lyn-signal")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	const secret = "turn-test-secret"
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-turn-addr", "127.0.0.1:0",
		"-turn-secret", secret, "-max-rooms", "10")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	var logs syncbuf.Buffer
	addrc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	var addr string
	select {
	case addr = <-addrc:
	case err := <-exited:
		t.Fatalf("exited early: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("no listening line:\n%s", logs.String())
	}

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %s", resp.Status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := signaling.Dial(ctx, "ws://"+addr+"/bin-room", signaling.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := signaling.Dial(ctx, "ws://"+addr+"/bin-room", signaling.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ice := a.Welcome().ICEServers
	if len(ice) != 2 || !strings.HasPrefix(ice[0].URLs[0], "stun:127.0.0.1:") ||
		!strings.HasPrefix(ice[1].URLs[0], "turn:127.0.0.1:") || ice[1].Username == "" || ice[1].Credential == "" {
		t.Fatalf("ice servers %+v", ice)
	}
	for {
		ev, err := b.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.(*signaling.Start); ok {
			break
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("did not exit after SIGTERM:\n%s", logs.String())
	}
	for {
		if _, err := a.Recv(ctx); err != nil {
			if !errors.Is(err, signaling.ErrServerGoingAway) {
				t.Fatalf("client ended with %v, want going away", err)
			}
			break
		}
	}
	out := logs.String()
	if strings.Contains(out, secret) || strings.Contains(out, ice[1].Credential) {
		t.Fatalf("a secret reached the logs:\n%s", out)
	}
	if !strings.Contains(out, "msg=stopped") {
		t.Fatalf("no clean stop in logs:\n%s", out)
	}
}
