// Package diverge is a coin game that is deliberately not deterministic on one peer: the
// simulation tests and the p2pa binary built with the p2pa_diverge tag use it to make a
// desync happen where they want it.
package diverge

import (
	"encoding/binary"
	"fmt"
	"slices"

	"p2pa/game"
)

// Offsets in game's byte form (layout in game/codec.go): a 41-byte header, 9 bytes per
// player, then 20 bytes per coin starting with the coin's X as an int32 LE.
const (
	headerSize = 41
	playerSize = 9
	maxX       = (game.Width - 1) * game.Scale
)

// Game is the coin game plus a nudge: every time a frame step ends at frame At (the first
// time, and again on every re-simulation after a rollback), it moves coin Coin by 1/256
// pixel; with Every > 0, also at every Every-th frame after At, and at the frames of More. game.State's fields are
// unexported, so the nudge goes through the byte form: SaveState, flip the low bit of
// coin 0's X, LoadState. The coin moves on from there, so the states stay apart for good,
// as with a real bug, until a resync hands over the right state.
type Game struct {
	*game.State
	At, Every int32
	More      []int32 // more frames it diverges at, once each
	Coin      int     // the coin nudged (coin 0 by default); two games that nudge others differ
	buf       []byte
}

// AdvanceFrame runs one frame, then nudges it if it is one of the nudged frames.
func (g *Game) AdvanceFrame(inputs []byte) {
	g.State.AdvanceFrame(inputs)
	if !g.nudges(g.State.Frame()) {
		return
	}
	g.buf = g.State.SaveState(g.buf[:0])
	Nudge(g.buf, g.State.Players(), g.Coin)
	if err := g.State.LoadState(g.buf); err != nil {
		panic(fmt.Sprintf("nudged state does not load: %v", err)) // a bug here, not outside input
	}
}

// nudges reports whether the state of frame f is nudged.
func (g *Game) nudges(f int32) bool {
	return f == g.At || (g.Every > 0 && f > g.At && (f-g.At)%g.Every == 0) || slices.Contains(g.More, f)
}

// CoinOffset is where coin 0 starts in a saved coin-game state of players players.
func CoinOffset(players int) int { return headerSize + players*playerSize }

// coinSize is the bytes of one coin in a saved state (its fields, then zero padding).
const coinSize = 20

// Nudge moves coin coin of a saved coin-game state of players players by 1/256 pixel, in
// place, keeping it on the field.
func Nudge(state []byte, players, coin int) {
	off := CoinOffset(players) + coin*coinSize
	x := binary.LittleEndian.Uint32(state[off:])
	if x == maxX { // x^1 would leave the field (maxX is even)
		x--
	} else {
		x ^= 1
	}
	binary.LittleEndian.PutUint32(state[off:], x)
}
