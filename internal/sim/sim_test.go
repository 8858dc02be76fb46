package sim

import (
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/transport"
)

func TestQuick(t *testing.T) {
	s, err := New(Scenario{Frames: 2000, Seed: 3, Link: transport.LinkConfig{Latency: 75 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	n, err := s.Compare()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Peers {
		st := p.Session.Stats(nil)
		t.Logf("player %d: frame %d rollbacks %d depth %d stalls %d waits %d score %d rtt %v desync %d", p.Player, st.Frame, st.Rollbacks, p.MaxRollbackDepth(), p.Stalls, p.Waits, p.State.TotalScore(), st.Peers[0].RTT, p.Count(lockstep.EventDesync))
	}
	t.Logf("%d compared", n)
}
