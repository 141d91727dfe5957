package rollback

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults used where a Config field is left at its zero value.
const (
	DefaultMaxPrediction         = 8
	DefaultFrameRate             = 60
	DefaultDisconnectTimeout     = 2000 * time.Millisecond
	DefaultDisconnectNotifyStart = 500 * time.Millisecond
	DefaultChecksumInterval      = 30
	DefaultInputHistory          = 256
	// MaxPlayers bounds Config.Players.
	MaxPlayers = 64
	// MaxInputDelay bounds input delays.
	MaxInputDelay = 30
)

// Config describes a peer-to-peer session. The zero value of every field but
// Players and Self is a sensible default.
type Config[I comparable] struct {
	// Players lists the peer that hosts each player: player i's input comes
	// from peer Players[i]. A peer may host several players (couch play).
	// Every peer must be given the same list.
	Players []PeerID
	// Self is this peer. It hosts the players whose entry is Self.
	Self PeerID
	// Spectators are peers that watch: this peer sends them every confirmed
	// input and, if they join late, a snapshot to start from. Usually only
	// one player peer (the host) lists them.
	Spectators []PeerID

	// InputDelay is how many frames later than it was sampled a local input
	// takes effect (default 0). More delay means fewer rollbacks. It can be
	// changed while running with SetInputDelay.
	InputDelay int
	// MaxPrediction is how many frames the session may run ahead of the last
	// frame for which it holds every input (default 8). Ignored when Lockstep.
	MaxPrediction int
	// Lockstep makes the session wait for every input and never predict
	// (GGPO's and GGRS's "prediction window 0"). It rolls back only to apply
	// a disconnect frame the peers agreed on after it had advanced past it.
	Lockstep bool
	// FrameRate is the game's nominal frames per second (default 60). Time
	// sync advice is expressed against it.
	FrameRate int

	// DisconnectTimeout is how long a peer may stay silent before its players
	// are disconnected (default 2 s).
	DisconnectTimeout time.Duration
	// DisconnectNotifyStart is how long a peer may stay silent before
	// EventPeerInterrupted says so (default 500 ms).
	DisconnectNotifyStart time.Duration

	// ChecksumInterval: every this many confirmed frames peers compare state
	// checksums (default 30). DisableDesyncDetection turns it off.
	ChecksumInterval       int
	DisableDesyncDetection bool

	// Predict guesses a remote player's input for a frame not yet received,
	// from the last one received (the zero input if none arrived yet). The
	// default repeats it. It must not keep state between calls that the
	// engine does not know of.
	Predict func(player Player, last I) I

	// InputHistory is how many recent frames of every player's input are kept
	// for spectators to catch up from (default 256).
	InputHistory int

	// Recorder, if set, receives every confirmed frame's inputs in order and
	// the periodic checksums, e.g. a replay.Writer.
	Recorder Recorder[I]

	// Clock tells the time (default SystemClock).
	Clock Clock
	// Logger receives rare events: desyncs, disconnects, rejected messages
	// (default: discard).
	Logger *slog.Logger
}

// Recorder receives what a replay needs. RecordFrame is called for every
// confirmed frame exactly once, in frame order, from frame 0. RecordChecksum
// gives the checksum of the state at frame F (the state the inputs of frame
// F are applied to) for every ChecksumInterval-th F, after RecordFrame(F-1)
// and before RecordFrame(F). Neither may keep the inputs slice. A recorder
// keeps its own errors (as bufio.Writer does): the session never stops for
// one, and never closes it — closing (replay.Writer.Close) is the owner's job.
type Recorder[I comparable] interface {
	RecordFrame(frame Frame, inputs []PlayerInput[I])
	RecordChecksum(frame Frame, checksum uint64)
}

// withDefaults returns c with zero values replaced by defaults, or an error
// wrapping ErrInvalidConfig.
func (c Config[I]) withDefaults() (Config[I], error) {
	if len(c.Players) == 0 || len(c.Players) > MaxPlayers {
		return c, fmt.Errorf("%w: %d players, want 1 to %d", ErrInvalidConfig, len(c.Players), MaxPlayers)
	}
	if c.InputDelay < 0 || c.InputDelay > MaxInputDelay {
		return c, fmt.Errorf("%w: input delay %d, want 0 to %d", ErrInvalidConfig, c.InputDelay, MaxInputDelay)
	}
	if c.MaxPrediction < 0 {
		return c, fmt.Errorf("%w: negative MaxPrediction", ErrInvalidConfig)
	}
	if c.MaxPrediction == 0 {
		c.MaxPrediction = DefaultMaxPrediction
	}
	if c.Lockstep {
		c.MaxPrediction = 0
	}
	if c.FrameRate < 0 || c.FrameRate > 1000 {
		return c, fmt.Errorf("%w: frame rate %d", ErrInvalidConfig, c.FrameRate)
	}
	if c.FrameRate == 0 {
		c.FrameRate = DefaultFrameRate
	}
	if c.DisconnectTimeout < 0 || c.DisconnectNotifyStart < 0 {
		return c, fmt.Errorf("%w: negative disconnect timeout", ErrInvalidConfig)
	}
	if c.DisconnectTimeout == 0 {
		c.DisconnectTimeout = DefaultDisconnectTimeout
	}
	if c.DisconnectNotifyStart == 0 {
		c.DisconnectNotifyStart = DefaultDisconnectNotifyStart
	}
	if c.DisconnectNotifyStart > c.DisconnectTimeout {
		c.DisconnectNotifyStart = c.DisconnectTimeout
	}
	if c.ChecksumInterval < 0 {
		return c, fmt.Errorf("%w: negative checksum interval", ErrInvalidConfig)
	}
	if c.ChecksumInterval == 0 {
		c.ChecksumInterval = DefaultChecksumInterval
	}
	if c.InputHistory < 0 {
		return c, fmt.Errorf("%w: negative input history", ErrInvalidConfig)
	}
	if c.InputHistory == 0 {
		c.InputHistory = DefaultInputHistory
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
