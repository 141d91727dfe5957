//go:build !js

package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config configures a Handler. Its zero value builds ./demo-game of the lyn
// source tree it finds (see ModuleDir) with the go command on PATH, caches
// the result under the user cache directory, and points the page at a
// signaling server mounted at /signal/ on the same origin.
type Config struct {
	// SignalPath is where the signaling server (signaling.Server) is
	// mounted on the page's origin: the page joins
	// ws://<host><SignalPath><room> unless its URL names another server
	// (signal=). Default DefaultSignalPath; "/" when the server takes
	// every path but the handler's own.
	SignalPath string
	// Wasm is the path of a prebuilt browser build
	// (GOOS=js GOARCH=wasm go build -o lyn.wasm ./demo-game), for
	// deployments without Go. When set the handler never builds. Zero:
	// build when the Go toolchain and the source are there, else serve
	// lyn.wasm from the running executable's directory if it is there.
	Wasm string
	// WasmExecJS is the path of the wasm_exec.js that matches the Go
	// version that built the .wasm. Default: wasm_exec.js next to Wasm if
	// Wasm is set and it exists there, else the Go root's
	// (lib/wasm/wasm_exec.js since Go 1.24, misc/wasm/wasm_exec.js before).
	WasmExecJS string
	// ModuleDir is the root of the source tree to build (the directory
	// holding its go.mod). Default: the module of the working directory if it is
	// lyn, else the tree this package was compiled from, if it is still
	// there.
	ModuleDir string
	// Package is the main package to build, relative to ModuleDir (default
	// "./demo-game").
	Package string
	// Go is the go command (default: "go" on PATH, else the Go root's
	// bin/go).
	Go string
	// CacheDir keeps built .wasm files, one per source hash (default
	// <os.UserCacheDir()>/lyn/web). A build found there is not redone.
	CacheDir string
	// BuildTimeout bounds one build (default 10 minutes: a first build on
	// a small machine compiles pion for wasm).
	BuildTimeout time.Duration
	// Logger receives a line per build and per failure (default: discard).
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultSignalPath   = "/signal/"
	DefaultPackage      = "./demo-game"
	DefaultBuildTimeout = 10 * time.Minute
	// lynModule is the module path a source tree must have to be built.
	lynModule = "github.com/lynnet/lyn"
	// sourceRecheck is how long a computed source hash is trusted before a
	// page load checks the sources again (go list takes about a second).
	sourceRecheck = 2 * time.Second
	maxOutput     = 16 << 10
	// prebuiltName is the build a deployment puts beside the executable.
	prebuiltName = "lyn.wasm"
)

// executable is os.Executable (a variable for tests).
var executable = os.Executable

// Handler serves the browser build of the demo: the page at / (and
// /index.html), /wasm_exec.js and /lyn-<hash>.wasm. Every response that
// is an error is a readable page or text saying what to do.
type Handler struct {
	cfg Config
	log *slog.Logger

	// prebuilt is the artifact of Config.Wasm (nil when building).
	prebuilt *artifact

	mu        sync.Mutex
	builds    map[string]*artifact // by source key; at most a few
	lastKey   string
	lastKeyAt time.Time
	keyErr    error
	keying    chan struct{} // closed when the running hash ends (nil: none running)

	wasmExec     sync.Once
	wasmExecBody *compressed
	wasmExecErr  error

	goCmd     string
	moduleDir string
	setupErr  error // why building is impossible (nil: it may work)

	// Builds and source hashing run under ctx until Close cancels it and
	// waits for them (bg): no go build outlives the handler.
	ctx    context.Context
	cancel context.CancelFunc
	bgMu   sync.Mutex
	closed bool
	bg     sync.WaitGroup
}

// Close stops a running build (the go command is killed and its temporary
// file removed) and waits for it; the handler builds nothing afterwards and
// serves what it has. It is safe to call more than once.
func (h *Handler) Close() error {
	h.bgMu.Lock()
	h.closed = true
	h.bgMu.Unlock()
	h.cancel()
	h.bg.Wait()
	return nil
}

// startBuild runs a's build once, in the background.
func (h *Handler) startBuild(a *artifact) {
	h.bgMu.Lock()
	defer h.bgMu.Unlock()
	if h.closed {
		a.once.Do(func() {
			a.err = ErrClosed
			close(a.done)
		})
		return
	}
	h.bg.Go(func() { a.once.Do(func() { h.build(a) }) })
}

// artifact is one .wasm, built (or read) once.
type artifact struct {
	key  string
	once sync.Once
	done chan struct{}
	body *compressed
	err  error
}

// compressed is a file body with its gzip form.
type compressed struct {
	raw, gz []byte
	etag    string
}

// NewHandler returns a Handler for cfg. It fails only for a Config that can
// never work (an unreadable Wasm or WasmExecJS); a missing Go toolchain or
// source tree is reported by the page, since Wasm might be set later by a
// redeploy but the process must still answer.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.SignalPath == "" {
		cfg.SignalPath = DefaultSignalPath
	}
	cfg.SignalPath = cleanSignalPath(cfg.SignalPath)
	if cfg.Package == "" {
		cfg.Package = DefaultPackage
	}
	if cfg.BuildTimeout <= 0 {
		cfg.BuildTimeout = DefaultBuildTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, builds: make(map[string]*artifact)}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if cfg.Wasm == "" {
		h.goCmd, h.moduleDir, h.setupErr = findToolchain(cfg)
		if h.setupErr != nil {
			// No way to build: a deployment may ship the build beside the binary.
			if exe, err := executable(); err == nil {
				if p := filepath.Join(filepath.Dir(exe), prebuiltName); fileExists(p) {
					h.log.Info("web: serving the prebuilt wasm beside the executable", "path", p, "why_not_build", h.setupErr)
					cfg.Wasm, h.setupErr = p, nil
				}
			}
		}
	}
	if cfg.Wasm != "" {
		raw, err := os.ReadFile(cfg.Wasm)
		if err != nil {
			return nil, fmt.Errorf("web: Config.Wasm: %w", err)
		}
		if !bytes.HasPrefix(raw, []byte("\x00asm")) {
			return nil, fmt.Errorf("web: Config.Wasm: %s is not a WebAssembly module", cfg.Wasm)
		}
		a := &artifact{done: make(chan struct{})}
		a.body = compress(raw)
		a.key = a.body.etag
		a.once.Do(func() { close(a.done) })
		h.prebuilt = a
		if cfg.WasmExecJS == "" {
			if p := filepath.Join(filepath.Dir(cfg.Wasm), "wasm_exec.js"); fileExists(p) {
				h.cfg.WasmExecJS = p
			}
		}
	}
	if h.cfg.WasmExecJS != "" {
		if _, err := os.Stat(h.cfg.WasmExecJS); err != nil {
			return nil, fmt.Errorf("web: Config.WasmExecJS: %w", err)
		}
	}
	return h, nil
}

// Prepare builds (or finds in the cache) the .wasm now, so that the first
// page load does not wait for it. It returns the build's error, if any.
func (h *Handler) Prepare(ctx context.Context) error {
	a, err := h.current(ctx)
	if err != nil {
		return err
	}
	return h.wait(ctx, a)
}

// ServeHTTP serves the page, wasm_exec.js and the .wasm.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == "/" || p == "/index.html":
		h.serveIndex(w, r)
	case p == "/favicon.ico":
		w.WriteHeader(http.StatusNoContent) // none, and no 404 in the console
	case p == "/wasm_exec.js":
		h.serveWasmExec(w, r)
	case strings.HasPrefix(p, "/lyn-") && strings.HasSuffix(p, ".wasm"):
		h.serveWasm(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/lyn-"), ".wasm"))
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	page := pageData{SignalPath: h.cfg.SignalPath}
	pageURL := "http://" + r.Host + r.URL.RequestURI()
	if r.TLS != nil {
		pageURL = "https://" + r.Host + r.URL.RequestURI()
	}
	if _, err := ParseOptions(pageURL, h.cfg.SignalPath); err != nil {
		page.Error, page.Hint = err.Error(), "Fix the address and reload. Example: "+JoinURL("", Options{Room: "duel", Players: 2, Delay: DefaultDelay, Name: "ana"})
		h.servePage(w, http.StatusBadRequest, page)
		return
	}
	a, err := h.current(r.Context())
	switch {
	case errors.Is(err, ErrNoWasm):
		page.Error, page.Hint = err.Error(), "Run this server from a lyn checkout with Go installed, or deploy a prebuilt wasm (see demo-game/web/README.md)."
		h.servePage(w, http.StatusServiceUnavailable, page)
		return
	case err != nil:
		page.Error = err.Error()
		h.servePage(w, http.StatusInternalServerError, page)
		return
	}
	select {
	case <-a.done:
		if a.err != nil {
			page.Error = a.err.Error()
			h.servePage(w, http.StatusInternalServerError, page)
			return
		}
	default: // still building: the page's fetch of the .wasm waits for it
		page.Building = true
	}
	page.WasmURL = "lyn-" + a.key + ".wasm"
	h.servePage(w, http.StatusOK, page)
}

func (h *Handler) servePage(w http.ResponseWriter, status int, page pageData) {
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, page); err != nil {
		h.log.Error("web: index template", "err", err)
		http.Error(w, "web: index template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *Handler) serveWasmExec(w http.ResponseWriter, r *http.Request) {
	h.wasmExec.Do(func() {
		path := h.cfg.WasmExecJS
		if path == "" {
			path, h.wasmExecErr = h.goRootWasmExec(r.Context())
			if h.wasmExecErr != nil {
				return
			}
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			h.wasmExecErr = fmt.Errorf("web: wasm_exec.js: %w", err)
			return
		}
		h.wasmExecBody = compress(raw)
	})
	if h.wasmExecErr != nil {
		http.Error(w, h.wasmExecErr.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	serveCompressed(w, r, "text/javascript; charset=utf-8", h.wasmExecBody)
}

func (h *Handler) serveWasm(w http.ResponseWriter, r *http.Request, key string) {
	a, err := h.lookup(r.Context(), key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if a == nil {
		http.Error(w, "web: this build is gone (the source changed); reload the page", http.StatusNotFound)
		return
	}
	if err := h.wait(r.Context(), a); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The name holds the source hash: the content never changes.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	serveCompressed(w, r, "application/wasm", a.body)
}

// lookup finds the artifact a page asked for by key.
func (h *Handler) lookup(ctx context.Context, key string) (*artifact, error) {
	if h.prebuilt != nil {
		if key == h.prebuilt.key {
			return h.prebuilt, nil
		}
		return nil, nil
	}
	h.mu.Lock()
	a := h.builds[key]
	h.mu.Unlock()
	if a != nil {
		return a, nil
	}
	// A page from before a restart: its key may still be the current one.
	a, err := h.current(ctx)
	if err != nil || a.key != key {
		return nil, err
	}
	return a, nil
}

// wait starts a's build if nobody did and waits for it or ctx.
func (h *Handler) wait(ctx context.Context, a *artifact) error {
	h.startBuild(a)
	select {
	case <-a.done:
		return a.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// current returns the artifact of the sources as they are now, starting
// its build in the background.
func (h *Handler) current(ctx context.Context) (*artifact, error) {
	if h.prebuilt != nil {
		return h.prebuilt, nil
	}
	if h.setupErr != nil {
		return nil, h.setupErr
	}
	key, err := h.sourceKey(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	a := h.builds[key]
	if a == nil {
		a = &artifact{key: key, done: make(chan struct{})}
		// Keep the builds of the last few source versions only.
		if len(h.builds) >= 4 {
			for k := range h.builds {
				if k != h.lastKey {
					delete(h.builds, k)
				}
			}
		}
		h.builds[key] = a
	}
	h.mu.Unlock()
	h.startBuild(a)
	return a, nil
}

// sourceKey hashes the sources of the build, at most once per
// sourceRecheck; concurrent callers share one go list.
func (h *Handler) sourceKey(ctx context.Context) (string, error) {
	for {
		h.mu.Lock()
		if h.lastKey != "" && time.Since(h.lastKeyAt) < sourceRecheck {
			k := h.lastKey
			h.mu.Unlock()
			return k, nil
		}
		if ch := h.keying; ch != nil {
			h.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			h.mu.Lock()
			k, err := h.lastKey, h.keyErr
			h.mu.Unlock()
			if err != nil {
				return "", err
			}
			if k != "" {
				return k, nil
			}
			continue
		}
		ch := make(chan struct{})
		h.keying = ch
		h.mu.Unlock()

		// Not tied to one request: others wait for it.
		kctx, cancel := context.WithTimeout(h.ctx, time.Minute)
		k, err := h.hashSources(kctx)
		cancel()
		h.mu.Lock()
		h.keying, h.keyErr = nil, err
		if err == nil {
			h.lastKey, h.lastKeyAt = k, time.Now()
		}
		h.mu.Unlock()
		close(ch)
		return k, err
	}
}

// listedPackage is what hashSources reads of `go list -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	EmbedFiles []string
	Standard   bool
	Module     *struct {
		Path    string
		Version string
		Main    bool
		Replace *struct{ Path, Version string }
	}
}

// hashSources is the build's cache key: the Go version, the build command
// and every file of the main module's packages in the build (the other
// modules by path and version, which go.sum pins).
func (h *Handler) hashSources(ctx context.Context) (string, error) {
	out, err := h.goOutput(ctx, "list", "-deps", "-json=ImportPath,Dir,GoFiles,EmbedFiles,Standard,Module", h.cfg.Package)
	if err != nil {
		return "", err
	}
	ver, err := h.goOutput(ctx, "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "go %s\nbuild %q\n", bytes.TrimSpace(ver), buildArgs("x", h.cfg.Package))
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("web: go list output: %w", err)
		}
		if p.Standard {
			continue
		}
		if p.Module != nil && !p.Module.Main && (p.Module.Replace == nil || p.Module.Replace.Version != "") {
			rep := ""
			if p.Module.Replace != nil {
				rep = p.Module.Replace.Path + "@" + p.Module.Replace.Version
			}
			fmt.Fprintf(sum, "pkg %s %s@%s %s\n", p.ImportPath, p.Module.Path, p.Module.Version, rep)
			continue
		}
		// The main module (or a local replacement): hash the files.
		fmt.Fprintf(sum, "pkg %s\n", p.ImportPath)
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				return "", fmt.Errorf("web: hashing sources: %w", err)
			}
			fmt.Fprintf(sum, "file %s %d\n", f, len(b))
			sum.Write(b)
		}
	}
	return hex.EncodeToString(sum.Sum(nil)[:12]), nil
}

// build fills a: from the disk cache if it is there, else with go build.
func (h *Handler) build(a *artifact) {
	defer close(a.done)
	dir, err := h.cacheDir()
	if err != nil {
		a.err = err
		return
	}
	path := filepath.Join(dir, "lyn-"+a.key+".wasm")
	if raw, err := os.ReadFile(path); err == nil && bytes.HasPrefix(raw, []byte("\x00asm")) {
		h.log.Info("web: wasm from cache", "path", path, "bytes", len(raw))
		a.body = compress(raw)
		return
	}
	h.sweepTemps(dir)
	tmp, err := os.CreateTemp(dir, "lyn-*.wasm.tmp")
	if err != nil {
		a.err = fmt.Errorf("web: cache: %w", err)
		return
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	start := time.Now()
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.BuildTimeout)
	defer cancel()
	h.log.Info("web: building wasm", "package", h.cfg.Package, "dir", h.moduleDir, "key", a.key)
	if _, err := h.goOutput(ctx, buildArgs(tmp.Name(), h.cfg.Package)...); err != nil {
		a.err = err
		if h.ctx.Err() != nil {
			a.err = fmt.Errorf("%w: the build was stopped: %w", ErrClosed, err)
		}
		h.log.Error("web: wasm build failed", "err", err)
		return
	}
	raw, err := os.ReadFile(tmp.Name())
	if err != nil {
		a.err = fmt.Errorf("web: reading the build: %w", err)
		return
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		// Serving works without the disk cache; the next process rebuilds.
		h.log.Warn("web: cannot cache the wasm", "err", err)
	}
	h.pruneCache(dir, cachedBuilds)
	a.body = compress(raw)
	h.log.Info("web: built wasm", "key", a.key, "bytes", len(raw), "gzip_bytes", len(a.body.gz), "took", time.Since(start).Round(time.Millisecond))
}

// buildArgs is the go build command line: stripped of debug information
// (a smaller download) and of local paths.
func buildArgs(out, pkg string) []string {
	return []string{"build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg}
}

func (h *Handler) cacheDir() (string, error) {
	dir := h.cfg.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("web: no cache directory (set Config.CacheDir): %w", err)
		}
		dir = filepath.Join(base, "lyn", "web")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("web: cache: %w", err)
	}
	return dir, nil
}

// goOutput runs the go command for js/wasm in the module directory.
func (h *Handler) goOutput(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, h.goCmd, args...)
	cmd.Dir = h.moduleDir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		out := stderr.String()
		if len(out) > maxOutput {
			out = out[:maxOutput] + "\n…"
		}
		return nil, &BuildError{Cmd: "GOOS=js GOARCH=wasm go " + strings.Join(args, " "), Output: out, Err: err}
	}
	return stdout.Bytes(), nil
}

// goRootWasmExec finds wasm_exec.js in the Go root.
func (h *Handler) goRootWasmExec(ctx context.Context) (string, error) {
	var roots []string
	if h.goCmd != "" {
		if out, err := h.goOutput(ctx, "env", "GOROOT"); err == nil {
			roots = append(roots, strings.TrimSpace(string(out)))
		}
	}
	if r := runtime.GOROOT(); r != "" { //nolint:staticcheck // the fallback when no go command runs
		roots = append(roots, r)
	}
	for _, root := range roots {
		for _, rel := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
			if p := filepath.Join(root, rel); fileExists(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("web: no wasm_exec.js in the Go root (%s); set Config.WasmExecJS", strings.Join(roots, ", "))
}

// findToolchain finds the go command and the lyn source tree.
func findToolchain(cfg Config) (goCmd, moduleDir string, err error) {
	goCmd = cfg.Go
	if goCmd != "" {
		p, lerr := exec.LookPath(goCmd)
		if lerr != nil {
			return "", "", fmt.Errorf("%w: Config.Go: %v", ErrNoWasm, lerr)
		}
		goCmd = p
	} else {
		if p, lerr := exec.LookPath("go"); lerr == nil {
			goCmd = p
		} else if p := filepath.Join(runtime.GOROOT(), "bin", "go"); runtime.GOROOT() != "" && fileExists(p) { //nolint:staticcheck // see goRootWasmExec
			goCmd = p
		} else {
			return "", "", fmt.Errorf("%w: no go command on PATH", ErrNoWasm)
		}
	}
	if cfg.ModuleDir != "" {
		if !fileExists(filepath.Join(cfg.ModuleDir, "go.mod")) {
			return "", "", fmt.Errorf("%w: Config.ModuleDir %s holds no go.mod", ErrNoWasm, cfg.ModuleDir)
		}
		return goCmd, cfg.ModuleDir, nil
	}
	var tried []string
	if wd, werr := os.Getwd(); werr == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if fileExists(filepath.Join(d, "go.mod")) {
				if isLynModule(d) {
					return goCmd, d, nil
				}
				tried = append(tried, d)
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	// The tree this package was compiled from (absent with -trimpath).
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		d := filepath.Dir(filepath.Dir(filepath.Dir(file))) // demo-game/web/handler.go
		if isLynModule(d) {
			return goCmd, d, nil
		}
		tried = append(tried, d)
	}
	return "", "", fmt.Errorf("%w: no lyn source tree (tried %s); set Config.ModuleDir", ErrNoWasm, strings.Join(tried, ", "))
}

func isLynModule(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == lynModule
		}
	}
	return false
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// compress keeps raw and its gzip form (compressed once, served many times).
func compress(raw []byte) *compressed {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	sum := sha256.Sum256(raw)
	return &compressed{raw: raw, gz: b.Bytes(), etag: hex.EncodeToString(sum[:12])}
}

// serveCompressed serves body, gzipped when the client takes gzip.
func serveCompressed(w http.ResponseWriter, r *http.Request, contentType string, body *compressed) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Add("Vary", "Accept-Encoding")
	data, etag := body.raw, `"`+body.etag+`"`
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		data, etag = body.gz, `"`+body.etag+`-gz"`
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) with a q that is
// not zero.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}

// sweepTemps removes temporary build outputs that no build can still be
// writing (older than a build may take): a process killed mid-build leaves
// its temporary file behind.
func (h *Handler) sweepTemps(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, "lyn-*.wasm.tmp"))
	for _, p := range old {
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > h.cfg.BuildTimeout {
			_ = os.Remove(p)
		}
	}
}

// cachedBuilds is how many .wasm builds (about 30 MB each) the disk cache
// keeps: every source change makes a new one.
const cachedBuilds = 4

// pruneCache removes all but the keep most recent builds from dir.
func (h *Handler) pruneCache(dir string, keep int) {
	paths, _ := filepath.Glob(filepath.Join(dir, "lyn-*.wasm"))
	type built struct {
		path string
		mod  time.Time
	}
	var all []built
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			all = append(all, built{p, fi.ModTime()})
		}
	}
	slices.SortFunc(all, func(a, b built) int { return b.mod.Compare(a.mod) })
	for _, b := range all[min(keep, len(all)):] {
		if err := os.Remove(b.path); err == nil {
			h.log.Info("web: removed an old build from the cache", "path", b.path)
		}
	}
}
