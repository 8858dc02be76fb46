// Package codec is about the bytes at a game's boundary with lockstep: Fixed turns a game's
// input value into the bytes a lockstep.Session carries and back, so a game need not write
// that conversion by hand, and StateChecksum is the checksum the engine takes of the bytes
// a game's SaveState writes, for a game's own result lines and tests. It is a convenience
// beside the engine, not part of it: the engine deals in bytes on purpose (see lockstep's
// package doc, "Why bytes"), and a game that writes its own byte form needs nothing from
// here. Like lockstep it is pure: no sockets, goroutines, clocks or globals.
package codec

import (
	"encoding/binary"
	"fmt"

	"p2pa/internal/xxh64"
	"p2pa/lockstep"
)

// StateChecksum is the checksum the engine takes of a saved state (what peers compare to
// find a desync, and what Session.Checksum returns): XXH64(state, seed 0), from
// internal/xxh64, the one implementation the engine and the coin game's checksum share,
// pinned there so that peers built at different times agree and a checksum in a recording
// stays meaningful.
func StateChecksum(state []byte) uint64 { return xxh64.Sum64(state) }

// Fixed converts a game's input value of type T to the bytes a lockstep.Session carries and
// back, with encoding/binary in little-endian order. T must have a fixed size: a bool, a
// fixed-size integer, or an array or struct of those (no int, no slices, no strings, no
// floats in a deterministic game). The bytes are the boundary on purpose (see the package
// doc, "Why bytes"); this only saves writing the conversion.
//
// Decode accepts any bytes of the right length, as lockstep.Game.AdvanceFrame must: a peer may send
// any value, so every bit pattern decodes to some T. Both directions go through reflection
// and may allocate; a game that wants a zero-allocation frame writes its own byte form.
type Fixed[T any] struct{ size int }

// NewFixed checks that T has a fixed size within 1..lockstep.MaxInputSize bytes. Use Size for
// lockstep.Config.InputSize.
func NewFixed[T any]() (Fixed[T], error) {
	var zero T
	n := binary.Size(zero)
	if n <= 0 || n > lockstep.MaxInputSize {
		return Fixed[T]{}, fmt.Errorf("fixed codec: %T has no fixed size within 1..%d bytes (size %d)", zero, lockstep.MaxInputSize, n)
	}
	return Fixed[T]{size: n}, nil
}

// Size is the byte length of one encoded value: the lockstep.Config.InputSize to use.
func (c Fixed[T]) Size() int { return c.size }

// Append appends v's byte form to dst.
func (c Fixed[T]) Append(dst []byte, v T) []byte {
	out, err := binary.Append(dst, binary.LittleEndian, v)
	if err != nil { // NewFixed proved T encodable
		panic("codec: Fixed.Append: " + err.Error())
	}
	return out
}

// Decode reads a value from b, which must hold exactly Size bytes.
func (c Fixed[T]) Decode(b []byte) (T, error) {
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
// the slice lockstep.Game.AdvanceFrame receives.
func (c Fixed[T]) Player(inputs []byte, p int) (T, error) {
	if p < 0 || (p+1)*c.size > len(inputs) {
		var zero T
		return zero, fmt.Errorf("fixed codec: no player %d in %d bytes of inputs", p, len(inputs))
	}
	return c.Decode(inputs[p*c.size : (p+1)*c.size])
}
