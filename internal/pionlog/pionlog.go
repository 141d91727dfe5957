// Package pionlog adapts log/slog to pion's logging.LoggerFactory.
//
// Pion's Trace level maps to slog.LevelDebug-4. Formatting is skipped when
// the level is disabled, so a discarded logger costs a level check.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// LevelTrace is the slog level used for pion's Trace messages.
const LevelTrace = slog.LevelDebug - 4

// Factory is a logging.LoggerFactory writing to an slog.Logger. Each pion
// scope ("ice", "dtls", "sctp", ...) becomes an attribute pion=<scope>.
type Factory struct {
	Logger *slog.Logger // nil discards everything
}

// NewLogger implements logging.LoggerFactory.
func (f Factory) NewLogger(scope string) logging.LeveledLogger {
	l := f.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return leveled{l.With("pion", scope)}
}

type leveled struct{ l *slog.Logger }

func (p leveled) log(level slog.Level, msg string) {
	p.l.Log(context.Background(), level, msg)
}

func (p leveled) logf(level slog.Level, format string, args ...any) {
	if !p.l.Enabled(context.Background(), level) {
		return
	}
	p.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

func (p leveled) Trace(msg string)                  { p.log(LevelTrace, msg) }
func (p leveled) Tracef(format string, args ...any) { p.logf(LevelTrace, format, args...) }
func (p leveled) Debug(msg string)                  { p.log(slog.LevelDebug, msg) }
func (p leveled) Debugf(format string, args ...any) { p.logf(slog.LevelDebug, format, args...) }
func (p leveled) Info(msg string)                   { p.log(slog.LevelInfo, msg) }
func (p leveled) Infof(format string, args ...any)  { p.logf(slog.LevelInfo, format, args...) }
func (p leveled) Warn(msg string)                   { p.log(slog.LevelWarn, msg) }
func (p leveled) Warnf(format string, args ...any)  { p.logf(slog.LevelWarn, format, args...) }
func (p leveled) Error(msg string)                  { p.log(slog.LevelError, msg) }
func (p leveled) Errorf(format string, args ...any) { p.logf(slog.LevelError, format, args...) }
