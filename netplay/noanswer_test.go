package netplay_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
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
			clock := transport.NewVirtualClock(0)
			network := transport.NewNetwork(clock, 1)
			runners := make([]*netplay.Runner, 2)
			var got []time.Duration
			for p := range 2 {
				if p == 0 && tt.start0 == 0 && tt.watch != 0 {
					continue // nobody listens at player 0's address
				}
				conn, err := network.Listen(addrOf(p))
				if err != nil {
					t.Fatal(err)
				}
				r, err := netplay.New(netplay.Config{
					Session: lockstep.Config{InputSize: 1, Game: "counter", Seed: 1, Nonce: uint64(p + 1)},
					Player:  p, Peers: []netip.AddrPort{addrOf(0), {}}, Conn: conn, Clock: clock, Game: &counter{},
					OnNoAnswer: func(n netplay.NoAnswer) {
						if p != tt.watch {
							return
						}
						if n.Player != 0 || n.Addr != addrOf(0) {
							t.Errorf("report %+v, want player 0 at %v", n, addrOf(0))
						}
						got = append(got, n.After.Truncate(time.Second)) // the first tick at or after the time
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				runners[p] = r
			}
			for now := time.Duration(0); now <= tt.horizon; now += frame {
				clock.Set(now)
				for p, r := range runners {
					if r != nil && (p != 0 || now >= tt.start0) {
						r.Tick()
					}
				}
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
