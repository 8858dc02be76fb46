package game_test

import (
	"fmt"
	"testing"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/lockstep/codec"
)

// TestChecksumIsEngineChecksum: State.Checksum, which result lines, recordings and -diff
// print, is the checksum the engine computes over the saved bytes (codec.StateChecksum),
// for small and large states, in both modes, before and after collection starts.
func TestChecksumIsEngineChecksum(t *testing.T) {
	var _ lockstep.Game = (*game.State)(nil)
	for _, cfg := range []game.Config{
		{Seed: 1},
		{Seed: 2, Coins: 1},
		{Seed: 3, Mode: game.Versus, Players: 4, Coins: 1000},
		{Seed: 4, Coins: game.MaxCoins},
	} {
		t.Run(fmt.Sprintf("%v/players=%d/coins=%d", cfg.Mode, cfg.Players, cfg.Coins), func(t *testing.T) {
			s, err := game.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := make([]byte, game.InputSize*s.Players())
			var buf []byte
			for f := range 300 {
				if f%37 == 0 {
					buf = s.SaveState(buf[:0])
					if got, want := s.Checksum(), codec.StateChecksum(buf); got != want {
						t.Fatalf("frame %d: State.Checksum %016x, engine checksum of the saved bytes %016x", f, got, want)
					}
				}
				// Player 0 clicks at frame 10 (collection starts) and sweeps the field.
				for p := 0; p*game.InputSize < len(in); p++ {
					x, y := uint16(f*7+p*100)%game.Width, uint16(f*3+p*50)%game.Height
					b := byte(0)
					if f == 10 && p == 0 {
						b = byte(game.ButtonLeft)
					}
					enc, err := game.Input{X: int16(x), Y: int16(y), Buttons: game.Buttons(b)}.AppendBinary(nil)
					if err != nil {
						t.Fatal(err)
					}
					copy(in[p*game.InputSize:], enc)
				}
				s.AdvanceFrame(in)
			}
		})
	}
}
