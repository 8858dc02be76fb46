package sim

import (
	"fmt"
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/simtest"
	"p2pa/transport"
)

// thinQueue is the queue in front of each thin link: 10 kB, a home router's worth. At
// 16 kbit/s that is five seconds of buffer, so a sender that offers more than the rate can
// drive the round trip to seconds before anything is dropped.
const thinQueue = 10000

// thinSlack is the fixed allowance, in ticks, for a thin link to start and settle: the
// handshake, the first round trips and the back-off finding its level. A game that keeps full
// speed never falls further behind than this, however long it runs.
const thinSlack = 300

// thinLatency is each thin link's own one-way delay, before any queueing.
const thinLatency = 20 * time.Millisecond

// TestThinLinks plays a match over links of 64, 32, 24 and 16 kbit/s each way (20 ms
// latency, a 10 kB queue, a few seeds each). Whatever the rate: every confirmed checksum
// agrees, nobody desyncs, the queue never overflows, the round trip stays far below what the
// queue could hold, and the run ends within a bound of virtual time (a third of full speed).
// Down to 32 kbit/s the game also keeps full speed: stalled and waiting ticks stay under a
// fixed allowance however long it runs, and nobody is dropped; at 24 kbit/s within a few
// percent of it. At 16 kbit/s it may slow down,
// but it either keeps going with the peers agreeing, or both sides end on the same frame.
// (Without the back-off in lockstep, 24 kbit/s ran at about half speed and 16 kbit/s
// reached frame 380 in three minutes: the queue held seconds of repeated inputs.)
func TestThinLinks(t *testing.T) {
	frames := 3600
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		frames, seeds = 1200, []uint64{1}
	}
	for _, tc := range []struct {
		kbit      int64
		fullSpeed bool
		// lossPct: besides thinSlack, the ticks a full-speed game may lose per 100 frames. At
		// 24 kbit/s a message every other frame fits the link but puts inputs near the
		// prediction limit, so a few percent of ticks stall.
		lossPct int
		maxRTT  time.Duration // the round trip never exceeds this once measured
	}{
		{kbit: 64, fullSpeed: true, maxRTT: 400 * time.Millisecond},
		{kbit: 32, fullSpeed: true, maxRTT: 600 * time.Millisecond},
		{kbit: 24, fullSpeed: true, lossPct: 5, maxRTT: 600 * time.Millisecond},
		{kbit: 16, fullSpeed: false, maxRTT: 2 * time.Second}, // the queue alone could hold 5 s
	} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%dkbit/seed=%d", tc.kbit, seed), func(t *testing.T) {
				link := transport.LinkConfig{Latency: thinLatency, Rate: tc.kbit * 1000, Queue: thinQueue}
				// Bound: the game at a third of full speed plus the slack; a slower one fails.
				s, err := New(Scenario{Seed: seed, Frames: frames, Link: link, MaxTime: at(3*frames + thinSlack)}, Coins{})
				if err != nil {
					t.Fatal(err)
				}
				var maxRTT time.Duration
				var stats []lockstep.PeerStats
				for !s.Finished() {
					if s.TimedOut() {
						t.Fatalf("not finished after %d ticks (%v virtual): %s", s.Ticks, s.Clock.Now(), s.Status())
					}
					if err := s.Step(); err != nil {
						t.Fatalf("tick %d: %v", s.Ticks, err)
					}
					for _, p := range s.Peers {
						st := p.Runner.Session().Stats(stats[:0])
						stats = st.Peers
						for _, ps := range st.Peers {
							maxRTT = max(maxRTT, ps.RTT)
						}
					}
				}
				compared, err := s.Compare()
				if err != nil {
					t.Fatal(err)
				}
				out := [2]transport.LinkStats{s.Net.Stats(simtest.Addr(0), simtest.Addr(1)), s.Net.Stats(simtest.Addr(1), simtest.Addr(0))}
				c0, c1 := s.Peers[0].Runner.Counters(), s.Peers[1].Runner.Counters()
				t.Logf("%d ticks for %d frames; compared %d; max rtt %v; stalls %d/%d waits %d/%d; overflowed %d/%d; sent %d/%d",
					s.Ticks, frames, compared, maxRTT, c0.Stalls, c1.Stalls, c0.Waits, c1.Waits,
					out[0].Overflowed, out[1].Overflowed, out[0].Sent, out[1].Sent)
				for _, p := range s.Peers {
					if n := p.Count(lockstep.EventDesync); n != 0 {
						t.Errorf("player %d: %d desyncs", p.Player, n)
					}
				}
				if out[0].Overflowed+out[1].Overflowed != 0 {
					t.Errorf("the link's queue overflowed: %d and %d datagrams tail-dropped", out[0].Overflowed, out[1].Overflowed)
				}
				if maxRTT > tc.maxRTT {
					t.Errorf("round trip reached %v, want at most %v", maxRTT, tc.maxRTT)
				}
				dropped := s.Peers[0].Count(lockstep.EventDisconnected) + s.Peers[1].Count(lockstep.EventDisconnected)
				if tc.fullSpeed {
					if dropped != 0 {
						t.Errorf("%d disconnects at %d kbit/s", dropped, tc.kbit)
					}
					allowed := thinSlack + frames*tc.lossPct/100
					for _, p := range s.Peers {
						if lost := p.Runner.Counters().Stalls + p.Runner.Counters().Waits; lost > allowed {
							t.Errorf("player %d: %d ticks stalled or waiting at %d kbit/s, want full speed (at most %d)", p.Player, lost, tc.kbit, allowed)
						}
					}
					if s.Ticks > frames+allowed {
						t.Errorf("%d ticks for %d frames, want full speed (at most %d)", s.Ticks, frames, frames+allowed)
					}
					if min := frames * 9 / 10; compared < min {
						t.Errorf("compared %d frames, want at least %d", compared, min)
					}
					return
				}
				if dropped != 0 {
					a, b := s.Peers[0].Runner.Session().EndFrame(), s.Peers[1].Runner.Session().EndFrame()
					if a != b {
						t.Errorf("dropped with end frames %d and %d, want the same frame on both sides", a, b)
					}
				} else if compared < frames/2 {
					t.Errorf("compared %d frames, want at least %d of a game that kept going", compared, frames/2)
				}
			})
		}
	}
}
