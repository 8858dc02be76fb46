package sim

import (
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/transport"
)

// TestSeededBotsRepeat: a refused local input is offered again, so a bot's input for frame f
// depends only on its seed and f. The same seeded match over a perfect link, over 60 ms each
// way with ±15 ms of jitter, and over 5% loss therefore ends on the same confirmed checksum.
func TestSeededBotsRepeat(t *testing.T) {
	t.Parallel()
	const seed, frames = 7, 600
	links := []struct {
		name      string
		link      transport.LinkConfig
		mustStall bool // the round trip exceeds the prediction window: Steps are refused
	}{
		{"perfect", transport.LinkConfig{}, false},
		{"60ms-jitter", transport.LinkConfig{Latency: 60 * time.Millisecond, Jitter: 15 * time.Millisecond}, true},
		{"20ms-loss5%", transport.LinkConfig{Latency: 20 * time.Millisecond, Loss: 0.05}, false},
	}
	var want uint64
	for i, l := range links {
		sc := Scenario{Seed: seed, Frames: frames, Link: l.link, Session: defaults(t, lockstep.Config{InputDelay: 1, MaxPrediction: 4})}
		s, err := New(sc, Coins{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Play(); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		// Let the last frame be confirmed everywhere.
		for extra := 0; !allConfirmed(s, frames); extra++ {
			if extra > 600 {
				t.Fatalf("%s: frame %d not confirmed: %s", l.name, frames, s.Status())
			}
			if err := s.Step(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Compare(); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		// MaxPrediction 4 is shorter than the 60 ms link's 120 ms round trip: refusals happen.
		stalls := 0
		for _, p := range s.Peers {
			stalls += p.Runner.Counters().Stalls
		}
		sum, _ := s.Peers[0].Checksum(frames)
		t.Logf("%s: frame %d checksum %016x after %d stalled ticks", l.name, frames, sum, stalls)
		if i == 0 {
			want = sum
			continue
		}
		if l.mustStall && stalls == 0 {
			t.Errorf("%s: no Step was ever refused for want of remote input, so the test proves nothing about refused inputs", l.name)
		}
		if sum != want {
			t.Errorf("%s: frame %d checksum %016x, want %016x as over a perfect link", l.name, frames, sum, want)
		}
	}
}

func allConfirmed(s *Sim, f int) bool {
	for _, p := range s.Peers {
		if _, ok := p.Checksum(lockstep.Frame(f)); !ok {
			return false
		}
	}
	return true
}
