package bot

import (
	"slices"
	"testing"

	"p2pa/game"
)

// TestBotPlays: in a 2-player classic game stepped directly, the bot (player 1, the
// collector) starts the coins, turns collection on and collects, while player 0 keeps still.
func TestBotPlays(t *testing.T) {
	for seed := range uint64(12) {
		st, err := game.New(game.Config{Mode: game.Classic, Players: 2, Seed: seed * 977})
		if err != nil {
			t.Fatal(err)
		}
		b := NewBot(seed)
		moving, collecting, scored := -1, -1, -1
		rounds := int32(1)
		const frames = 20000
		for f := range frames {
			in := b.Next()
			if _, err := in.AppendBinary(nil); err != nil {
				t.Fatalf("seed %d frame %d: the bot made an invalid input %+v: %v", seed, f, in, err)
			}
			if in.X < 0 || in.X >= game.Width || in.Y < 0 || in.Y >= game.Height {
				t.Fatalf("seed %d frame %d: the bot left the field: %+v", seed, f, in)
			}
			st.Step([]game.Input{{}, in})
			if moving < 0 && st.Phase() == game.Moving {
				moving = f
			}
			if collecting < 0 && st.Collecting() {
				collecting = f
			}
			if scored < 0 && st.TotalScore() > 0 {
				scored = f
			}
			rounds = max(rounds, st.Round())
		}
		t.Logf("seed %d: moving at frame %d, collecting at %d, first coin at %d, %d rounds", seed, moving, collecting, scored, rounds)
		switch {
		case moving < 0 || moving > 120:
			t.Errorf("seed %d: the coins started at frame %d, want within 120", seed, moving)
		case collecting < 0 || collecting > 300:
			t.Errorf("seed %d: collection turned on at frame %d, want within 300", seed, collecting)
		case scored < 0 || scored > 900:
			t.Errorf("seed %d: first coin at frame %d, want within 900", seed, scored)
		case rounds < 2:
			t.Errorf("seed %d: never started a second round in %d frames", seed, frames)
		}
		if x, y, ok := st.Collector(0); ok {
			t.Errorf("player 0 has a collector at %d,%d in classic", x, y)
		}
	}
}

// TestBotIsItsSeed: a bot is its seed: the same seed plays the same inputs, another seed
// others, and button presses are short clicks (a held button would click only once).
func TestBotIsItsSeed(t *testing.T) {
	play := func(seed uint64) []game.Input {
		b := NewBot(seed)
		var ins []game.Input
		for range 3000 {
			ins = append(ins, b.Next())
		}
		return ins
	}
	a, again, other := play(5), play(5), play(6)
	if !slices.Equal(a, again) {
		t.Error("two bots of one seed played differently")
	}
	if slices.Equal(a, other) {
		t.Error("bots of seeds 5 and 6 played the same")
	}
	var clicks [4]int
	held := 0
	for i, in := range a {
		if in.Buttons&^(game.ButtonLeft|game.ButtonRight) != 0 || in.Buttons == game.ButtonLeft|game.ButtonRight {
			t.Fatalf("frame %d: buttons %b", i, in.Buttons)
		}
		if in.Buttons != 0 {
			held++
			if held > 2 {
				t.Fatalf("frame %d: button held for %d frames", i, held)
			}
			if i == 0 || a[i-1].Buttons != in.Buttons {
				clicks[in.Buttons]++
			}
		} else {
			held = 0
		}
	}
	// Within 3000 frames (50 s) the bot clicks left and right a few times each.
	if clicks[game.ButtonLeft] < 3 || clicks[game.ButtonRight] < 3 {
		t.Errorf("clicks: %d left, %d right", clicks[game.ButtonLeft], clicks[game.ButtonRight])
	}
	moved := 0
	for i := 1; i < len(a); i++ {
		if a[i].X != a[i-1].X || a[i].Y != a[i-1].Y {
			moved++
		}
	}
	if moved < len(a)/2 {
		t.Errorf("the mouse moved in only %d of %d frames", moved, len(a))
	}
}
