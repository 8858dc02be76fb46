package lockstep

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The syncLayer is tested through its own surface (newSyncLayer, addInput, advance,
// catchup, canAdvance, confirmedFrame, oldestNeeded, rollbackTo) and the plans it returns,
// written as short strings: "save 3", "load 1", "advance 2 [4 0]" (the frame, then every
// player's one-byte input). No game runs: a plan is checked, not executed.

func planOf(reqs []Request) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		switch r.Kind {
		case RequestAdvance:
			out = append(out, fmt.Sprintf("advance %d %v", r.Frame, r.Inputs))
		default:
			out = append(out, fmt.Sprintf("%v %d", r.Kind, r.Frame))
		}
	}
	return out
}

// syncOp is one call on a two-player syncLayer with one-byte inputs; player 0 is local.
type syncOp struct {
	local, remote []int // inputs added before the call: player 0's and player 1's next frames
	call          string
	want          []string // the plan of advance or catchup
}

const (
	opAdvance = "advance"
	opCatchup = "catchup"
)

func runSyncOps(t *testing.T, s *syncLayer, ops []syncOp) {
	t.Helper()
	for i, op := range ops {
		for _, in := range op.local {
			if !s.addInput(0, s.queues[0].known+1, []byte{byte(in)}) {
				t.Fatalf("op %d: local input %d refused", i, in)
			}
		}
		for _, in := range op.remote {
			if !s.addInput(1, s.queues[1].known+1, []byte{byte(in)}) {
				t.Fatalf("op %d: remote input %d refused", i, in)
			}
		}
		var got []string
		switch op.call {
		case opAdvance:
			if !s.canAdvance() {
				t.Fatalf("op %d: cannot advance at frame %d", i, s.frame)
			}
			got = planOf(s.advance())
		case opCatchup:
			got = planOf(s.catchup())
		case "":
			continue
		default:
			t.Fatalf("op %d: unknown call %q", i, op.call)
		}
		if diff := cmp.Diff(op.want, got); diff != "" {
			t.Fatalf("op %d (%s at frame %d): plan (-want +got):\n%s", i, op.call, s.frame, diff)
		}
	}
}

func TestSyncLayerPlans(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []syncOp
		// totals afterwards
		rollbacks, rollbackFrames int64
		maxDepth                  int
	}{
		{
			name: "the first call saves frame 0; remote inputs are predicted as zero",
			ops: []syncOp{
				{local: []int{1}, call: opAdvance, want: []string{"save 0", "advance 0 [1 0]", "save 1"}},
				{local: []int{2}, call: opAdvance, want: []string{"advance 1 [2 0]", "save 2"}},
			},
		},
		{
			name: "a right prediction costs nothing",
			ops: []syncOp{
				{local: []int{1}, call: opAdvance, want: []string{"save 0", "advance 0 [1 0]", "save 1"}},
				{local: []int{2}, remote: []int{0}, call: opAdvance, want: []string{"advance 1 [2 0]", "save 2"}},
			},
		},
		{
			name: "a wrong prediction rolls back to its frame and re-simulates to the present",
			ops: []syncOp{
				{local: []int{1}, call: opAdvance, want: []string{"save 0", "advance 0 [1 0]", "save 1"}},
				{local: []int{2}, call: opAdvance, want: []string{"advance 1 [2 0]", "save 2"}},
				{local: []int{3}, call: opAdvance, want: []string{"advance 2 [3 0]", "save 3"}},
				// Frame 0 was right (0), frame 1 wrong (5): back to 1; frame 3 predicts 5.
				{local: []int{4}, remote: []int{0, 5}, call: opAdvance, want: []string{
					"load 1", "advance 1 [2 5]", "save 2", "advance 2 [3 5]", "save 3", "advance 3 [4 5]", "save 4"}},
			},
			rollbacks: 1, rollbackFrames: 2, maxDepth: 2,
		},
		{
			name: "of several wrong frames the earliest wins",
			ops: []syncOp{
				{local: []int{1, 2, 3}, call: opAdvance, want: []string{"save 0", "advance 0 [1 0]", "save 1"}},
				{call: opAdvance, want: []string{"advance 1 [2 0]", "save 2"}},
				{call: opAdvance, want: []string{"advance 2 [3 0]", "save 3"}},
				{local: []int{4}, remote: []int{7, 0, 9}, call: opAdvance, want: []string{
					"load 0", "advance 0 [1 7]", "save 1", "advance 1 [2 0]", "save 2", "advance 2 [3 9]", "save 3", "advance 3 [4 9]", "save 4"}},
			},
			rollbacks: 1, rollbackFrames: 3, maxDepth: 3,
		},
		{
			name: "an input for a frame not simulated yet is no misprediction",
			ops: []syncOp{
				{local: []int{1}, remote: []int{6, 6, 6}, call: opAdvance, want: []string{"save 0", "advance 0 [1 6]", "save 1"}},
				{local: []int{2}, call: opAdvance, want: []string{"advance 1 [2 6]", "save 2"}},
			},
		},
		{
			name: "the misprediction is judged against the input the frame ran with, not the latest",
			ops: []syncOp{
				{local: []int{1}, remote: []int{3}, call: opAdvance, want: []string{"save 0", "advance 0 [1 3]", "save 1"}},
				{local: []int{2}, call: opAdvance, want: []string{"advance 1 [2 3]", "save 2"}},
				// Frame 1 ran on a predicted 3; the real 3 confirms it.
				{local: []int{3}, remote: []int{3}, call: opAdvance, want: []string{"advance 2 [3 3]", "save 3"}},
			},
		},
		{
			name: "catchup folds in late inputs without a new frame",
			ops: []syncOp{
				{call: opCatchup, want: []string{}}, // nothing saved yet: nothing to roll back to
				{local: []int{1}, call: opAdvance, want: []string{"save 0", "advance 0 [1 0]", "save 1"}},
				{local: []int{2}, call: opAdvance, want: []string{"advance 1 [2 0]", "save 2"}},
				{call: opCatchup, want: []string{}},
				{remote: []int{0, 4}, call: opCatchup, want: []string{"load 1", "advance 1 [2 4]", "save 2"}},
				{call: opCatchup, want: []string{}}, // done once
				{local: []int{3}, call: opAdvance, want: []string{"advance 2 [3 4]", "save 3"}},
			},
			rollbacks: 1, rollbackFrames: 1, maxDepth: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSyncLayer(2, 1, 8, 0)
			runSyncOps(t, s, tc.ops)
			if s.rollbacks != tc.rollbacks || s.rollbackFrames != tc.rollbackFrames || s.maxRollbackDepth != tc.maxDepth {
				t.Errorf("rollbacks %d (%d frames, max depth %d), want %d (%d, %d)",
					s.rollbacks, s.rollbackFrames, s.maxRollbackDepth, tc.rollbacks, tc.rollbackFrames, tc.maxDepth)
			}
		})
	}
}

// TestSyncLayerFirstIncorrect: which frame the next advance will roll back to.
func TestSyncLayerFirstIncorrect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remote []int   // real inputs of player 1 arriving after 4 frames ran on predicted zeros
		force  []Frame // rollbackTo calls afterwards
		want   Frame
	}{
		{"all right", []int{0, 0, 0, 0}, nil, NullFrame},
		{"the last frame wrong", []int{0, 0, 0, 1}, nil, 3},
		{"the first wrong", []int{1}, nil, 0},
		{"wrong, then right again: still the wrong one", []int{0, 2, 0}, nil, 1},
		{"a forced rollback later than the wrong frame changes nothing", []int{0, 2}, []Frame{3}, 1},
		{"a forced rollback earlier than the wrong frame wins", []int{0, 0, 2}, []Frame{1}, 1},
		{"forced rollbacks: the earliest wins", nil, []Frame{2, 0, 3}, 0},
		{"a forced rollback to the present or past it is ignored", nil, []Frame{4, 5}, NullFrame},
		{"a forced rollback before frame 0 is ignored", nil, []Frame{-1, -2}, NullFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSyncLayer(2, 1, 8, 0)
			for f := range 4 {
				s.addInput(0, Frame(f), []byte{1})
				s.advance()
			}
			for f, in := range tc.remote {
				if !s.addInput(1, Frame(f), []byte{byte(in)}) {
					t.Fatalf("remote input of frame %d refused", f)
				}
			}
			for _, f := range tc.force {
				s.rollbackTo(f)
			}
			if s.firstIncorrect != tc.want {
				t.Errorf("firstIncorrect = %d, want %d", s.firstIncorrect, tc.want)
			}
		})
	}
}

// TestSyncLayerPredictionThreshold: with no remote input a session runs exactly
// maxPrediction frames ahead, and each confirmed remote frame allows one more.
func TestSyncLayerPredictionThreshold(t *testing.T) {
	for _, maxPred := range []int{1, 2, 8, MaxPrediction} {
		t.Run(fmt.Sprint(maxPred), func(t *testing.T) {
			s := newSyncLayer(2, 1, maxPred, 0)
			advance := func() int {
				n := 0
				for s.canAdvance() {
					s.addInput(0, s.frame, []byte{1})
					s.advance()
					n++
					if n > 2*MaxPrediction {
						t.Fatal("never stops")
					}
				}
				return n
			}
			if n := advance(); n != maxPred {
				t.Errorf("ran %d frames on predictions alone, want %d", n, maxPred)
			}
			if got, want := s.confirmedFrame(), Frame(0); got != want {
				t.Errorf("confirmed frame %d, want %d", got, want)
			}
			if !s.addInput(1, 0, []byte{0}) {
				t.Fatal("remote input refused")
			}
			if n := advance(); n != 1 {
				t.Errorf("one confirmed remote frame allowed %d more, want 1", n)
			}
			if got, want := s.confirmedFrame(), Frame(1); got != want {
				t.Errorf("confirmed frame %d, want %d", got, want)
			}
			// A dropped player no longer holds the others back.
			s.queues[1].connected, s.queues[1].final = false, true
			if !s.canAdvance() {
				t.Error("cannot advance after the remote player was dropped")
			}
			if got, want := s.confirmedFrame(), s.frame; got != want {
				t.Errorf("confirmed frame %d after the drop, want the current frame %d (local inputs are all known)", got, want)
			}
		})
	}
}

// TestSyncLayerConfirmedFrame: the latest state computed from known inputs only.
func TestSyncLayerConfirmedFrame(t *testing.T) {
	for _, tc := range []struct {
		name          string
		local, remote int // inputs known for frames 0..n-1
		frames        int // frames simulated
		want          Frame
		wantOldest    Frame
	}{
		{"nothing simulated", 0, 0, 0, 0, 0},
		{"simulated, nothing remote", 3, 0, 3, 0, 0},
		{"remote behind", 4, 2, 4, 2, 2},
		{"all known", 4, 4, 4, 4, 4},
		{"remote ahead of the simulation", 2, 6, 2, 2, 2},
		{"local ahead of the simulation (input delay)", 6, 6, 3, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSyncLayer(2, 1, 8, 0)
			for f := range tc.local {
				s.addInput(0, Frame(f), []byte{1})
			}
			for f := range tc.remote {
				s.addInput(1, Frame(f), []byte{0})
			}
			for range tc.frames {
				s.advance()
			}
			if got := s.confirmedFrame(); got != tc.want {
				t.Errorf("confirmedFrame = %d, want %d", got, tc.want)
			}
			if got := s.oldestNeeded(); got != tc.wantOldest {
				t.Errorf("oldestNeeded = %d, want %d", got, tc.wantOldest)
			}
		})
	}
}

// TestSyncLayerKeepsWhatARollbackNeeds: inputs are stored at most ringFrames past the
// oldest frame a rollback may still reload, so the ring never overwrites an input that
// re-simulation needs; the limit moves as frames are confirmed.
func TestSyncLayerKeepsWhatARollbackNeeds(t *testing.T) {
	s := newSyncLayer(2, 1, 8, 0)
	for f := range Frame(ringFrames) {
		if !s.addInput(0, f, []byte{byte(f)}) {
			t.Fatalf("local input of frame %d refused", f)
		}
	}
	if s.addInput(0, ringFrames, []byte{1}) {
		t.Fatalf("input of frame %d accepted while frame %d may still be re-simulated", ringFrames, s.oldestNeeded())
	}
	s.advance()
	s.addInput(1, 0, []byte{0})
	if got := s.oldestNeeded(); got != 1 {
		t.Fatalf("oldestNeeded = %d, want 1", got)
	}
	if !s.addInput(0, ringFrames, []byte{1}) {
		t.Fatalf("input of frame %d refused once frame 0 is confirmed", ringFrames)
	}
}

// TestSyncLayerInvariants plays random inputs with random delivery and checks after every
// call what the rest of the engine relies on: the state of every frame from oldestNeeded to
// the present is in a cell (a rollback can reload it), no rollback is deeper than the
// prediction window, a plan ends at the new frame, and the confirmed frame never goes back.
func TestSyncLayerInvariants(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			const maxPred = 6
			s := newSyncLayer(3, 1, maxPred, 0)
			lastConfirmed := Frame(0)
			for step := range 3000 {
				for p := 1; p < 3; p++ {
					// Remote inputs arrive in bursts, up to the local player's frame or a bit beyond.
					for n := rng.IntN(3); n > 0 && s.queues[p].known < s.frame+2; n-- {
						in := byte(0)
						if rng.IntN(4) == 0 {
							in = byte(rng.IntN(3))
						}
						s.addInput(p, s.queues[p].known+1, []byte{in})
					}
				}
				if !s.canAdvance() {
					if rng.IntN(2) == 0 {
						s.catchup()
					}
					continue
				}
				if s.queues[0].known < s.frame {
					s.addInput(0, s.frame, []byte{byte(rng.IntN(2))})
				}
				before := s.frame
				reqs := s.advance()
				if s.frame != before+1 {
					t.Fatalf("step %d: advance moved from frame %d to %d", step, before, s.frame)
				}
				if last := reqs[len(reqs)-1]; last.Kind != RequestSave || last.Frame != s.frame {
					t.Fatalf("step %d: plan ends with %v %d, want save %d", step, last.Kind, last.Frame, s.frame)
				}
				if s.lastRollback > maxPred {
					t.Fatalf("step %d: rolled back %d frames, window %d", step, s.lastRollback, maxPred)
				}
				for f := s.oldestNeeded(); f <= s.frame; f++ {
					if c := s.cell(f); c.frame != f {
						t.Fatalf("step %d: frame %d (oldest needed %d, now %d) is not in its cell (holds %d)", step, f, s.oldestNeeded(), s.frame, c.frame)
					}
				}
				if c := s.confirmedFrame(); c < lastConfirmed {
					t.Fatalf("step %d: confirmed frame went back from %d to %d", step, lastConfirmed, c)
				} else {
					lastConfirmed = c
				}
			}
			if s.frame < 1000 || s.rollbacks == 0 {
				t.Errorf("the run reached frame %d with %d rollbacks: it tested little", s.frame, s.rollbacks)
			}
		})
	}
}
