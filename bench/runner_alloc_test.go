package bench

import (
	"runtime"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/simtest"
	"p2pa/transport"
)

// runnerPair is two netplay.Runners (the loop every front end uses) playing the coin game
// over the link emulator on a virtual clock, on simtest: a frame is every datagram due
// before it delivered at its arrival time (Poll), as Runner.Run does on a real socket,
// then a Tick each. The match is long enough never to end here.
type runnerPair struct {
	sim     *simtest.Sim
	runners [2]*netplay.Runner
}

func newRunnerPair(tb testing.TB, coins int, seed uint64) *runnerPair {
	tb.Helper()
	s, err := simtest.New(simtest.Scenario{
		Frames:  100_000,
		Seed:    seed,
		Link:    transport.LinkConfig{Latency: 10 * time.Millisecond},
		Session: lockstep.Config{InputSize: game.InputSize, Game: gameDesc(coins)},
		NewGame: func(_ int, s uint64) (lockstep.Game, error) {
			return game.New(game.Config{Mode: game.Versus, Coins: coins, Players: 2, Seed: s})
		},
		Input: func(p int, f lockstep.Frame, dst []byte) []byte {
			b, _ := movingInput(p, f, 0).AppendBinary(dst) // a fixed-size struct: cannot fail
			return b
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &runnerPair{sim: s, runners: [2]*netplay.Runner{s.Peers[0].Runner, s.Peers[1].Runner}}
}

func (x *runnerPair) step() {
	if err := x.sim.Step(); err != nil {
		panic(err) // a steady frame of a sound game cannot fail
	}
}

// TestSteadyRunnerFrameAllocs: through the runner the binaries use (netplay), a steady
// frame of the coin game allocates nothing: Tick, Poll, the session, the game, the
// emulated link. As in TestSteadyFrameAllocs, the best of three windows counts.
func TestSteadyRunnerFrameAllocs(t *testing.T) {
	x := newRunnerPair(t, 50, 29)
	for i := 0; i < 2000 && x.runners[0].Session().Frame() < 300; i++ {
		x.step()
	}
	if f := x.runners[0].Session().Frame(); f < 300 {
		t.Fatalf("warm-up reached frame %d, want 300", f)
	}
	const runs = 600
	perRun := testing.AllocsPerRun(runs, x.step)
	best := uint64(1<<64 - 1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			x.step()
		}
		runtime.ReadMemStats(&after)
		best = min(best, after.Mallocs-before.Mallocs)
	}
	if perRun != 0 || best != 0 {
		t.Errorf("a steady runner frame pair allocates: %v per frame by AllocsPerRun, %d in %d frames", perRun, best, runs)
	}
	for p, r := range x.runners {
		if r.Done() {
			t.Fatalf("player %d ended: %v", p, r.Result())
		}
	}
}
