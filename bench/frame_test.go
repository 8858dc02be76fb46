package bench

import (
	"fmt"
	"runtime"
	"testing"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/lockstep/synctest"
)

// BenchmarkFrame is what one session frame costs a peer: receiving the other's datagrams,
// adding the local input, advancing (with a rollback of rollback frames and their
// re-simulation, when there is one), carrying out the requests on the real game, and
// building the datagrams to send. Two real sessions play over a perfect in-memory link
// (memPair); B's datagrams reach A rollback frames late while B's mouse moves every frame,
// so every one of A's frames rolls back exactly that deep (checked).
//
//	ns/frame   A's tick alone, timed around it (the figure to set against a 16.67 ms frame)
//	%budget    ns/frame as a share of 16.67 ms
//	ns/op      one step of the pair: A's tick, B's tick (which never rolls back) and the
//	           hand delivery; B/op and allocs/op are for the whole step too
//
// Besides the two usual sizes, a 100,000-coin game (game.MaxCoins, a 2 MB state) runs the
// worst case only, an 8-frame rollback every frame: where saving and loading the state
// would dominate if they did more than copy it.
func BenchmarkFrame(b *testing.B) {
	type frameCase struct{ coins, depth int }
	var cases []frameCase
	for _, coins := range benchCoins {
		for _, depth := range []int{0, 1, 4, 8} {
			cases = append(cases, frameCase{coins, depth})
		}
	}
	cases = append(cases, frameCase{largeCoins, 8})
	for _, c := range cases {
		coins, depth := c.coins, c.depth
		{
			b.Run(fmt.Sprintf("coins=%d/rollback=%d", coins, depth), func(b *testing.B) {
				p := framePair(b, coins, depth)
				before := p.a.s.Stats(nil)
				p.timed, p.aNanos = true, 0
				b.ReportAllocs()
				for b.Loop() {
					if err := p.step(); err != nil {
						b.Fatal(err)
					}
				}
				after := p.a.s.Stats(nil)
				n := int64(b.N)
				wantRollbacks := n
				if depth == 0 {
					wantRollbacks = 0
				}
				if got := after.Rollbacks - before.Rollbacks; got != wantRollbacks {
					b.Fatalf("%d rollbacks in %d frames, want %d", got, n, wantRollbacks)
				}
				if got := after.RollbackFrames - before.RollbackFrames; got != int64(depth)*n {
					b.Fatalf("%d frames re-simulated in %d frames, want %d", got, n, int64(depth)*n)
				}
				if err := p.check(); err != nil {
					b.Fatal(err)
				}
				ns := float64(p.aNanos.Nanoseconds()) / float64(b.N)
				b.ReportMetric(ns, "ns/frame")
				b.ReportMetric(100*ns/float64(frameTime.Nanoseconds()), "%budget")
			})
		}
	}
}

// largePairs keeps BenchmarkFrame's 100,000-coin pair from one -count run to the next: its
// warm-up (600 frames of a 2 MB state on both sides) costs several times the measurement,
// and make bench runs every benchmark six times.
var largePairs onceCache[int, *memPair]

// framePair is a warmed-up pair for BenchmarkFrame: a fresh one, or for the large game the
// one kept in largePairs, which just plays on.
func framePair(b *testing.B, coins, depth int) *memPair {
	if coins < largeCoins {
		return newMemPair(b, coins, depth)
	}
	p, err := largePairs.get(depth, func() (*memPair, error) { return newMemPair(b, coins, depth), nil })
	if err != nil {
		b.Fatal(err)
	}
	p.timed = false
	return p
}

// TestSteadyFrameAllocs: once warmed up, a frame without rollback allocates nothing, on
// either side, at either game size. testing.AllocsPerRun rounds down to whole allocations
// per run, so the exact count over a window of frames is checked as well: one allocation
// every few hundred frames (a periodic report, an event) fails too. The runtime itself
// sometimes allocates inside a window (a stop-the-world of ReadMemStats that ends by
// starting a new OS thread costs 6 objects), so the best of three windows counts; the
// session and the game are deterministic, so an allocation of theirs is in every window.
func TestSteadyFrameAllocs(t *testing.T) {
	for _, coins := range benchCoins {
		t.Run(fmt.Sprintf("coins=%d", coins), func(t *testing.T) {
			// 300 frames hold 5 checksum reports, 25 quality reports and 5 rate updates:
			// every periodic path. The large game takes its time under the race detector.
			runs := 2000
			if coins > 1000 {
				if testing.Short() {
					t.Skip("-short: the 50-coin game runs the same paths")
				}
				runs = 300
			}
			p := newMemPair(t, coins, 0)
			perRun := testing.AllocsPerRun(runs, func() {
				if err := p.step(); err != nil {
					t.Fatal(err)
				}
			})
			best := uint64(1<<64 - 1)
			for range 3 {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for range runs {
					if err := p.step(); err != nil {
						t.Fatal(err)
					}
				}
				runtime.ReadMemStats(&after)
				best = min(best, after.Mallocs-before.Mallocs)
			}
			if perRun != 0 || best != 0 {
				t.Errorf("a steady frame pair allocates: %v per frame by AllocsPerRun, %d in %d frames", perRun, best, runs)
			}
			if err := p.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// BenchmarkSyncTest8 is one frame of synctest.Test at its default check distance: load
// the state of 8 frames ago, re-simulate and re-save 8 frames, compare their checksums with
// the first run, then simulate and save the new frame: a worst-case 8-frame rollback with
// the engine's bookkeeping, on the real game (coins moving, collection off as in
// BenchmarkFrame).
func BenchmarkSyncTest8(b *testing.B) {
	for _, coins := range benchCoins {
		b.Run(fmt.Sprintf("coins=%d", coins), func(b *testing.B) {
			st, err := synctest.New(lockstep.Config{Players: 2, InputSize: game.InputSize}, 8)
			if err != nil {
				b.Fatal(err)
			}
			g, err := game.New(game.Config{Mode: game.Versus, Players: 2, Coins: coins, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			in := make([]byte, 0, game.InputSize)
			frame := func() {
				f := st.Frame()
				for p := range 2 {
					var err error
					if in, err = movingInput(p, f, 0).AppendBinary(in[:0]); err != nil {
						b.Fatal(err)
					}
					if err := st.AddLocalInput(p, in); err != nil {
						b.Fatal(err)
					}
				}
				reqs, err := st.AdvanceFrame()
				if err != nil {
					b.Fatal(err)
				}
				if err := lockstep.Apply(g, reqs); err != nil {
					b.Fatal(err)
				}
			}
			for range 32 {
				frame()
			}
			if g.Phase() != game.Moving {
				b.Fatalf("setup: phase %v", g.Phase())
			}
			checked := st.Checked()
			b.ReportAllocs()
			for b.Loop() {
				frame()
			}
			if err := st.Verify(); err != nil {
				b.Fatal(err)
			}
			if got, want := st.Checked()-checked, int64(8*b.N); got < want {
				b.Fatalf("%d re-simulated frames compared, want at least %d", got, want)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(100*ns/float64(frameTime.Nanoseconds()), "%budget")
		})
	}
}
