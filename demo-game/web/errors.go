package web

import (
	"errors"
	"fmt"
)

var (
	// ErrBadOptions is wrapped by ParseOptions for a page URL whose query
	// cannot be played with (unknown key, players out of range, ...).
	ErrBadOptions = errors.New("web: bad page options")
	// ErrNoWasm means the handler can neither build the .wasm (no Go
	// toolchain, or no lyn source tree) nor serve a prebuilt one.
	ErrNoWasm = errors.New("web: no wasm: neither a Go toolchain with the lyn source nor Config.Wasm")
	// ErrBuild is wrapped by BuildError.
	ErrBuild = errors.New("web: building the wasm failed")
)

// BuildError is a failed `go build` (or `go list`) of the browser build,
// with what the go command printed.
type BuildError struct {
	Cmd    string // the command line, for the error page
	Output string // combined output of the go command (truncated)
	Err    error  // the exec error (exit status, timeout)
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("web: %s: %v\n%s", e.Cmd, e.Err, e.Output)
}

// Unwrap lets errors.Is find ErrBuild and the exec error.
func (e *BuildError) Unwrap() []error { return []error{ErrBuild, e.Err} }
