package lockstep

import (
	"slices"
	"testing"
	"time"
)

// statusToy records the statuses Apply hands it.
type statusToy struct {
	toyGame
	got   [][]InputStatus
	plain int // AdvanceFrame calls (must stay 0: Apply prefers the status method)
}

var _ statusGame = (*statusToy)(nil) // the optional method's signature, checked

func (g *statusToy) AdvanceFrame(inputs []byte) { g.plain++; g.toyGame.AdvanceFrame(inputs) }

func (g *statusToy) AdvanceFrameWithStatus(inputs []byte, status []InputStatus) {
	g.got = append(g.got, slices.Clone(status))
	g.toyGame.AdvanceFrame(inputs)
}

// TestInputStatus: each advance request says, per player, whether its input is real,
// predicted, or a dropped player's last one; a rollback re-runs a predicted frame as
// confirmed; Apply gives them to a game with AdvanceFrameWithStatus.
func TestInputStatus(t *testing.T) {
	s := newSyncLayer(2, 1, 8, 0)
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
	s.queues[1].connected, s.queues[1].final = false, true // player 1 is dropped after its frame-1 input
	s.addInput(0, 3, []byte{1})
	step(InputConfirmed, InputDisconnected)
	if g.plain != 0 {
		t.Errorf("Apply called AdvanceFrame %d times on a game with AdvanceFrameWithStatus", g.plain)
	}
	for _, st := range []InputStatus{InputConfirmed, InputPredicted, InputDisconnected, 0} {
		if st.String() == "" {
			t.Errorf("InputStatus %d has no name", st)
		}
	}
}

// TestStepTakesInputOnlyWhenAdvanced: a time-sync wait, like a prediction stall, leaves the
// offered input with the caller; a nil input starts no frame; a wrong size is an error that
// changes nothing.
func TestStepTakesInputOnlyWhenAdvanced(t *testing.T) {
	tn := newNet(t, 2, tick, nil)
	tn.until(time.Second, "handshake", tn.running)
	tn.steps(30)
	s := tn.nodes[0].s
	frame, last := s.Frame(), s.LastLocalFrame()
	s.waitFrames = 2
	for i := range 2 {
		status, reqs, err := s.Step(tn.now, stepInput(0, last+1))
		if err != nil || status != StatusTimeSync || len(reqs) != 0 {
			t.Fatalf("wait %d: %v %v", i, status, err)
		}
	}
	if status, _, err := s.Step(tn.now, nil); err != nil || status != StatusCaughtUp {
		t.Fatalf("nil input: %v %v, want %v", status, err, StatusCaughtUp)
	}
	if _, _, err := s.Step(tn.now, make([]byte, 2)); err == nil {
		t.Fatalf("a 2-byte input for a 3-byte game was taken")
	}
	if s.Frame() != frame || s.LastLocalFrame() != last {
		t.Fatalf("frame %d, last local %d after steps that did not advance; want %d, %d", s.Frame(), s.LastLocalFrame(), frame, last)
	}
	status, _, err := s.Step(tn.now, stepInput(0, last+1))
	if err != nil || status != StatusAdvanced || s.LastLocalFrame() != last+1 || s.Frame() != frame+1 {
		t.Fatalf("after the wait: %v %v, frame %d, last local %d", status, err, s.Frame(), s.LastLocalFrame())
	}
}
