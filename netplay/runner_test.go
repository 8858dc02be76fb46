package netplay_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/simtest"
	"p2pa/transport"
)

const frame = time.Second / 60

// pair is two runners over the emulator on a virtual clock, on simtest: each frame every
// datagram due before it reaches its runner at its arrival time (Poll), then both tick.
type pair struct {
	sim     *simtest.Sim
	clock   *transport.VirtualClock
	runners [2]*netplay.Runner
	asked   [2][]lockstep.Frame // the frames each input source was asked for, in order
}

func addrOf(p int) netip.AddrPort { return netip.MustParseAddrPort(fmt.Sprintf("10.0.0.%d:7000", p+1)) }

// newPair makes two runners of the counter with no end frame, the session's seed and
// nonces derived from seed; edit changes player p's configuration before it is made.
func newPair(t *testing.T, seed uint64, link transport.LinkConfig, edit func(p int, c *netplay.Config)) *pair {
	t.Helper()
	x := &pair{}
	s, err := simtest.New(simtest.Scenario{
		Seed: seed, Link: link,
		Session: lockstep.Config{InputSize: 1, Game: "counter"},
		NewGame: func(int, uint64) (lockstep.Game, error) { return &counter{}, nil },
		Input: func(p int, f lockstep.Frame, dst []byte) []byte {
			x.asked[p] = append(x.asked[p], f)
			return append(dst, byte(uint64(f)*(seed+uint64(p)+1)>>3))
		},
		Edit: func(p, _ int, c *netplay.Config) {
			c.Session.Seed, c.Session.Nonce = seed, seed*7+uint64(p)
			c.FinishAt = 0 // the tests end the match themselves
			if edit != nil {
				edit(p, c)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	x.sim, x.clock = s, s.Clock
	x.runners = [2]*netplay.Runner{s.Peers[0].Runner, s.Peers[1].Runner}
	return x
}

// step plays one frame: a stopped runner is no longer driven, and what reaches it is lost.
func (x *pair) step() {
	_ = x.sim.Step() // a failure is the runner's Result, which the tests check
}

// stop stops player p dead: it vanishes.
func (x *pair) stop(p int) { x.sim.Peers[p].Gone = true }

// events are the session events player p saw.
func (x *pair) events(p int) []lockstep.Event { return x.sim.Peers[p].Events }

// run steps until done() or the virtual deadline.
func (x *pair) run(t *testing.T, deadline time.Duration, done func() bool) {
	t.Helper()
	for !done() {
		if x.clock.Now() > deadline {
			t.Fatalf("not done after %v: %v / %v", deadline, x.runners[0].Session().Stats(nil), x.runners[1].Session().Stats(nil))
		}
		x.step()
	}
}

func (x *pair) bothDone() bool { return x.runners[0].Done() && x.runners[1].Done() }

// The phases of a match played to its end, of one that ended at once (seen frame by
// frame), and of one a desync stopped.
var (
	played   = []netplay.Phase{netplay.PhaseHandshake, netplay.PhasePlaying, netplay.PhaseEnding, netplay.PhaseDone}
	cutShort = []netplay.Phase{netplay.PhaseHandshake, netplay.PhasePlaying, netplay.PhaseDone}
	desynced = []netplay.Phase{netplay.PhaseHandshake, netplay.PhasePlaying, netplay.PhaseDesynced, netplay.PhaseDone}
)

func TestEndings(t *testing.T) {
	lossy := transport.LinkConfig{Latency: 40 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05}
	tests := []struct {
		name   string
		seed   uint64
		link   transport.LinkConfig
		edit   func(p int, c *netplay.Config)
		during func(x *pair) // called every frame
		want   [2]netplay.EndReason
		agree  bool // both end at the same confirmed frame with the same checksum
		frame  lockstep.Frame
		// phases, if set, are the phases each runner went through, in order (as seen
		// after each frame of the emulation).
		phases [2][]netplay.Phase
	}{
		{name: "finish", seed: 1, link: lossy, agree: true, frame: 400,
			edit:   func(p int, c *netplay.Config) { c.FinishAt = 400 },
			want:   [2]netplay.EndReason{netplay.EndFinished, netplay.EndFinished},
			phases: [2][]netplay.Phase{played, played}},
		{name: "finish-with-input-delay", seed: 2, link: lossy, agree: true, frame: 300,
			edit: func(p int, c *netplay.Config) { c.FinishAt = 300; c.Session.InputDelay = 2 },
			want: [2]netplay.EndReason{netplay.EndFinished, netplay.EndFinished}},
		{name: "quit", seed: 3, link: lossy, agree: true, frame: -1,
			during: func(x *pair) {
				if x.runners[1].Session().Frame() >= 250 {
					x.runners[1].Quit()
				}
			},
			want: [2]netplay.EndReason{netplay.EndPeerLeft, netplay.EndQuit},
			// The goodbye ends player 0's match within the frame it arrives in.
			phases: [2][]netplay.Phase{cutShort, played}},
		{name: "abort", seed: 6, link: lossy, frame: -1,
			during: func(x *pair) {
				if x.runners[1].Session().Frame() >= 120 && !x.runners[1].Done() {
					x.runners[1].Abort()
					if !x.runners[1].Done() {
						panic("Abort did not end the match at once")
					}
				}
			},
			want:   [2]netplay.EndReason{netplay.EndPeerLeft, netplay.EndQuit},
			phases: [2][]netplay.Phase{cutShort, cutShort}},
		{name: "stay-on-desync-until-quit", seed: 7, link: lossy, frame: -1,
			edit: func(p int, c *netplay.Config) {
				c.Session.ChecksumInterval = 10
				c.DesyncLinger = -1
				if p == 1 {
					c.Game = &drifting{}
				}
			},
			during: func(x *pair) {
				// Both stay on (the session stops advancing) well past the default linger;
				// then they quit.
				if x.clock.Now() > 20*time.Second {
					x.runners[0].Quit()
					x.runners[1].Quit()
				} else if x.runners[0].Done() || x.runners[1].Done() {
					panic("a runner left a desync it was told to stay on")
				}
			},
			want:   [2]netplay.EndReason{netplay.EndDesync, netplay.EndDesync},
			phases: [2][]netplay.Phase{desynced, desynced}},
		{name: "handshake-fails", seed: 4, link: lossy, frame: -1,
			edit: func(p int, c *netplay.Config) {
				// Another secret fails both sides. (Another game no longer does: player 0
				// refuses such a newcomer and waits on, and the newcomer fails alone.)
				if p == 1 {
					c.Session.Secret = "another secret"
				}
			},
			want:   [2]netplay.EndReason{netplay.EndFailed, netplay.EndFailed},
			phases: [2][]netplay.Phase{{netplay.PhaseHandshake, netplay.PhaseDone}, {netplay.PhaseHandshake, netplay.PhaseDone}}},
		{name: "desync", seed: 5, link: lossy, frame: -1,
			edit: func(p int, c *netplay.Config) {
				c.Session.ChecksumInterval = 10
				if p == 1 {
					c.Game = &drifting{}
				}
			},
			want:   [2]netplay.EndReason{netplay.EndDesync, netplay.EndDesync},
			phases: [2][]netplay.Phase{desynced, desynced}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newPair(t, tc.seed, tc.link, tc.edit)
			var phases [2][]netplay.Phase
			x.run(t, 60*time.Second, func() bool {
				for p, r := range x.runners {
					if ph := r.Phase(); len(phases[p]) == 0 || phases[p][len(phases[p])-1] != ph {
						phases[p] = append(phases[p], ph)
					}
				}
				if tc.during != nil {
					tc.during(x)
				}
				return x.bothDone()
			})
			for p, r := range x.runners {
				if ph := r.Phase(); phases[p][len(phases[p])-1] != ph {
					phases[p] = append(phases[p], ph)
				}
			}
			if tc.phases[0] != nil {
				if diff := cmp.Diff(tc.phases, phases); diff != "" {
					t.Errorf("phases (-want +got):\n%s", diff)
				}
			}
			a, b := x.runners[0].Result(), x.runners[1].Result()
			if got := [2]netplay.EndReason{a.Reason, b.Reason}; got != tc.want {
				t.Fatalf("reasons %v, want %v (errors %v, %v)", got, tc.want, a.Err, b.Err)
			}
			if tc.agree {
				if !a.Confirmed || !b.Confirmed || a.Frame != b.Frame || a.Checksum != b.Checksum || string(a.State) != string(b.State) {
					t.Fatalf("peers disagree on the end: %v (%v) vs %v (%v)", a, a.Confirmed, b, b.Confirmed)
				}
				if len(a.State) == 0 {
					t.Fatalf("no end state")
				}
				if a.Err != nil || b.Err != nil {
					t.Fatalf("errors %v, %v", a.Err, b.Err)
				}
			}
			if tc.frame >= 0 && a.Frame != tc.frame {
				t.Fatalf("end frame %d, want %d", a.Frame, tc.frame)
			}
			if tc.want[0] == netplay.EndDesync && !errors.Is(a.Err, lockstep.ErrDesync) {
				t.Fatalf("desync result error %v", a.Err)
			}
			if tc.want[0] == netplay.EndFailed && (a.Err == nil || b.Err == nil) {
				t.Fatalf("a failed handshake without an error: %v, %v", a.Err, b.Err)
			}
			for p := range 2 {
				checkAskedOnce(t, p, x.asked[p])
			}
		})
	}
}

// checkAskedOnce: the input source is asked for consecutive frames, each exactly once.
func checkAskedOnce(t *testing.T, p int, asked []lockstep.Frame) {
	t.Helper()
	for i := 1; i < len(asked); i++ {
		if asked[i] != asked[i-1]+1 {
			t.Fatalf("player %d: input asked for frame %d after frame %d", p, asked[i], asked[i-1])
		}
	}
}

// Hold plays to FinishAt and stays there: no goodbye, the end frame confirmed on both, the
// runners still answering, even when a peer vanishes.
func TestHold(t *testing.T) {
	x := newPair(t, 14, transport.LinkConfig{Latency: 30 * time.Millisecond, Loss: 0.05}, func(p int, c *netplay.Config) {
		c.FinishAt, c.Hold = 150, true
		c.Session.DisconnectTimeout = time.Second
	})
	x.run(t, 30*time.Second, func() bool { return x.clock.Now() > 15*time.Second })
	for p, r := range x.runners {
		s := r.Session()
		if r.Done() || s.Frame() != 150 || s.ConfirmedFrame() != 150 {
			t.Fatalf("player %d: done %v, frame %d, confirmed %d; want held at 150", p, r.Done(), s.Frame(), s.ConfirmedFrame())
		}
	}
	a, _ := x.runners[0].Session().Checksum(150)
	b, _ := x.runners[1].Session().Checksum(150)
	if a != b {
		t.Fatalf("checksums at 150 differ: %016x, %016x", a, b)
	}
	for p := range 2 {
		for _, e := range x.events(p) {
			if e.Kind == lockstep.EventPeerLeft {
				t.Fatalf("player %d: %v while holding", p, e)
			}
		}
	}
}

// A peer that stops dead moves the end to the last frame both played with real inputs.
func TestPeerVanishes(t *testing.T) {
	x := newPair(t, 11, transport.LinkConfig{Latency: 20 * time.Millisecond}, func(p int, c *netplay.Config) {
		c.Session.DisconnectTimeout = time.Second
		c.Session.InterruptTimeout = 300 * time.Millisecond
	})
	x.run(t, 60*time.Second, func() bool {
		if x.runners[1].Session().Frame() >= 200 {
			x.stop(1)
		}
		return x.runners[0].Done()
	})
	res := x.runners[0].Result()
	end := x.runners[0].Session().EndFrame()
	if res.Reason != netplay.EndPeerDisconnected || !res.Confirmed || res.Frame != end || end < 190 {
		t.Fatalf("result %v confirmed %v, EndFrame %d", res, res.Confirmed, end)
	}
	// If player 1 confirmed that frame before it vanished, its checksum must match.
	if sum, ok := x.runners[1].Session().Checksum(end); ok && end <= x.runners[1].Session().ConfirmedFrame() && sum != res.Checksum {
		t.Fatalf("vanished peer has checksum %016x at frame %d, survivor %016x", sum, end, res.Checksum)
	}
}

// The handshake runs at network speed: replies go out when a datagram arrives, not at the
// next frame, so on a 1 ms link it takes a few milliseconds, far less than one round trip
// per frame would (SyncRoundTrips frames).
func TestHandshakeAtNetworkSpeed(t *testing.T) {
	x := newPair(t, 12, transport.LinkConfig{Latency: time.Millisecond}, nil)
	x.run(t, 5*time.Second, func() bool {
		return x.runners[0].Session().Running() && x.runners[1].Session().Running()
	})
	// After n steps the pair has played n frames: frame n-1 ticked at (n-1)/60 s, and the
	// datagrams up to n/60 s would be delivered by the next step.
	if limit, took := 2*frame, time.Duration(x.sim.Ticks)*frame; took > limit {
		t.Fatalf("running after %v, want at most %v", took, limit)
	}
}

// A steady frame (tick, deliveries, polls) allocates nothing.
func TestSteadyFrameAllocatesNothing(t *testing.T) {
	x := newPair(t, 13, transport.LinkConfig{Latency: 20 * time.Millisecond}, func(p int, c *netplay.Config) {
		c.Input = func(f lockstep.Frame, dst []byte) []byte { return append(dst, byte(f/7)) }
		c.OnEvent = nil
		c.OnConfirmed = func(netplay.Confirmed) {}
	})
	x.run(t, 10*time.Second, func() bool { return x.runners[0].Session().Frame() >= 300 })
	if n := testing.AllocsPerRun(200, x.step); n != 0 {
		t.Fatalf("%v allocations per frame, want 0", n)
	}
}

// Run on real loopback UDP: two runners in one process finish together.
func TestRunUDP(t *testing.T) {
	conns := [2]*transport.UDP{}
	for p := range conns {
		u, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { u.Close() })
		conns[p] = u
	}
	clock := transport.NewRealClock()
	results := make(chan netplay.Result, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for p := range 2 {
		r, err := netplay.New(netplay.Config{
			Session: lockstep.Config{InputSize: 1, Game: "counter", Seed: 21, Nonce: uint64(p + 5)},
			Player:  p, Peers: []netip.AddrPort{conns[0].LocalAddr(), {}}, Conn: conns[p], Clock: clock,
			Game:     &counter{},
			Input:    func(f lockstep.Frame, dst []byte) []byte { return append(dst, byte(f/5)+byte(p)) },
			FinishAt: 60,
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			res, _ := r.Run(ctx)
			results <- res
		}()
	}
	a, b := <-results, <-results
	if a.Reason != netplay.EndFinished || b.Reason != netplay.EndFinished || a.Frame != 60 || a.Checksum != b.Checksum {
		t.Fatalf("results %v and %v", a, b)
	}
}

// drifting is a counter whose player-1 copy computes something else: a desync.
type drifting struct{ counter }

func (d *drifting) AdvanceFrame(inputs []byte) {
	d.counter.AdvanceFrame(inputs)
	if d.frame > 30 {
		d.total++
	}
}

// TestTickStatus: Tick says what each tick did, in lockstep's terms, from the handshake to
// the end of the match, and its advances are the counters'.
func TestTickStatus(t *testing.T) {
	x := newPair(t, 3, transport.LinkConfig{Latency: 20 * time.Millisecond}, func(_ int, c *netplay.Config) {
		c.FinishAt = 120
	})
	seen := map[lockstep.Status]int{}
	var phases [2][]netplay.Phase // each runner's phases, in order, without repeats
	for i := 0; !x.bothDone(); i++ {
		if i > 2000 {
			t.Fatalf("the match did not end")
		}
		for p, r := range x.runners {
			seen[r.Tick()]++
			if ph := r.Phase(); len(phases[p]) == 0 || phases[p][len(phases[p])-1] != ph {
				phases[p] = append(phases[p], ph)
			}
		}
		x.clock.Advance(frame)
	}
	want := []netplay.Phase{netplay.PhaseHandshake, netplay.PhasePlaying, netplay.PhaseEnding, netplay.PhaseDone}
	for p := range phases {
		if diff := cmp.Diff(want, phases[p]); diff != "" {
			t.Errorf("player %d: phases (-want +got):\n%s", p, diff)
		}
	}
	for _, want := range []lockstep.Status{lockstep.StatusSynchronizing, lockstep.StatusAdvanced} {
		if seen[want] == 0 {
			t.Errorf("no tick said %v: %v", want, seen)
		}
	}
	for _, r := range x.runners {
		if got := r.Tick(); got != lockstep.StatusEnded {
			t.Errorf("player %d: Tick after the end: %v, want %v", r.Session().LocalPlayer(), got, lockstep.StatusEnded)
		}
	}
	if adv, c0, c1 := seen[lockstep.StatusAdvanced], x.runners[0].Counters(), x.runners[1].Counters(); adv != c0.Advanced+c1.Advanced {
		t.Errorf("%d ticks said advanced, the counters %d and %d", adv, c0.Advanced, c1.Advanced)
	}
}
