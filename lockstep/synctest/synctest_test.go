package synctest

import (
	"errors"
	"math/rand/v2"
	"testing"

	"p2pa/lockstep"
)

func runSyncTest(t *testing.T, g lockstep.Game, players, distance, frames int) (*Test, error) {
	t.Helper()
	st, err := New(lockstep.Config{Players: players, InputSize: 3, DiffStates: diffToy}, distance)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]byte, 3)
	for range frames {
		for p := range players {
			in[0], in[1], in[2] = byte(rng.IntN(4)), byte(p), byte(rng.IntN(2))
			if err := st.AddLocalInput(p, in); err != nil {
				t.Fatal(err)
			}
		}
		reqs, err := st.AdvanceFrame()
		if err != nil {
			return st, err
		}
		if err := lockstep.Apply(g, reqs); err != nil {
			t.Fatal(err)
		}
	}
	return st, st.Verify()
}

func TestSyncTestPassesDeterministicGame(t *testing.T) {
	for _, tc := range []struct{ players, distance int }{{1, 1}, {2, 8}, {3, 4}, {4, 12}} {
		g := &toyGame{}
		st, err := runSyncTest(t, g, tc.players, tc.distance, 500)
		if err != nil {
			t.Fatalf("players=%d distance=%d: %v", tc.players, tc.distance, err)
		}
		if st.Frame() != 500 || g.frame != 500 {
			t.Errorf("frame %d, game frame %d; want 500", st.Frame(), g.frame)
		}
		if want := int64(500 - tc.distance); st.Rollbacks() != want {
			t.Errorf("rollbacks %d, want %d", st.Rollbacks(), want)
		}
		if st.Checked() < int64(400*tc.distance) {
			t.Errorf("only %d frames compared", st.Checked())
		}
	}
}

func TestSyncTestCatchesStateOutsideSave(t *testing.T) {
	g := &leakyGame{}
	_, err := runSyncTest(t, g, 2, 8, 100)
	var mm *MismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("leaky game passed the sync test: %v", err)
	}
	if mm.Frame <= 0 || mm.Diff == "" || mm.First == mm.Again {
		t.Errorf("mismatch report incomplete: %+v", mm)
	}
}

func TestSyncTestRejectsBadArguments(t *testing.T) {
	if _, err := New(lockstep.Config{Players: 2}, 0); err == nil {
		t.Error("zero input size accepted")
	}
	if _, err := New(lockstep.Config{Players: 5, InputSize: 1}, 0); err == nil {
		t.Error("5 players accepted")
	}
	if _, err := New(lockstep.Config{InputSize: 1}, lockstep.MaxPrediction+1); err == nil {
		t.Error("check distance beyond the maximum accepted")
	}
	st, _ := New(lockstep.Config{InputSize: 1}, 0)
	if err := st.AddLocalInput(2, []byte{1}); err == nil {
		t.Error("player 2 of 2 accepted")
	}
	if err := st.AddLocalInput(0, []byte{1, 2}); err == nil {
		t.Error("wrong input size accepted")
	}
	if _, err := st.AdvanceFrame(); !errors.Is(err, ErrNoLocalInput) {
		t.Errorf("advance without inputs: %v", err)
	}
}
