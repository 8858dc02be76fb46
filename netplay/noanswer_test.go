package netplay_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/simtest"
)

// TestNoAnswer: a joiner whose player 0 is not there is told so after 5 s, then after
// twice as long each time, at most 80 s apart; once player 0 answers, nothing more. Player
// 0, which knows nobody's address, reports nobody.
func TestNoAnswer(t *testing.T) {
	s := time.Second
	tests := []struct {
		name    string
		watch   int           // the player whose reports are collected
		start0  time.Duration // when player 0 starts; 0: never (and player 1 always at 0)
		horizon time.Duration
		want    []time.Duration
	}{
		{"nobody at the address", 1, 0, 400 * s, []time.Duration{5 * s, 15 * s, 35 * s, 75 * s, 155 * s, 235 * s, 315 * s, 395 * s}},
		{"player 0 starts after 20 s", 1, 20 * s, 60 * s, []time.Duration{5 * s, 15 * s}},
		{"player 0 waits for anyone", 0, 0, 60 * s, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Duration
			sim, err := simtest.New(simtest.Scenario{
				Seed: 1, Delivery: simtest.OnTick, // a tick a frame, each reading what came
				Session: lockstep.Config{InputSize: 1, Game: "counter"},
				NewGame: func(int, uint64) (lockstep.Game, error) { return &counter{}, nil },
				Addr:    func(p, _ int) netip.AddrPort { return addrOf(p) },
				Start: func(p int) time.Duration {
					switch {
					case p != 0:
						return 0
					case tt.start0 == 0 && tt.watch != 0:
						return 1 << 62 // nobody answers at player 0's address
					}
					return tt.start0
				},
				Edit: func(p, _ int, c *netplay.Config) {
					c.Session.Seed, c.Session.Nonce = 1, uint64(p+1)
					c.Peers = []netip.AddrPort{addrOf(0), {}}
					c.FinishAt = 0
					c.OnNoAnswer = func(n netplay.NoAnswer) {
						if p != tt.watch {
							return
						}
						if n.Player != 0 || n.Addr != addrOf(0) {
							t.Errorf("report %+v, want player 0 at %v", n, addrOf(0))
						}
						got = append(got, n.After.Truncate(time.Second)) // the first tick at or after the time
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			for time.Duration(sim.Ticks)*frame <= tt.horizon {
				_ = sim.Step()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reports after (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoAnswerString(t *testing.T) {
	n := netplay.NoAnswer{Player: 0, Addr: netip.MustParseAddrPort("192.0.2.1:7000"), After: 5*time.Second + 20*time.Millisecond}
	if diff := cmp.Diff("no answer from 192.0.2.1:7000 after 5s", n.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
