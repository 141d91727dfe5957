package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Options are what the page plays with. The page reads them from its own URL
// (ParseOptions); JoinURL writes them into one. The zero value of every
// field is a default (see the Default* constants).
type Options struct {
	// Signal is the signaling room URL, ws:// or wss://. Empty: the room
	// Room on the signaling server at the page's own origin, under the
	// signaling path the handler was configured with.
	Signal string
	// Room is the room's name on the page origin's signaling server
	// (default DefaultRoom). Only one of Signal and Room may be given.
	Room string
	// Players is the room's size, 2 to 8 (default DefaultPlayers).
	Players int
	// Delay is the input delay in frames, 0 to MaxDelay. Zero in a page URL
	// is written delay=0; a missing key means DefaultDelay.
	Delay int
	// Name is the player's name as the page shows it, up to MaxNameLen
	// printable characters (default: the view's "P1" ... "P8").
	Name string
	// Timeout is how long a silent peer may stay silent before its
	// players are dropped, 1 s to MaxTimeout (default DefaultTimeout; in a
	// URL, timeout=<seconds>). A browser tab hitches more than a native
	// program (garbage collection, a busy main thread, software WebGL).
	Timeout time.Duration
	// Frames, if positive, ends the match once frame Frames is confirmed
	// (frames=<n>); the page then shows the last picture and reports that
	// frame's checksum. Zero: play on.
	Frames int
	// Bot plays this seat with the demo's bot instead of the keyboard.
	Bot bool
	// LoopbackOnly makes the page drop every ICE candidate, local or
	// remote, that is not a UDP candidate on 127.0.0.1 (for tests: the
	// browser then only talks over loopback).
	LoopbackOnly bool
}

// Defaults and bounds of Options.
const (
	DefaultRoom    = "lyn"
	DefaultPlayers = 2
	DefaultDelay   = 2
	MaxPlayers     = 8
	MaxDelay       = 30
	MaxNameLen     = 16
	DefaultTimeout = 5 * time.Second
	MaxTimeout     = 10 * time.Minute
	MaxFrames      = 100_000_000
	// maxQueryLen bounds what ParseOptions looks at: no page URL of ours is
	// anywhere near it.
	maxQueryLen = 4096
)

// ParseOptions reads the options of the page at pageURL (its query string)
// and resolves the signaling room URL against the page's origin: for
// http://host:8080/?room=duel and signalPath "/signal/" it is
// ws://host:8080/signal/duel (wss for https). The returned Options has
// Signal always set, Room set when the room is on the page's origin, and
// every default applied. Errors wrap ErrBadOptions and say which key is bad.
func ParseOptions(pageURL, signalPath string) (Options, error) {
	var o Options
	if len(pageURL) > maxQueryLen {
		return o, fmt.Errorf("%w: page URL longer than %d bytes", ErrBadOptions, maxQueryLen)
	}
	page, err := url.Parse(pageURL)
	if err != nil {
		return o, fmt.Errorf("%w: page URL: %v", ErrBadOptions, err)
	}
	q, err := url.ParseQuery(page.RawQuery)
	if err != nil {
		return o, fmt.Errorf("%w: query: %v", ErrBadOptions, err)
	}
	o.Players, o.Delay, o.Timeout = DefaultPlayers, DefaultDelay, DefaultTimeout
	for key, vals := range q {
		if len(vals) != 1 {
			return o, fmt.Errorf("%w: %q given %d times", ErrBadOptions, key, len(vals))
		}
		v := vals[0]
		switch key {
		case "signal":
			o.Signal = v
		case "room":
			o.Room = v
		case "players":
			o.Players, err = intIn(key, v, 2, MaxPlayers)
		case "delay":
			o.Delay, err = intIn(key, v, 0, MaxDelay)
		case "timeout":
			var sec int
			sec, err = intIn(key, v, 1, int(MaxTimeout/time.Second))
			o.Timeout = time.Duration(sec) * time.Second
		case "frames":
			o.Frames, err = intIn(key, v, 0, MaxFrames)
		case "name":
			o.Name, err = name(v)
		case "bot":
			o.Bot, err = flag(key, v)
		case "loopback":
			o.LoopbackOnly, err = flag(key, v)
		default:
			return o, fmt.Errorf("%w: unknown option %q (known: signal, room, players, delay, timeout, frames, name, bot, loopback)", ErrBadOptions, truncate(key, 32))
		}
		if err != nil {
			return o, err
		}
	}
	switch {
	case o.Signal != "" && o.Room != "":
		return o, fmt.Errorf("%w: give signal or room, not both", ErrBadOptions)
	case o.Signal != "":
		if err := checkSignalURL(o.Signal); err != nil {
			return o, err
		}
	default:
		if o.Room == "" {
			o.Room = DefaultRoom
		}
		if !ValidRoom(o.Room) {
			return o, fmt.Errorf("%w: room %q: 1 to 64 of A-Z a-z 0-9 . _ -", ErrBadOptions, truncate(o.Room, 70))
		}
		var scheme string
		switch page.Scheme {
		case "http":
			scheme = "ws"
		case "https":
			scheme = "wss"
		default:
			return o, fmt.Errorf("%w: a page served over %q needs signal=ws://... (no origin to find the room on)", ErrBadOptions, truncate(page.Scheme, 16))
		}
		if page.Host == "" {
			return o, fmt.Errorf("%w: page URL has no host; give signal=ws://...", ErrBadOptions)
		}
		u := url.URL{Scheme: scheme, Host: page.Host, Path: cleanSignalPath(signalPath) + o.Room}
		o.Signal = u.String()
	}
	return o, nil
}

// JoinURL is the page URL at origin (e.g. "http://host:8080") that plays
// with o; ParseOptions of it gives o back with defaults applied. When Room
// is set the room is on origin's signaling server and Signal is left out
// (ParseOptions derives it); otherwise Signal is written. Fields at their
// defaults are left out.
func JoinURL(origin string, o Options) string {
	q := url.Values{}
	switch {
	case o.Room != "":
		if o.Room != DefaultRoom {
			q.Set("room", o.Room)
		}
	case o.Signal != "":
		q.Set("signal", o.Signal)
	}
	if o.Players != 0 && o.Players != DefaultPlayers {
		q.Set("players", strconv.Itoa(o.Players))
	}
	if o.Delay != DefaultDelay {
		q.Set("delay", strconv.Itoa(o.Delay))
	}
	if o.Timeout != 0 && o.Timeout != DefaultTimeout {
		q.Set("timeout", strconv.Itoa(int(max(o.Timeout/time.Second, 1))))
	}
	if o.Frames > 0 {
		q.Set("frames", strconv.Itoa(o.Frames))
	}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	if o.Bot {
		q.Set("bot", "1")
	}
	if o.LoopbackOnly {
		q.Set("loopback", "1")
	}
	u := strings.TrimSuffix(origin, "/") + "/"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// ValidRoom reports whether name is a room name the signaling server takes:
// 1 to 64 of A-Z a-z 0-9 . _ -.
func ValidRoom(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// cleanSignalPath makes "", "signal" or "/signal" into "/", "/signal/".
func cleanSignalPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func checkSignalURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: signal: %v", ErrBadOptions, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("%w: signal: want a ws:// or wss:// URL, got scheme %q", ErrBadOptions, truncate(u.Scheme, 16))
	}
	if u.Host == "" {
		return fmt.Errorf("%w: signal: no host", ErrBadOptions)
	}
	room := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	if !ValidRoom(room) {
		return fmt.Errorf("%w: signal: the path must end in a room name (1 to 64 of A-Z a-z 0-9 . _ -)", ErrBadOptions)
	}
	return nil
}

func intIn(key, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: %s=%q: want a number from %d to %d", ErrBadOptions, key, truncate(v, 16), lo, hi)
	}
	return n, nil
}

func flag(key, v string) (bool, error) {
	switch v {
	case "", "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s=%q: want 1 or 0", ErrBadOptions, key, truncate(v, 16))
}

func name(v string) (string, error) {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxNameLen {
		return "", fmt.Errorf("%w: name: up to %d characters of valid UTF-8", ErrBadOptions, MaxNameLen)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return "", fmt.Errorf("%w: name: %U is not printable", ErrBadOptions, r)
		}
	}
	return strings.TrimSpace(v), nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
