package codec_test

import (
	"encoding/binary"
	"fmt"

	"p2pa/lockstep"
	"p2pa/lockstep/codec"
	"p2pa/lockstep/synctest"
)

// move is a game's input as a Go value; codec.Fixed gives its byte form.
type move struct {
	Dy   int8 // -1, 0, +1: paddle up, still, down
	Fire bool
}

// paddles is a game whose state is an ordinary Go value. Its fields all have fixed sizes,
// so encoding/binary saves and loads the whole struct in one call, and the saved bytes are
// the state (nothing lives outside it).
type paddles struct {
	state struct {
		Frame uint32
		Y     [2]int32
		Shots [2]uint16
	}
	codec codec.Fixed[move]
}

func (g *paddles) AdvanceFrame(inputs []byte) {
	g.state.Frame++
	for p := range g.state.Y {
		m, err := g.codec.Player(inputs, p)
		if err != nil {
			continue // cannot happen with the session's inputs; a game must not fail here
		}
		g.state.Y[p] += int32(max(-1, min(1, m.Dy))) * 4
		if m.Fire {
			g.state.Shots[p]++
		}
	}
}

func (g *paddles) SaveState(dst []byte) []byte {
	out, err := binary.Append(dst, binary.LittleEndian, &g.state)
	if err != nil {
		panic(err) // a fixed-size struct always encodes: only a bug in this file gets here
	}
	return out
}

func (g *paddles) LoadState(b []byte) error {
	if _, err := binary.Decode(b, binary.LittleEndian, &g.state); err != nil {
		return fmt.Errorf("paddles: %w", err)
	}
	return nil
}

// A game keeps its state as a Go value and crosses the byte boundary in SaveState and
// LoadState with encoding/binary; its input is a struct too, encoded by a codec.Fixed. The
// sync test proves the save captures everything.
func ExampleFixed() {
	c, err := codec.NewFixed[move]()
	if err != nil {
		panic(err)
	}
	test, err := synctest.New(lockstep.Config{Players: 2, InputSize: c.Size()}, 0)
	if err != nil {
		panic(err)
	}
	g := &paddles{codec: c}
	var in []byte
	for f := range 120 {
		for p := range 2 {
			in = c.Append(in[:0], move{Dy: int8(f/(20+10*p)%3 - 1), Fire: (f+p)%7 == 0})
			if err := test.AddLocalInput(p, in); err != nil {
				panic(err)
			}
		}
		reqs, err := test.AdvanceFrame()
		if err != nil {
			panic(err)
		}
		if err := lockstep.Apply(g, reqs); err != nil {
			panic(err)
		}
	}
	fmt.Println("input size", c.Size(), "verify", test.Verify())
	fmt.Printf("frame %d, paddles at %v, shots %v\n", g.state.Frame, g.state.Y, g.state.Shots)
	// Output:
	// input size 2 verify <nil>
	// frame 120, paddles at [0 -120], shots [18 17]
}
