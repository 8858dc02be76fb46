package peer

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"p2pa/netplay"
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

// TestNoAnswerLine: the runner's report that nobody answers is printed in the words the
// binary always used ("no answer from ADDR after 5s; is player 0 running there …"), naming
// the player reported; a match that has failed says nothing more. The schedule (5 s, 15 s,
// 35 s, …) is the runner's, tested in netplay.
func TestNoAnswerLine(t *testing.T) {
	addr := netip.MustParseAddrPort("192.0.2.1:7000")
	tests := []struct {
		name   string
		phase  Phase
		report netplay.NoAnswer
		want   string
	}{
		{"player 0", PhaseWaiting, netplay.NoAnswer{Player: 0, Addr: addr, After: 5016 * time.Millisecond},
			"p2pa: no answer from 192.0.2.1:7000 after 5s; is player 0 running there (and not already playing)? Still trying.\n"},
		{"player 2 of 3", PhaseSynchronizing, netplay.NoAnswer{Player: 2, Addr: addr, After: 15 * time.Second},
			"p2pa: no answer from 192.0.2.1:7000 after 15s; is player 2 running there (and not already playing)? Still trying.\n"},
		{"failed", PhaseFailed, netplay.NoAnswer{Player: 0, Addr: addr, After: 5 * time.Second}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			m := &Match{opts: Options{Player: 1, Peer: addr.String()}, out: &out}
			m.status.Phase = tt.phase
			m.noAnswer(tt.report)
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
