package game_test

import (
	"fmt"

	"p2pa/game"
)

// A peer's frame loop: every peer that starts from the same Config and feeds the same
// inputs reaches the same checksum.
func Example() {
	s, err := game.New(game.Config{Mode: game.Versus, Players: 2, Seed: 42})
	if err != nil {
		panic(err)
	}
	// Frame 0: player 1 clicks left, the coins start to move.
	s.Step([]game.Input{{X: 400, Y: 300}, {X: 100, Y: 100, Buttons: game.ButtonLeft}})
	// Frame 1: player 0 clicks right, collection starts.
	s.Step([]game.Input{{X: 400, Y: 300, Buttons: game.ButtonRight}, {X: 100, Y: 100}})
	for range 58 {
		s.Step([]game.Input{{X: 400, Y: 300}, {X: 100, Y: 100}})
	}
	fmt.Println("frame", s.Frame(), s.Phase(), "collecting", s.Collecting())
	fmt.Println("scores", s.Score(0), s.Score(1), "left", s.CoinsLeft())
	fmt.Printf("checksum %016x\n", s.Checksum())
	// Output:
	// frame 60 moving collecting true
	// scores 1 4 left 45
	// checksum 140de3a966339bad
}
