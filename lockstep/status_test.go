package lockstep

import (
	"slices"
	"testing"
)

// statusToy records the statuses Apply hands it.
type statusToy struct {
	toyGame
	got   [][]InputStatus
	plain int // AdvanceFrame calls (must stay 0: Apply prefers the status method)
}

func (g *statusToy) AdvanceFrame(inputs []byte) { g.plain++; g.toyGame.AdvanceFrame(inputs) }

func (g *statusToy) AdvanceFrameWithStatus(inputs []byte, status []InputStatus) {
	g.got = append(g.got, slices.Clone(status))
	g.toyGame.AdvanceFrame(inputs)
}

// TestInputStatus: each advance request says, per player, whether its input is real,
// predicted, or a dropped player's last one; a rollback re-runs a predicted frame as
// confirmed; Apply gives them to a StatusGame.
func TestInputStatus(t *testing.T) {
	s := newSyncLayer(2, 1, 8)
	g := &statusToy{}
	step := func(want ...InputStatus) {
		t.Helper()
		g.got = g.got[:0]
		if err := Apply(g, s.advance()); err != nil {
			t.Fatal(err)
		}
		var last []InputStatus
		if len(g.got) > 0 {
			last = g.got[len(g.got)-1]
		}
		if !slices.Equal(last, want) {
			t.Errorf("frame %d: statuses %v, want %v", s.frame-1, last, want)
		}
	}
	s.addInput(0, 0, []byte{1})
	s.addInput(1, 0, []byte{2})
	step(InputConfirmed, InputConfirmed) // frame 0: both known
	s.addInput(0, 1, []byte{1})
	step(InputConfirmed, InputPredicted) // frame 1: player 1's input is late
	s.addInput(1, 1, []byte{5})          // it arrives, and differs: a rollback
	s.addInput(0, 2, []byte{1})
	step(InputConfirmed, InputPredicted) // frame 2 runs predicted again
	if len(g.got) != 2 || !slices.Equal(g.got[0], []InputStatus{InputConfirmed, InputConfirmed}) {
		t.Errorf("the re-simulation of frame 1 ran with %v, want it confirmed first", g.got)
	}
	s.queues[1].connected = false // player 1 is dropped after its frame-1 input
	s.addInput(0, 3, []byte{1})
	step(InputConfirmed, InputDisconnected)
	if g.plain != 0 {
		t.Errorf("Apply called AdvanceFrame %d times on a StatusGame", g.plain)
	}
	for _, st := range []InputStatus{InputConfirmed, InputPredicted, InputDisconnected, 0} {
		if st.String() == "" {
			t.Errorf("InputStatus %d has no name", st)
		}
	}
}
