package bench

import (
	"fmt"
	"testing"

	"p2pa/game"
)

var coinCounts = []int{50, 10000}

// running returns a two-player versus game with the coins moving and collection on, the
// state the rollback engine spends its time in, and the inputs that keep it there.
func running(b *testing.B, coins int) (*game.State, []game.Input) {
	b.Helper()
	s, err := game.New(game.Config{Mode: game.Versus, Players: 2, Coins: coins, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	in := []game.Input{{X: 400, Y: 300}, {X: 200, Y: 150}}
	for _, btn := range []game.Buttons{game.ButtonLeft, 0, game.ButtonRight, 0} {
		in[0].Buttons = btn
		s.Step(in)
	}
	if s.Phase() != game.Moving || !s.Collecting() {
		b.Fatalf("setup: phase %v collecting %v", s.Phase(), s.Collecting())
	}
	return s, in
}

func BenchmarkStep(b *testing.B) {
	for _, n := range coinCounts {
		b.Run(fmt.Sprintf("coins=%d", n), func(b *testing.B) {
			s, in := running(b, n)
			// Collectors thin out the coins over time; rewinding to a snapshot now and
			// then keeps every measured frame a typical one, never a finished round.
			snap := s.SaveState(nil)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Step(in)
				if i++; i%256 == 0 {
					b.StopTimer()
					if err := s.LoadState(snap); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
		})
	}
}

func BenchmarkSaveLoad(b *testing.B) {
	for _, n := range coinCounts {
		b.Run(fmt.Sprintf("coins=%d", n), func(b *testing.B) {
			s, _ := running(b, n)
			buf := s.SaveState(nil)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = s.SaveState(buf[:0])
				if err := s.LoadState(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRollbackFrame is one frame of a worst-case 8-frame rollback: load the
// confirmed state, then re-simulate and re-save eight frames.
func BenchmarkRollbackFrame(b *testing.B) {
	for _, n := range coinCounts {
		b.Run(fmt.Sprintf("coins=%d", n), func(b *testing.B) {
			s, in := running(b, n)
			confirmed := s.SaveState(nil)
			buf := make([]byte, 0, len(confirmed))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.LoadState(confirmed); err != nil {
					b.Fatal(err)
				}
				for range 8 {
					s.Step(in)
					buf = s.SaveState(buf[:0])
				}
			}
		})
	}
}
