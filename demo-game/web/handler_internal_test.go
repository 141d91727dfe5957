//go:build !js

package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"
)

// TestPrebuiltBesideExecutable: without Go, the handler serves lyn.wasm
// and wasm_exec.js from the executable's directory.
func TestPrebuiltBesideExecutable(t *testing.T) {
	dir := t.TempDir()
	module := []byte("\x00asm\x01\x00\x00\x00") // an empty WebAssembly module
	os.WriteFile(filepath.Join(dir, prebuiltName), module, 0o644)
	os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("globalThis.Go = class {};"), 0o644)
	saved := executable
	executable = func() (string, error) { return filepath.Join(dir, "demo-game"), nil }
	defer func() { executable = saved }()

	h, err := NewHandler(Config{Go: "/nonexistent/go"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	name := regexp.MustCompile(`lyn-[0-9a-f]+\.wasm`).FindString(rec.Body.String())
	if rec.Code != 200 || name == "" {
		t.Fatalf("GET /: %d\n%s", rec.Code, rec.Body)
	}
	for path, want := range map[string][]byte{"/" + name: module, "/wasm_exec.js": []byte("globalThis.Go = class {};")} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got, _ := io.ReadAll(rec.Body); rec.Code != 200 || !bytes.Equal(got, want) {
			t.Errorf("GET %s: %d %q", path, rec.Code, got)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true, "br": false,
		"gzip;q=0": false, "gzip; q=0.000": false, "*": true, "x-gzip": true, "identity": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}

// TestPruneCacheKeepsNewest: every source change caches a new ~30 MB build;
// only the newest few stay.
func TestPruneCacheKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for i := range 6 {
		p := filepath.Join(dir, fmt.Sprintf("lyn-%d.wasm", i))
		if err := os.WriteFile(p, []byte("\x00asm"), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := now.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "unrelated.txt")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Config{Wasm: filepath.Join(dir, "lyn-5.wasm")})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.pruneCache(dir, 4)
	left, _ := filepath.Glob(filepath.Join(dir, "lyn-*.wasm"))
	slices.Sort(left)
	want := []string{"lyn-2.wasm", "lyn-3.wasm", "lyn-4.wasm", "lyn-5.wasm"}
	if len(left) != len(want) {
		t.Fatalf("left %v, want %v", left, want)
	}
	for i := range want {
		if filepath.Base(left[i]) != want[i] {
			t.Fatalf("left %v, want %v", left, want)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("an unrelated file was removed: %v", err)
	}
}
