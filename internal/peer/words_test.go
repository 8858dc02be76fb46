package peer

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// TestReminderBacksOff: a joining player with no answer says so after 5 s, then after
// twice as long each time (5 s, 15 s, 35 s, …), never less often than every
// waitReminderMax.
func TestReminderBacksOff(t *testing.T) {
	var out strings.Builder
	m := &Match{opts: Options{Player: 1, Peer: "192.0.2.1:7000"}, out: &out}
	m.status.Phase = PhaseWaiting
	m.status.Peer = "192.0.2.1:7000"
	var at []time.Duration
	for now := time.Duration(0); now <= 400*time.Second; now += 100 * time.Millisecond {
		n := strings.Count(out.String(), "\n")
		m.remindWaiting(now)
		if strings.Count(out.String(), "\n") > n {
			at = append(at, now)
		}
	}
	want := []time.Duration{5 * time.Second, 15 * time.Second, 35 * time.Second, 75 * time.Second, 155 * time.Second, 235 * time.Second, 315 * time.Second, 395 * time.Second}
	if diff := cmp.Diff(want, at); diff != "" {
		t.Errorf("reminders at (-want +got):\n%s", diff)
	}
	if !strings.Contains(out.String(), "no answer from 192.0.2.1:7000 after 5s;") {
		t.Errorf("first reminder: %q", out.String())
	}
}
