package sim

import (
	"fmt"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/transport"
)

// TestTwoDepartures: two of four players vanish, one a second after the other, behind lossy
// links; the two survivors agree on both departure frames and on every confirmed frame.
func TestTwoDepartures(t *testing.T) {
	for _, seed := range departureSeeds() {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			s, err := New(Scenario{
				Players: 4, Frames: 900, Seed: seed,
				LinkFor: func(from, to int) transport.LinkConfig {
					if from >= 2 || to >= 2 {
						return transport.LinkConfig{Latency: 60 * time.Millisecond, Loss: 0.15}
					}
					return transport.LinkConfig{Latency: 20 * time.Millisecond}
				},
				Vanish: vanishing(map[int]time.Duration{2: at(250), 3: at(310)}),
			}, Coins{Mode: game.Versus, Coins: 40})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Play(); err != nil {
				t.Fatal(err)
			}
			var left [2][4]lockstep.Frame
			for i, p := range s.Peers[:2] {
				if err := p.Runner.Session().Err(); err != nil {
					t.Fatalf("player %d: %v", i, err)
				}
				n := 0
				for _, e := range p.Events {
					if e.Kind == lockstep.EventDisconnected || e.Kind == lockstep.EventPeerLeft {
						left[i][e.Player] = e.Frame
						n++
					}
				}
				if n != 2 {
					t.Fatalf("player %d: %d departures, want 2: %v", i, n, p.Events)
				}
			}
			if left[0] != left[1] {
				t.Errorf("the survivors disagree on the departures: %v and %v", left[0], left[1])
			}
			if _, err := s.Compare(); err != nil {
				t.Error(err)
			}
		})
	}
}
