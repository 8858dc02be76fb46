package netplay

import (
	"strings"
	"testing"
	"time"

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

// TestStopOnDesync: a desync the session does not mend stops the match from whichever
// phase can meet one; a pause is given up (nobody is waited for in a desynced match); a
// second desync changes nothing, and the end stays the end.
func TestStopOnDesync(t *testing.T) {
	const at = 5 * time.Second
	tests := []struct {
		from       Phase
		want       Phase
		wantDesync time.Duration // desyncAt afterwards
		failed     bool          // the move is not in the lifecycle: the match fails
	}{
		{from: PhasePlaying, want: PhaseDesynced, wantDesync: at},
		{from: PhasePaused, want: PhaseDesynced, wantDesync: at},
		{from: PhaseEnding, want: PhaseDesynced, wantDesync: at},
		{from: PhaseDesynced, want: PhaseDesynced, wantDesync: time.Second},
		{from: PhaseDone, want: PhaseDone},
		{from: PhaseHandshake, want: PhaseDone, failed: true}, // no step was taken to check
	}
	for _, tc := range tests {
		t.Run(tc.from.String(), func(t *testing.T) {
			r, err := newTestRunner(t, 0, lockstep.Config{InputSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			r.phase = tc.from // set directly: the test is of what follows
			if tc.from == PhaseDesynced {
				r.desyncAt = time.Second
			}
			if tc.from == PhasePaused {
				r.wait = &rejoinWait{player: 1}
			}
			r.stopOnDesync(at)
			if r.phase != tc.want || r.desyncAt != tc.wantDesync {
				t.Errorf("phase %v, desync at %v; want %v, %v", r.phase, r.desyncAt, tc.want, tc.wantDesync)
			}
			if r.wait != nil {
				t.Errorf("still waiting for player %d", r.wait.player)
			}
			if res := r.Result(); tc.failed != (res.Reason == EndFailed) {
				t.Errorf("result %v (err %v), failed %v", res, res.Err, tc.failed)
			}
		})
	}
}
