// Package pong is a small Pong on p2pa's public packages: two paddles, a ball and two
// scores in integer fixed point, so every peer computes the same frames. It shows what a
// game needs to play over the network: the three lockstep.Game methods and a
// netplay.Runner (see cmd/pong and the tests).
package pong

import (
	"encoding/binary"
	"errors"
)

// Input bits of one player's one-byte input.
const (
	Up   byte = 1 << 0
	Down byte = 1 << 1
)

// InputSize is the size of one player's input in bytes.
const InputSize = 1

// The field, in units of 1/256 pixel.
const (
	unit         = 256
	width        = 320 * unit
	height       = 240 * unit
	paddleHalf   = 24 * unit
	paddleSpeed  = 3 * unit
	paddleInset  = 8 * unit
	ballSpeed    = 2 * unit
	maxBallSpeed = 6 * unit
)

// State is the whole game: everything AdvanceFrame reads.
type State struct {
	Frame          int32
	Paddle         [2]int32 // centre y of each player's paddle
	BallX, BallY   int32
	BallVX, BallVY int32
	Score          [2]int32
	Serve          uint32 // a small generator, so serves vary but replay exactly
}

// New starts a game; the seed picks the first serve.
func New(seed uint64) *State {
	g := &State{Paddle: [2]int32{height / 2, height / 2}, Serve: uint32(seed) | 1}
	g.serve(1)
	return g
}

func (g *State) serve(dir int32) {
	g.Serve ^= g.Serve << 13
	g.Serve ^= g.Serve >> 17
	g.Serve ^= g.Serve << 5
	g.BallX, g.BallY = width/2, height/2
	g.BallVX = dir * ballSpeed
	g.BallVY = int32(g.Serve%5)*unit/2 - unit
}

// AdvanceFrame runs one frame: player i's input byte is inputs[i].
func (g *State) AdvanceFrame(inputs []byte) {
	g.Frame++
	for p := range g.Paddle {
		if inputs[p]&Up != 0 {
			g.Paddle[p] -= paddleSpeed
		}
		if inputs[p]&Down != 0 {
			g.Paddle[p] += paddleSpeed
		}
		g.Paddle[p] = min(max(g.Paddle[p], paddleHalf), height-paddleHalf)
	}
	g.BallX += g.BallVX
	g.BallY += g.BallVY
	if g.BallY < 0 || g.BallY > height {
		g.BallVY = -g.BallVY
		g.BallY = min(max(g.BallY, 0), height)
	}
	for p, x := range [2]int32{paddleInset, width - paddleInset} {
		toward := (p == 0 && g.BallVX < 0) || (p == 1 && g.BallVX > 0)
		d := g.BallY - g.Paddle[p]
		if toward && abs(g.BallX-x) <= abs(g.BallVX) && abs(d) <= paddleHalf {
			g.BallVX = min(abs(g.BallVX)+unit/8, maxBallSpeed) * sign(-g.BallVX)
			g.BallVY += d / 8
		}
	}
	switch {
	case g.BallX < 0:
		g.Score[1]++
		g.serve(-1)
	case g.BallX > width:
		g.Score[0]++
		g.serve(1)
	}
}

func abs(v int32) int32 { return max(v, -v) }

func sign(v int32) int32 {
	if v < 0 {
		return -1
	}
	return 1
}

// stateSize is the length of a saved state.
const stateSize = 4 * 10

// SaveState appends the state to dst; the engine checksums the bytes when it needs to.
func (g *State) SaveState(dst []byte) []byte {
	out, err := binary.Append(dst, binary.LittleEndian, g)
	if err != nil {
		panic(err) // State is a fixed-size struct: only a bug in this file gets here
	}
	return out
}

// LoadState replaces the state with a saved one.
func (g *State) LoadState(b []byte) error {
	if len(b) != stateSize {
		return errors.New("pong: saved state has the wrong length")
	}
	_, err := binary.Decode(b, binary.LittleEndian, g)
	return err
}
