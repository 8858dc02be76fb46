package lockstep

import (
	"encoding/binary"
	"errors"
)

// toyGame is the smallest deterministic game: a running sum of every input byte, mixed with
// the frame number. It is enough to make any wrong prediction visible in the checksum.
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

func (g *toyGame) checksum() uint64 {
	return stateChecksum(g.SaveState(nil))
}
