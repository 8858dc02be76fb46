package netplay

import (
	"strings"
	"testing"

	"p2pa/lockstep"
)

// TestPhaseMoves: the lifecycle, move by move. Every pair of phases (and a phase out of
// range) is tried; only the moves listed may be made.
func TestPhaseMoves(t *testing.T) {
	all := []Phase{0, PhaseHandshake, PhasePlaying, PhasePaused, PhaseEnding, PhaseDesynced, PhaseDone, PhaseDone + 1}
	tests := []struct {
		from  Phase
		legal []Phase
	}{
		{from: 0},
		{from: PhaseHandshake, legal: []Phase{PhasePlaying, PhaseEnding, PhaseDone}},
		{from: PhasePlaying, legal: []Phase{PhasePaused, PhaseEnding, PhaseDesynced, PhaseDone}},
		{from: PhasePaused, legal: []Phase{PhasePlaying, PhaseDesynced, PhaseDone}},
		{from: PhaseEnding, legal: []Phase{PhaseDesynced, PhaseDone}},
		{from: PhaseDesynced, legal: []Phase{PhaseDone}},
		{from: PhaseDone},
		{from: PhaseDone + 1},
	}
	for _, tc := range tests {
		t.Run(tc.from.String(), func(t *testing.T) {
			for _, to := range all {
				want := false
				for _, l := range tc.legal {
					want = want || l == to
				}
				if got := tc.from.canMoveTo(to); got != want {
					t.Errorf("%v to %v: legal %v, want %v", tc.from, to, got, want)
				}
			}
		})
	}
}

// TestMoveTo: a legal move changes the phase; staying is no move; an illegal one ends the
// match with an error naming it; and a match that is done stays as it ended.
func TestMoveTo(t *testing.T) {
	tests := []struct {
		name      string
		moves     []Phase
		want      Phase
		wantErr   string // in Result.Err; "" for none
		wantEnded EndReason
	}{
		{name: "legal", moves: []Phase{PhasePlaying, PhasePaused, PhasePlaying, PhaseEnding}, want: PhaseEnding},
		{name: "stay", moves: []Phase{PhaseHandshake, PhasePlaying, PhasePlaying}, want: PhasePlaying},
		{name: "illegal", moves: []Phase{PhasePlaying, PhaseHandshake}, want: PhaseDone,
			wantErr: "may not move from phase playing to handshake", wantEnded: EndFailed},
		{name: "out of range", moves: []Phase{PhaseDone + 1}, want: PhaseDone,
			wantErr: "may not move from phase handshake to Phase(7)", wantEnded: EndFailed},
		{name: "after the end", moves: []Phase{PhasePlaying, PhaseDesynced, PhaseDone, PhasePlaying}, want: PhaseDone,
			wantEnded: EndQuit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newTestRunner(t, 0, lockstep.Config{InputSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			if r.Phase() != PhaseHandshake {
				t.Fatalf("a new runner is in phase %v", r.Phase())
			}
			for _, p := range tc.moves {
				if p == PhaseDone {
					r.finish() // the one way to the end: it fills in the result
					continue
				}
				r.moveTo(p)
			}
			if r.Phase() != tc.want {
				t.Errorf("phase %v, want %v", r.Phase(), tc.want)
			}
			if r.Done() != (tc.want == PhaseDone) {
				t.Errorf("Done %v in phase %v", r.Done(), r.Phase())
			}
			res := r.Result()
			switch {
			case tc.wantErr == "" && res.Err != nil:
				t.Errorf("error %v", res.Err)
			case tc.wantErr != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one saying %q", res.Err, tc.wantErr)
			}
			if r.Done() && res.Reason != tc.wantEnded {
				t.Errorf("ended %v, want %v", res.Reason, tc.wantEnded)
			}
		})
	}
}
