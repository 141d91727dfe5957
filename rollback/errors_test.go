package rollback

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsWait(t *testing.T) {
	for _, err := range []error{ErrNotSynchronized, ErrPredictionLimit, ErrCatchingUp, fmt.Errorf("x: %w", ErrPredictionLimit)} {
		if !IsWait(err) {
			t.Errorf("IsWait(%v) = false", err)
		}
	}
	for _, err := range []error{nil, ErrClosed, ErrMissingLocalInput, errors.New("load failed"), &DesyncError{}} {
		if IsWait(err) {
			t.Errorf("IsWait(%v) = true", err)
		}
	}
}
