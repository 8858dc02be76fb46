package bot

import (
	"testing"

	"p2pa/game"
)

// TestTape: a tape plays the bot's moves in order from its first frame, gives a frame asked
// again the same move, and a tape started late (a process that rejoins) skips to the
// frame it is asked for, playing what an uninterrupted bot would have played there.
func TestTape(t *testing.T) {
	const seed, first = 77, 2
	want := map[int]game.Input{}
	b := NewBot(seed)
	for f := first; f < first+1000; f++ {
		want[f] = b.Next()
	}
	for _, tc := range []struct {
		name  string
		asked []int // frames, in the order the runner asks them
	}{
		{"in order", seq(first, first+1000)},
		{"resumed at frames already played", append(append(seq(first, 300), seq(291, 600)...), seq(590, first+1000)...)},
		{"rejoined at 300", seq(300, first+1000)},
		{"rejoined at 300, resumed at 500", append(seq(300, 510), seq(500, first+1000)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tape := NewTape(NewBot(seed), first)
			for _, f := range tc.asked {
				if got := tape.At(f); got != want[f] {
					t.Fatalf("frame %d: %+v, the uninterrupted bot played %+v", f, got, want[f])
				}
			}
		})
	}
}

func seq(from, to int) []int {
	var s []int
	for f := from; f < to; f++ {
		s = append(s, f)
	}
	return s
}
