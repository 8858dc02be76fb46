package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/transport"
)

// scenarioFrames is how long every scenario plays: 10,000 frames (2 min 47 s of game) by
// default, 2,000 with -short.
func scenarioFrames() int {
	if testing.Short() {
		return 2000
	}
	return 10000
}

// at is a frame count as virtual time.
func at(frames int) time.Duration { return time.Duration(frames) * Tick }

// defaults is the session configuration a scenario runs with, defaults filled in.
func defaults(t *testing.T, c lockstep.Config) lockstep.Config {
	t.Helper()
	c.InputSize = game.InputSize
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// eventAt is an event and the virtual time of the tick that produced it.
type eventAt struct {
	lockstep.Event
	At time.Duration
}

// run plays s to the end like Sim.Run, and records when each peer's events arrived.
func run(t *testing.T, s *Sim) [][]eventAt {
	t.Helper()
	events := make([][]eventAt, len(s.Peers))
	seen := make([]int, len(s.Peers))
	for !s.Finished() {
		if s.TimedOut() {
			t.Fatalf("not finished after %d ticks: %s", s.Ticks, s.Status())
		}
		if err := s.Step(); err != nil {
			t.Fatalf("tick %d: %v", s.Ticks, err)
		}
		now := s.Clock.Now() // the tick's time
		for i, p := range s.Peers {
			for _, e := range p.Events[seen[i]:] {
				events[i] = append(events[i], eventAt{e, now})
			}
			seen[i] = len(p.Events)
		}
	}
	return events
}

func kinds(evs []eventAt, k lockstep.EventKind) []eventAt {
	var out []eventAt
	for _, e := range evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// pairCompared counts the frames both a and b recorded a checksum for, and checks they agree.
func pairCompared(t *testing.T, a, b *Peer, frames int) int {
	t.Helper()
	n := 0
	for f := lockstep.Frame(0); f <= lockstep.Frame(frames); f++ {
		sa, oka := a.Checksum(f)
		sb, okb := b.Checksum(f)
		if !oka || !okb {
			continue
		}
		n++
		if sa != sb {
			t.Errorf("frame %d: player %d has %016x, player %d %016x", f, a.Player, sa, b.Player, sb)
			return n
		}
	}
	return n
}

// Stall budget. A seeded scenario is deterministic, so a bound cannot flake between runs;
// what it must survive is engine changes that move a few ticks (a threshold tuned to one run
// failed as soon as time sync changed by one wait). So the bound is not a share fitted to a
// run but a fixed part, for the start (time sync needs a few windows of samples before its
// first wait, and the first inputs are a round trip away), plus a proportional part set well
// above what any scenario here uses (under 2% of its frames on the worst link), plus what a
// scenario stalls by design (an outage, a disconnect timeout). What it catches is a peer
// that keeps falling behind: one tick in twenty lost over the whole match.
const (
	stallFixedTicks   = 60 // one second of ticks
	stallPerMilFrames = 50 // 5% of the frames
)

type scenarioCase struct {
	name string
	// seed decides the link emulator's fate for every datagram, the bots and the game; each
	// row states its own, so no two scenarios share one by accident.
	seed uint64
	sc   Scenario
	game Coins
	// minCompared is the share of the frames every pair of peers must have compared
	// (default 0.9).
	minCompared float64
	// extraStalls is the ticks a scenario stalls by design, added to the stall budget.
	extraStalls int
	// lossy scenarios may see short interruptions; the others must not.
	mayInterrupt bool
	check        func(t *testing.T, s *Sim, events [][]eventAt)
}

func TestScenarios(t *testing.T) {
	frames := scenarioFrames()
	cfg := defaults(t, lockstep.Config{})
	outFrom, outTo := at(frames*48/100), at(frames*48/100)+2*time.Second // 80 s..82 s of 10,000 frames
	vanishAt := at(frames * 36 / 100)                                    // 60 s of 10,000 frames
	const vanishLatency = 20 * time.Millisecond

	cases := []scenarioCase{
		{
			name: "perfect",
			seed: 101,
			sc:   Scenario{},
		},
		{
			name: "rtt60ms",
			seed: 102,
			sc:   Scenario{Link: transport.LinkConfig{Latency: 30 * time.Millisecond}},
		},
		{
			name:         "rtt150ms-jitter20ms-loss5%",
			seed:         103,
			sc:           Scenario{Link: transport.LinkConfig{Latency: 75 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.05}},
			mayInterrupt: true,
		},
		{
			name:         "rtt150ms-delay2",
			seed:         104,
			sc:           Scenario{Link: transport.LinkConfig{Latency: 75 * time.Millisecond, Jitter: 20 * time.Millisecond}, Session: lockstep.Config{InputDelay: 2}},
			mayInterrupt: true,
		},
		{
			name:         "loss10%-dup-reorder",
			seed:         105,
			sc:           Scenario{Link: transport.LinkConfig{Latency: 20 * time.Millisecond, Loss: 0.10, Dup: 0.05, Reorder: 0.05}},
			mayInterrupt: true,
		},
		{
			name: "outage2s",
			seed: 106,
			sc: Scenario{Link: transport.LinkConfig{
				Latency: 20 * time.Millisecond,
				Outages: []transport.Outage{{From: outFrom, To: outTo}},
			}},
			// The game stalls for the outage (~120 frames); the catch-up is in the budget.
			extraStalls:  int((outTo - outFrom) / Tick),
			mayInterrupt: true,
			check: func(t *testing.T, s *Sim, events [][]eventAt) {
				for i, p := range s.Peers {
					ints, res := kinds(events[i], lockstep.EventInterrupted), kinds(events[i], lockstep.EventResumed)
					if len(ints) != 1 || len(res) != 1 {
						t.Errorf("player %d: %d interrupted and %d resumed events, want one each: %v", i, len(ints), len(res), events[i])
						continue
					}
					// Silence starts with the outage (minus one tick of latency) and is
					// reported after InterruptTimeout; the first datagram after it ends it.
					if lo, hi := outFrom+cfg.InterruptTimeout-2*Tick, outFrom+cfg.InterruptTimeout+2*Tick; ints[0].At < lo || ints[0].At > hi {
						t.Errorf("player %d: interrupted at %v, want %v..%v", i, ints[0].At, lo, hi)
					}
					if lo, hi := outTo, outTo+200*time.Millisecond; res[0].At < lo || res[0].At > hi {
						t.Errorf("player %d: resumed at %v, want %v..%v", i, res[0].At, lo, hi)
					}
					if n := p.Count(lockstep.EventDisconnected); n != 0 {
						t.Errorf("player %d: disconnected by a %v outage", i, outTo-outFrom)
					}
					// The game cannot run more than the prediction window into the outage.
					if want := int((outTo-outFrom)/Tick) - cfg.MaxPrediction - 5; p.Runner.Counters().Stalls < want {
						t.Errorf("player %d: %d stalls across a %v outage, want at least %d", i, p.Runner.Counters().Stalls, outTo-outFrom, want)
					}
				}
			},
		},
		{
			name: "vanish",
			seed: 107,
			sc: Scenario{
				Link:   transport.LinkConfig{Latency: vanishLatency},
				Vanish: vanishing(map[int]time.Duration{1: vanishAt}),
			},
			minCompared: 0.34,
			extraStalls: int(cfg.DisconnectTimeout / Tick),
			check: func(t *testing.T, s *Sim, events [][]eventAt) {
				p0 := s.Peers[0]
				if !s.Peers[1].Gone || p0.Gone {
					t.Fatalf("gone: player 0 %v, player 1 %v", p0.Gone, s.Peers[1].Gone)
				}
				dis := kinds(events[0], lockstep.EventDisconnected)
				if len(dis) != 1 || dis[0].Player != 1 {
					t.Fatalf("player 0 saw %v, want one disconnect of player 1", events[0])
				}
				// The last datagram of player 1 arrives one latency after it vanished; the
				// silence is counted from then.
				lo := vanishAt + cfg.DisconnectTimeout - 2*Tick
				hi := vanishAt + vanishLatency + cfg.DisconnectTimeout + 2*Tick
				if d := dis[0].At; d < lo || d > hi {
					t.Errorf("disconnected at %v, want %v..%v (vanished at %v, timeout %v)", d, lo, hi, vanishAt, cfg.DisconnectTimeout)
				}
				ints := kinds(events[0], lockstep.EventInterrupted)
				if len(ints) != 1 || ints[0].At > vanishAt+vanishLatency+cfg.InterruptTimeout+2*Tick || ints[0].At >= dis[0].At {
					t.Errorf("interrupted %v, want once about %v after %v, before the disconnect", ints, cfg.InterruptTimeout, vanishAt)
				}
				// Its last input reached player 0 (the link loses nothing): the game ran on real
				// inputs up to the frame player 1 had reached.
				if end, last := dis[0].Frame, s.Peers[1].Runner.Session().Frame(); end < last-1 || end > last {
					t.Errorf("disconnect frame %d, player 1 vanished at frame %d", end, last)
				}
				// Player 0 plays on alone to the end, and keeps confirming frames.
				if f := p0.Runner.Session().Frame(); int(f) != frames {
					t.Errorf("player 0 stopped at frame %d, want %d", f, frames)
				}
				if c := p0.Runner.Session().ConfirmedFrame(); int(c) < frames-1 {
					t.Errorf("player 0 confirmed only frame %d of %d after the disconnect", c, frames)
				}
				if _, ok := p0.Checksum(lockstep.Frame(frames - 1)); !ok {
					t.Errorf("player 0 has no checksum of frame %d", frames-1)
				}
				if p0.Runner.Session().EndFrame() != dis[0].Frame {
					t.Errorf("EndFrame %d, disconnect frame %d", p0.Runner.Session().EndFrame(), dis[0].Frame)
				}
			},
		},
		{
			name:         "3players-loss5%",
			seed:         108,
			sc:           Scenario{Players: 3, Link: transport.LinkConfig{Latency: 25 * time.Millisecond, Loss: 0.05}},
			game:         Coins{Mode: game.Versus},
			mayInterrupt: true,
		},
		{
			name:         "4players-jitter",
			seed:         109,
			sc:           Scenario{Players: 4, Link: transport.LinkConfig{Latency: 30 * time.Millisecond, Jitter: 15 * time.Millisecond}},
			game:         Coins{Mode: game.Versus},
			mayInterrupt: true,
		},
		{
			name: "4players-uneven",
			seed: 110,
			// Fewer coins keep this extra 4-player run cheap under -race.
			game: Coins{Coins: 10},
			sc: Scenario{Players: 4, Session: lockstep.Config{InputDelay: 1}, LinkFor: func(from, to int) transport.LinkConfig {
				// Player 3 is far away; the rest share a LAN.
				if from == 3 || to == 3 {
					return transport.LinkConfig{Latency: 60 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.02}
				}
				return transport.LinkConfig{Latency: 5 * time.Millisecond}
			}},
			mayInterrupt: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := tc.sc
			sc.Frames = frames
			sc.Seed = tc.seed
			s, err := New(sc, tc.game)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			events := run(t, s)
			elapsed := time.Since(start)
			compared, err := s.Compare()
			if err != nil {
				t.Errorf("checksums differ: %v", err)
			}
			players := len(s.Peers)
			minShare := tc.minCompared
			if minShare == 0 {
				minShare = 0.9
			}
			if want := int(minShare * float64(frames) * float64(players-1)); compared < want {
				t.Errorf("compared %d frames, want at least %d", compared, want)
			}
			for i := range s.Peers {
				for j := i + 1; j < players; j++ {
					n := pairCompared(t, s.Peers[i], s.Peers[j], frames)
					if want := int(minShare * float64(frames)); n < want {
						t.Errorf("players %d and %d compared %d frames, want at least %d", i, j, n, want)
					}
				}
			}
			t.Logf("%s: %d players, %d frames in %d ticks (%v virtual, %v real), %d checksums compared",
				tc.name, players, frames, s.Ticks, at(s.Ticks), elapsed.Round(time.Millisecond), compared)
			for i, p := range s.Peers {
				st := p.Runner.Session().Stats(nil)
				c := p.Runner.Counters()
				var rtts []string
				for _, ps := range st.Peers {
					rtts = append(rtts, fmt.Sprintf("%d:%v", ps.Player, ps.RTT.Round(time.Millisecond)))
				}
				stalled := c.Stalls + c.Waits
				t.Logf("  player %d: frame %d confirmed %d, stalls %d + waits %d = %d ticks (%.2f%%, %v), rollbacks %d (%d frames), max depth %d, rtt %v, dropped %d, events %d",
					i, st.Frame, st.ConfirmedFrame, c.Stalls, c.Waits, stalled, 100*float64(stalled)/float64(frames), at(stalled),
					st.Rollbacks, st.RollbackFrames, c.MaxDepth, rtts, st.DroppedTotal(), len(p.Events))
				if d := c.MaxDepth; d > cfg.MaxPrediction {
					t.Errorf("player %d rolled back %d frames, deeper than the prediction window %d", i, d, cfg.MaxPrediction)
				}
				if st.MaxRollbackDepth != c.MaxDepth {
					t.Errorf("player %d: session says max depth %d, sim saw %d", i, st.MaxRollbackDepth, c.MaxDepth)
				}
				if n := p.Count(lockstep.EventDesync); n != 0 {
					t.Errorf("player %d: %d desync events", i, n)
				}
				if n := p.Count(lockstep.EventFailed); n != 0 {
					t.Errorf("player %d: %d failures", i, n)
				}
				if err := p.Runner.Session().Err(); err != nil {
					t.Errorf("player %d: %v", i, err)
				}
				if p.Count(lockstep.EventRunning) != 1 {
					t.Errorf("player %d: %d running events, want 1", i, p.Count(lockstep.EventRunning))
				}
				if p.Gone {
					continue
				}
				if int(st.Frame) != frames {
					t.Errorf("player %d ended at frame %d, want %d", i, st.Frame, frames)
				}
				if limit := stallFixedTicks + frames*stallPerMilFrames/1000 + tc.extraStalls; stalled > limit {
					t.Errorf("player %d stalled %d ticks, want at most %d (%d + %d‰ of %d frames + %d by design)",
						i, stalled, limit, stallFixedTicks, stallPerMilFrames, frames, tc.extraStalls)
				}
				if tc.check == nil && tc.sc.Vanish == nil {
					if n := p.Count(lockstep.EventDisconnected) + p.Count(lockstep.EventPeerLeft); n != 0 {
						t.Errorf("player %d: %d peers lost", i, n)
					}
					if n := p.Count(lockstep.EventInterrupted); n != 0 && !tc.mayInterrupt {
						t.Errorf("player %d: %d interruptions on a clean link", i, n)
					}
				}
				if s.State(p).Frame() != int32(frames) {
					t.Errorf("player %d: game at frame %d, session at %d", i, s.State(p).Frame(), st.Frame)
				}
			}
			if tc.check != nil {
				tc.check(t, s, events)
			}
		})
	}
}

// outcome is everything a run decides, for comparing two runs.
type outcome struct {
	sums      [][]uint64
	rollbacks []int64
	rbFrames  []int64
	stalls    []int
	waits     []int
	ticks     int
	links     []transport.LinkStats
	score     []int
}

func play(t *testing.T, sc Scenario) outcome {
	t.Helper()
	s, err := New(sc, Coins{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Play(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Compare(); err != nil {
		t.Fatal(err)
	}
	var o outcome
	o.ticks = s.Ticks
	for _, p := range s.Peers {
		var sums []uint64
		for f := lockstep.Frame(0); f <= lockstep.Frame(sc.Frames); f++ {
			sum, ok := p.Checksum(f)
			if !ok {
				sum = 0
			}
			sums = append(sums, sum)
		}
		st := p.Runner.Session().Stats(nil)
		o.sums = append(o.sums, sums)
		o.rollbacks = append(o.rollbacks, st.Rollbacks)
		o.rbFrames = append(o.rbFrames, st.RollbackFrames)
		o.stalls = append(o.stalls, p.Runner.Counters().Stalls)
		o.waits = append(o.waits, p.Runner.Counters().Waits)
		o.score = append(o.score, s.State(p).TotalScore())
		for _, q := range s.Peers {
			if q != p {
				o.links = append(o.links, s.Net.Stats(p.Addr, q.Addr))
			}
		}
	}
	return o
}

// TestSameSeedSameRun: a scenario and a seed decide every datagram and every frame.
func TestSameSeedSameRun(t *testing.T) {
	t.Parallel()
	sc := Scenario{
		Players: 3,
		Frames:  3000,
		Seed:    77,
		Link:    transport.LinkConfig{Latency: 40 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.08, Dup: 0.03, Reorder: 0.05},
	}
	if testing.Short() {
		sc.Frames = 1000
	}
	a, b := play(t, sc), play(t, sc)
	for p := range a.sums {
		for f := range a.sums[p] {
			if a.sums[p][f] != b.sums[p][f] {
				t.Fatalf("player %d frame %d: checksum %016x, then %016x", p, f, a.sums[p][f], b.sums[p][f])
			}
		}
	}
	if a.ticks != b.ticks || !slices.Equal(a.rollbacks, b.rollbacks) || !slices.Equal(a.rbFrames, b.rbFrames) ||
		!slices.Equal(a.stalls, b.stalls) || !slices.Equal(a.waits, b.waits) || !slices.Equal(a.links, b.links) {
		t.Errorf("two runs of one seed differ:\n%+v\n%+v", a, b)
	}
	if a.rollbacks[0] == 0 || a.links[0].Lost == 0 || a.links[0].Duplicated == 0 || a.links[0].Reordered == 0 {
		t.Errorf("the scenario exercises nothing: rollbacks %v, link %+v", a.rollbacks, a.links[0])
	}
	t.Logf("rollbacks %v, stalls %v, waits %v, link 0→1 %+v", a.rollbacks, a.stalls, a.waits, a.links[0])

	// Another seed: other datagrams are lost, duplicated and delayed, so the run differs.
	sc.Seed++
	c := play(t, sc)
	differ := 0
	for i := range a.links {
		if a.links[i] != c.links[i] {
			differ++
		}
	}
	if differ == 0 {
		t.Errorf("seed %d and %d gave every link the same fate: %+v", sc.Seed-1, sc.Seed, a.links)
	}
	if slices.Equal(a.rollbacks, c.rollbacks) && slices.Equal(a.rbFrames, c.rbFrames) {
		t.Errorf("seed %d and %d made the same rollbacks: %v", sc.Seed-1, sc.Seed, a.rollbacks)
	}
	t.Logf("seed %d: %d of %d link directions differ; rollbacks %v vs %v", sc.Seed, differ, len(a.links), a.rollbacks, c.rollbacks)
}

// brokenGame runs one frame twice on one peer, every time that frame is simulated: from
// then on its state is a frame ahead, as with a game whose simulation is not deterministic.
type brokenGame struct {
	*game.State
	at int32
}

func (g *brokenGame) AdvanceFrame(inputs []byte) {
	if g.State.Frame() == g.at {
		g.State.AdvanceFrame(inputs)
	}
	g.State.AdvanceFrame(inputs)
}

// TestScenarioCatchesDesync shows the checks above can fail: one peer whose simulation
// differs is caught both by Compare and by the session's own checksum exchange.
func TestScenarioCatchesDesync(t *testing.T) {
	t.Parallel()
	const breakAt = 300
	cfg := defaults(t, lockstep.Config{})
	sc := Scenario{
		Frames:  1200,
		Seed:    5,
		Link:    transport.LinkConfig{Latency: 30 * time.Millisecond, Loss: 0.02},
		Session: lockstep.Config{StopOnDesync: true}, // caught, not mended
	}
	s, err := New(sc, Coins{Wrap: func(p, _ int, st *game.State) lockstep.Game {
		if p == 1 {
			return &brokenGame{State: st, at: breakAt}
		}
		return st
	}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	_, err = s.Compare()
	if err == nil {
		t.Fatal("Compare found no difference between a broken peer and a sound one")
	}
	t.Logf("Compare: %v", err)
	var firstDiff int
	fmt.Sscanf(err.Error(), "frame %d:", &firstDiff)
	if firstDiff != breakAt+1 {
		t.Errorf("first differing frame %d, want %d", firstDiff, breakAt+1)
	}
	for _, p := range s.Peers {
		if p.Count(lockstep.EventDesync) != 1 {
			t.Errorf("player %d: %d desync events, want 1: %v", p.Player, p.Count(lockstep.EventDesync), p.Events)
		}
		f, _, ok := p.Runner.Session().DesyncState()
		if !ok || f <= breakAt || int(f) > breakAt+cfg.ChecksumInterval {
			t.Errorf("player %d: desync state of frame %d (%v), want the first checksum frame after %d", p.Player, f, ok, breakAt)
		}
	}
}

// TestBadLocalInputFails: an input the game cannot encode (a bug in whatever made it) stops
// the run with an error naming the player, instead of reaching the session as a short input.
func TestBadLocalInputFails(t *testing.T) {
	s, err := New(Scenario{Frames: 60, Seed: 31}, Coins{Input: func(p int, f lockstep.Frame) game.Input {
		if p == 1 && f == 10 {
			return game.Input{Buttons: 0x80}
		}
		return game.Input{X: 100, Y: 100}
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Play()
	if err == nil || !strings.Contains(err.Error(), "player 1") || !strings.Contains(err.Error(), "unknown bits") {
		t.Fatalf("Play() = %v, want player 1's encoding error", err)
	}
}
