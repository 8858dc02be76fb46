package pong

import "p2pa/lockstep"

// Bot is a scripted player: it moves its paddle up and down in stretches that depend on the
// frame and the player, so a test or a headless match replays exactly.
func Bot(player int, f lockstep.Frame, dst []byte) []byte {
	switch (int(f)/(20+7*player) + player) % 3 {
	case 0:
		return append(dst, Up)
	case 1:
		return append(dst, Down)
	}
	return append(dst, 0)
}
