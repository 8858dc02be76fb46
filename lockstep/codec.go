// FixedCodec: the byte form of a fixed-size input struct, so a game need not write it by hand.

package lockstep

import (
	"encoding/binary"
	"fmt"
)

// FixedCodec converts a game's input value of type T to the bytes a Session carries and
// back, with encoding/binary in little-endian order. T must have a fixed size: a bool, a
// fixed-size integer, or an array or struct of those (no int, no slices, no strings, no
// floats in a deterministic game). The bytes are the boundary on purpose (see the package
// doc, "Why bytes"); this only saves writing the conversion.
//
// Decode accepts any bytes of the right length, as Game.AdvanceFrame must: a peer may send
// any value, so every bit pattern decodes to some T. Both directions go through reflection
// and may allocate; a game that wants a zero-allocation frame writes its own byte form.
type FixedCodec[T any] struct{ size int }

// NewFixedCodec checks that T has a fixed size within 1..MaxInputSize bytes. Use Size for
// Config.InputSize.
func NewFixedCodec[T any]() (FixedCodec[T], error) {
	var zero T
	n := binary.Size(zero)
	if n <= 0 || n > MaxInputSize {
		return FixedCodec[T]{}, fmt.Errorf("fixed codec: %T has no fixed size within 1..%d bytes (size %d)", zero, MaxInputSize, n)
	}
	return FixedCodec[T]{size: n}, nil
}

// Size is the byte length of one encoded value: the Config.InputSize to use.
func (c FixedCodec[T]) Size() int { return c.size }

// Append appends v's byte form to dst.
func (c FixedCodec[T]) Append(dst []byte, v T) []byte {
	out, err := binary.Append(dst, binary.LittleEndian, v)
	if err != nil { // NewFixedCodec proved T encodable
		panic("lockstep: FixedCodec.Append: " + err.Error())
	}
	return out
}

// Decode reads a value from b, which must hold exactly Size bytes.
func (c FixedCodec[T]) Decode(b []byte) (T, error) {
	var v T
	if len(b) != c.size {
		return v, fmt.Errorf("fixed codec: %d bytes, want %d", len(b), c.size)
	}
	if _, err := binary.Decode(b, binary.LittleEndian, &v); err != nil {
		return v, fmt.Errorf("fixed codec: %w", err)
	}
	return v, nil
}

// Player returns player p's value from a frame's inputs (player i at [i*Size:(i+1)*Size]),
// the slice Game.AdvanceFrame receives.
func (c FixedCodec[T]) Player(inputs []byte, p int) (T, error) {
	if p < 0 || (p+1)*c.size > len(inputs) {
		var zero T
		return zero, fmt.Errorf("fixed codec: no player %d in %d bytes of inputs", p, len(inputs))
	}
	return c.Decode(inputs[p*c.size : (p+1)*c.size])
}
