package relay

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// LevelTrace is the slog level that pion's Trace messages map to (below
// slog.LevelDebug, so they are off unless a handler asks for them).
const LevelTrace = slog.LevelDebug - 4

// SlogLoggerFactory adapts l to pion's logging.LoggerFactory, so pion's
// internal logs flow into the application's slog handler. Each pion scope
// ("turn", "turnc", ...) becomes a "scope" attribute. Levels map
// Trace→LevelTrace, Debug→Debug, Info→Info, Warn→Warn, Error→Error. Messages
// are formatted only when the handler is enabled for their level. A nil l
// discards everything.
func SlogLoggerFactory(l *slog.Logger) logging.LoggerFactory {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return slogFactory{l: l}
}

type slogFactory struct{ l *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{l: f.l.With("scope", scope)}
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) log(level slog.Level, msg string) {
	s.l.Log(context.Background(), level, msg)
}

func (s slogLogger) logf(level slog.Level, format string, args ...any) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.Log(ctx, level, fmt.Sprintf(format, args...))
}

func (s slogLogger) Trace(msg string)                  { s.log(LevelTrace, msg) }
func (s slogLogger) Tracef(format string, args ...any) { s.logf(LevelTrace, format, args...) }
func (s slogLogger) Debug(msg string)                  { s.log(slog.LevelDebug, msg) }
func (s slogLogger) Debugf(format string, args ...any) { s.logf(slog.LevelDebug, format, args...) }
func (s slogLogger) Info(msg string)                   { s.log(slog.LevelInfo, msg) }
func (s slogLogger) Infof(format string, args ...any)  { s.logf(slog.LevelInfo, format, args...) }
func (s slogLogger) Warn(msg string)                   { s.log(slog.LevelWarn, msg) }
func (s slogLogger) Warnf(format string, args ...any)  { s.logf(slog.LevelWarn, format, args...) }
func (s slogLogger) Error(msg string)                  { s.log(slog.LevelError, msg) }
func (s slogLogger) Errorf(format string, args ...any) { s.logf(slog.LevelError, format, args...) }
