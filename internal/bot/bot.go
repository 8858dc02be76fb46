// Package bot is a scripted player for the coin game: a seeded mouse that plays through
// inputs only. It links no network, signal or profiling code, so simulations and benchmarks
// can use it without the front end's dependencies.
package bot

import (
	"math/rand/v2"

	"p2pa/game"
)

// Bot plays one player's mouse: it glides between random points on the field, clicks left
// to start the coins (and each new round), and clicks right once they move so collection
// turns on. Its choices come from its own seeded generator, never from the game, so it
// drives a player exactly like a person would: through inputs only.
type Bot struct {
	rng          *rand.Rand
	x, y         int
	tx, ty       int
	speed        int
	frame        int
	pressLeftAt  int
	pressRightAt int
	held         game.Buttons
	holdUntil    int
}

// NewBot makes a bot with its own random stream.
func NewBot(seed uint64) *Bot {
	b := &Bot{rng: rand.New(rand.NewPCG(seed, 0xb07))}
	b.x, b.y = 50, 50
	b.pickTarget()
	b.pressLeftAt = 20 + b.rng.IntN(40)
	b.pressRightAt = b.pressLeftAt + 20 + b.rng.IntN(40)
	return b
}

func (b *Bot) pickTarget() {
	b.tx, b.ty = b.rng.IntN(game.Width), b.rng.IntN(game.Height)
	b.speed = 4 + b.rng.IntN(9)
}

// Next returns the input for the next frame.
func (b *Bot) Next() game.Input {
	b.frame++
	dx, dy := b.tx-b.x, b.ty-b.y
	if abs(dx) <= b.speed && abs(dy) <= b.speed {
		b.x, b.y = b.tx, b.ty
		b.pickTarget()
	} else {
		b.x += clamp(dx, -b.speed, b.speed)
		b.y += clamp(dy, -b.speed, b.speed)
	}
	switch b.frame {
	case b.pressLeftAt:
		b.held, b.holdUntil = game.ButtonLeft, b.frame+2
		// Click left again every so often: it starts the next round once one is over.
		b.pressLeftAt = b.frame + 300 + b.rng.IntN(300)
	case b.pressRightAt:
		b.held, b.holdUntil = game.ButtonRight, b.frame+2
		b.pressRightAt = b.frame + 300 + b.rng.IntN(300)
	}
	if b.frame >= b.holdUntil {
		b.held = 0
	}
	return game.Input{X: int16(b.x), Y: int16(b.y), Buttons: b.held}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }
