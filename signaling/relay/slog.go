package relay

import (
	"log/slog"

	"github.com/lynnet/lyn/internal/pionlog"
	"github.com/pion/logging"
)

// LevelTrace is the slog level that pion's Trace messages map to (below
// slog.LevelDebug, so they are off unless a handler asks for them).
const LevelTrace = pionlog.LevelTrace

// SlogLoggerFactory adapts l to pion's logging.LoggerFactory, so pion's
// internal logs flow into the application's slog handler. Each pion scope
// ("turn", "turnc", ...) becomes a "pion" attribute. Levels map
// Trace→LevelTrace, Debug→Debug, Info→Info, Warn→Warn, Error→Error. Messages
// are formatted only when the handler is enabled for their level. A nil l
// discards everything. (netcode uses the same adapter.)
func SlogLoggerFactory(l *slog.Logger) logging.LoggerFactory {
	return pionlog.Factory{Logger: l}
}
