package pionlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestFactoryLevelsAndScope(t *testing.T) {
	var buf bytes.Buffer
	f := Factory{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	l := f.NewLogger("ice")
	l.Debugf("hidden %d", 1)
	l.Tracef("hidden %d", 2)
	l.Warnf("shown %d", 3)
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Fatalf("disabled levels logged: %q", out)
	}
	if !strings.Contains(out, "shown 3") || !strings.Contains(out, "pion=ice") || !strings.Contains(out, "level=WARN") {
		t.Fatalf("missing warn line with scope: %q", out)
	}
	Factory{}.NewLogger("x").Errorf("discarded %v", 1) // nil logger must not panic
}
