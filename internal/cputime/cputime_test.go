package cputime

import (
	"runtime"
	"testing"
)

// TestProcessGrows: burning CPU shows up, and the count never goes back.
func TestProcessGrows(t *testing.T) {
	before, ok := Process()
	if !ok {
		t.Skipf("no process CPU time on %s", runtime.GOOS)
	}
	x := uint64(1)
	after := before
	for i := 0; i < 2000 && after <= before; i++ { // seconds of work at most
		for range 1 << 20 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		after, _ = Process()
	}
	if after <= before {
		t.Fatalf("CPU time stayed at %v through a busy loop (%d)", before, x)
	}
}
