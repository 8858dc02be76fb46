package peer

import (
	"strings"
	"testing"
)

// TestEndReason: every phase a match can end in gives a sentence that names no word twice
// in a row (the phase "peer left" once made "the peer peer left").
func TestEndReason(t *testing.T) {
	tests := []struct {
		phase Phase
		want  string
	}{
		{PhasePeerLeft, "the peer left"},
		{PhaseDisconnected, "the peer stopped answering (disconnected)"},
		{PhaseInterrupted, "the match was interrupted"},
	}
	for _, tt := range tests {
		if got := endReason(tt.phase); got != tt.want {
			t.Errorf("endReason(%v) = %q, want %q", tt.phase, got, tt.want)
		}
	}
	for p := PhaseWaiting; p <= PhaseFailed; p++ {
		words := strings.Fields(endReason(p))
		for i := 1; i < len(words); i++ {
			if words[i] == words[i-1] {
				t.Errorf("endReason(%v) = %q repeats %q", p, endReason(p), words[i])
			}
		}
	}
}
