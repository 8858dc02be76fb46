package lockstep

import (
	"testing"
)

// TestStateChecksumVectors pins the engine's checksum to XXH64 (seed 0), the same vectors
// as codec.StateChecksum's test; internal/xxh64's tests cover the block and tail boundaries.
func TestStateChecksumVectors(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"", 0xef46db3751d8e999},
		{"a", 0xd24ec4f1a98c6e5b},
		{"abc", 0x44bc2cf5ad770999},
	}
	for _, tt := range tests {
		if got := stateChecksum([]byte(tt.in)); got != tt.want {
			t.Errorf("stateChecksum(%q) = %016x, want %016x", tt.in, got, tt.want)
		}
	}
}

// TestCellChecksumFollowsSaves: the cached checksum of a cell is dropped whenever the
// session hands the cell out for a new save, so after every rollback (which re-saves the
// re-simulated frames) Checksum(f) still equals stateChecksum of frame f's saved bytes.
func TestCellChecksumFollowsSaves(t *testing.T) {
	st, err := newSyncTest(Config{Players: 2, InputSize: 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	g := &toyGame{}
	for f := range 40 {
		for p := range 2 {
			if err := st.AddLocalInput(p, []byte{byte(f*(p+3) + 1)}); err != nil {
				t.Fatal(err)
			}
		}
		reqs, err := st.AdvanceFrame()
		if err != nil {
			t.Fatal(err)
		}
		// Ask for every remembered frame's checksum before the requests run, so stale
		// cached values would be there to be wrongly reused.
		for back := Frame(0); back <= 5; back++ {
			st.Checksum(st.Frame() - back)
		}
		if err := Apply(g, reqs); err != nil {
			t.Fatal(err)
		}
		got, ok := st.Checksum(st.Frame())
		if !ok || got != g.checksum() {
			t.Fatalf("frame %d: Checksum %016x (%v), the game's state hashes to %016x", st.Frame(), got, ok, g.checksum())
		}
		for _, r := range reqs {
			if r.Kind == RequestSave && r.cell.checksum() != stateChecksum(*r.State) {
				t.Fatalf("frame %d: cell checksum %016x, its state hashes to %016x", r.Frame, r.cell.checksum(), stateChecksum(*r.State))
			}
		}
	}
	if err := st.Verify(); err != nil {
		t.Fatal(err)
	}
}
