//go:build !js

package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lynnet/lyn/demo-game/web"
)

// logCounter counts log records by message.
type logCounter struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (c *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.msgs == nil {
		c.msgs = map[string]int{}
	}
	c.msgs[r.Message]++
	return nil
}
func (c *logCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCounter) WithGroup(string) slog.Handler      { return c }
func (c *logCounter) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs[msg]
}

// testModule is the small program the tests build instead of the demo.
func testModule(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func get(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var wasmURL = regexp.MustCompile(`lyn-[0-9a-f]+\.wasm`)

// TestHandlerBuildsOnceAndServes builds a small wasm program through the
// handler: concurrent first requests share one build, the page names the
// .wasm by its hash, content types are right, gzip is served to clients
// that take it, and a second handler finds the build in the disk cache.
func TestHandlerBuildsOnceAndServes(t *testing.T) {
	defer goleak.VerifyNone(t)
	cache := t.TempDir()
	logs := &logCounter{}
	cfg := web.Config{ModuleDir: testModule(t, "hello"), Package: ".", CacheDir: cache, Logger: slog.New(logs)}
	h, err := web.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Concurrent first requests: pages and the wasm itself.
	var wg sync.WaitGroup
	pages := make([]string, 8)
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := get(t, h, "/?room=duel")
			if r.StatusCode != http.StatusOK {
				t.Errorf("GET /: %s", r.Status)
			}
			pages[i] = string(body(t, r))
		}()
	}
	wg.Wait()
	name := wasmURL.FindString(pages[0])
	if name == "" {
		t.Fatalf("page names no wasm:\n%s", pages[0])
	}
	wasms := make([][]byte, 6)
	for i := range wasms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := get(t, h, "/"+name)
			if r.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %s %s", name, r.Status, body(t, r))
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/wasm" {
				t.Errorf("wasm content type %q", ct)
			}
			if ce := r.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("no Accept-Encoding, yet Content-Encoding %q", ce)
			}
			wasms[i] = body(t, r)
		}()
	}
	wg.Wait()
	for i, p := range pages {
		if got := wasmURL.FindString(p); got != name {
			t.Errorf("page %d names %q, page 0 %q", i, got, name)
		}
	}
	if n := logs.count("web: building wasm"); n != 1 {
		t.Errorf("%d builds for concurrent first requests, want 1", n)
	}
	raw := wasms[0]
	if !bytes.HasPrefix(raw, []byte("\x00asm")) {
		t.Fatalf("wasm starts with %q", raw[:min(8, len(raw))])
	}
	for i := range wasms {
		if !bytes.Equal(wasms[i], raw) {
			t.Errorf("response %d differs", i)
		}
	}

	// Gzip for those who take it, the same bytes once inflated.
	r := get(t, h, "/"+name, "Accept-Encoding", "br;q=1, gzip;q=0.8")
	if r.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: headers %v", r.Header)
	}
	gz := body(t, r)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(inflated, raw) {
		t.Fatalf("gzip body does not inflate to the wasm (err %v)", err)
	}
	t.Logf("wasm %d bytes, gzip %d", len(raw), len(gz))
	if r := get(t, h, "/"+name, "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got Content-Encoding %q", r.Header.Get("Content-Encoding"))
	}
	// Cached by the browser for good; revalidation by ETag.
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("wasm Cache-Control %q", cc)
	}
	if r2 := get(t, h, "/"+name, "Accept-Encoding", "gzip", "If-None-Match", r.Header.Get("ETag")); r2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s", r2.Status)
	}

	// wasm_exec.js from the Go root.
	r = get(t, h, "/wasm_exec.js")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("wasm_exec.js: %s %q", r.Status, r.Header.Get("Content-Type"))
	}
	if !bytes.Contains(body(t, r), []byte("Go = class")) {
		t.Error("wasm_exec.js does not define Go")
	}
	if r := get(t, h, "/lyn-0000.wasm"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown wasm: %s", r.Status)
	}
	if r := get(t, h, "/nothing"); r.StatusCode != http.StatusNotFound {
		t.Errorf("/nothing: %s", r.Status)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", rec.Code)
	}

	// A new handler (a restart) finds the build on disk.
	logs2 := &logCounter{}
	cfg.Logger = slog.New(logs2)
	h2, err := web.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h2.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if logs2.count("web: building wasm") != 0 || logs2.count("web: wasm from cache") != 1 {
		t.Errorf("restart: %v, want the wasm from the cache", logs2.msgs)
	}
	if got := body(t, get(t, h2, "/"+name)); !bytes.Equal(got, raw) {
		t.Error("cached wasm differs")
	}

	// The same file, prebuilt, served without Go.
	prebuilt := filepath.Join(cache, strings.TrimPrefix(name, "/"))
	h3, err := web.NewHandler(web.Config{Wasm: prebuilt, Go: "/nonexistent/go"})
	if err != nil {
		t.Fatal(err)
	}
	page := string(body(t, get(t, h3, "/")))
	name3 := wasmURL.FindString(page)
	if name3 == "" {
		t.Fatalf("prebuilt page names no wasm:\n%s", page)
	}
	if got := body(t, get(t, h3, "/"+name3)); !bytes.Equal(got, raw) {
		t.Error("prebuilt wasm differs")
	}
}

func TestHandlerBadOptions(t *testing.T) {
	h, err := web.NewHandler(web.Config{ModuleDir: testModule(t, "hello"), Package: ".", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"?players=9", "?delay=x", "?colour=red", "?room=a/b", "?signal=http://x/y", "?room=a&room=b"} {
		r := get(t, h, "/"+q)
		b := string(body(t, r))
		if r.StatusCode != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %s %q", q, r.Status, r.Header.Get("Content-Type"))
		}
		if !strings.Contains(b, "bad page options") || strings.Contains(b, "wasm_exec.js") {
			t.Errorf("%s: page does not say what is wrong, or loads the game:\n%s", q, b)
		}
	}
}

func TestHandlerNoWasm(t *testing.T) {
	h, err := web.NewHandler(web.Config{Go: "/nonexistent/go"})
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, h, "/")
	b := string(body(t, r))
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "no wasm") || !strings.Contains(b, "prebuilt") {
		t.Errorf("%s:\n%s", r.Status, b)
	}
	if err := h.Prepare(context.Background()); !errors.Is(err, web.ErrNoWasm) {
		t.Errorf("Prepare: %v, want ErrNoWasm", err)
	}

	notWasm := filepath.Join(t.TempDir(), "x.wasm")
	os.WriteFile(notWasm, []byte("<html>"), 0o644)
	if _, err := web.NewHandler(web.Config{Wasm: notWasm}); err == nil {
		t.Error("NewHandler took a Wasm that is not WebAssembly")
	}
	if _, err := web.NewHandler(web.Config{Wasm: filepath.Join(t.TempDir(), "missing.wasm")}); err == nil {
		t.Error("NewHandler took a missing Wasm")
	}
}

// TestHandlerBuildError: go build's output reaches the .wasm request and,
// once known, the page.
func TestHandlerBuildError(t *testing.T) {
	defer goleak.VerifyNone(t)
	h, err := web.NewHandler(web.Config{ModuleDir: testModule(t, "broken"), Package: ".", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = h.Prepare(ctx)
	var be *web.BuildError
	if !errors.As(err, &be) || !errors.Is(err, web.ErrBuild) || !strings.Contains(be.Output, "undefinedOnPurpose") {
		t.Fatalf("Prepare: %v", err)
	}
	r := get(t, h, "/")
	if b := string(body(t, r)); r.StatusCode != http.StatusInternalServerError || !strings.Contains(b, "undefinedOnPurpose") {
		t.Errorf("page after a failed build: %s\n%s", r.Status, b)
	}
}
