package synctest

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// toyGame is the smallest deterministic game: a running sum of every input byte, mixed with
// the frame number (lockstep's tests have the same one).
type toyGame struct {
	frame int64
	sum   uint64
}

func (g *toyGame) AdvanceFrame(inputs []byte) {
	g.frame++
	for _, b := range inputs {
		g.sum = g.sum*31 + uint64(b) + 1
	}
}

func (g *toyGame) SaveState(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(g.frame))
	return binary.LittleEndian.AppendUint64(dst, g.sum)
}

func (g *toyGame) LoadState(b []byte) error {
	if len(b) != 16 {
		return errors.New("toy state: wrong length")
	}
	g.frame = int64(binary.LittleEndian.Uint64(b))
	g.sum = binary.LittleEndian.Uint64(b[8:])
	return nil
}

// leakyGame keeps a counter outside its saved state, the classic rollback bug: after a load
// the counter still holds the future, so re-simulated frames differ from the first run.
type leakyGame struct {
	toyGame
	hidden uint64
}

func (g *leakyGame) AdvanceFrame(inputs []byte) {
	g.hidden++
	g.toyGame.AdvanceFrame(inputs)
	g.sum += g.hidden
}

func diffToy(a, b []byte) string {
	var x, y toyGame
	if x.LoadState(a) != nil || y.LoadState(b) != nil {
		return "undecodable"
	}
	return fmt.Sprintf("frame %d vs %d, sum %d vs %d", x.frame, y.frame, x.sum, y.sum)
}
