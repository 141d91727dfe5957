//go:build !js

package web

import (
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
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
