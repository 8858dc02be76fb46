package lockstep

import (
	"encoding/binary"
	"math/bits"
)

// The engine's checksum is XXH64 with seed 0, written out here (the same code as package game's
// checksum) so the value is pinned by this file and not by a dependency's version: two peers
// built at different times agree, and a checksum in a recording stays meaningful. It reads
// 8 bytes at a time.

const (
	prime1 uint64 = 0x9E3779B185EBCA87
	prime2 uint64 = 0xC2B2AE3D27D4EB4F
	prime3 uint64 = 0x165667B19E3779F9
	prime4 uint64 = 0x85EBCA77C2B2AE63
	prime5 uint64 = 0x27D4EB2F165667C5
)

func xxRound(acc, in uint64) uint64 {
	acc += in * prime2
	acc = bits.RotateLeft64(acc, 31)
	return acc * prime1
}

func xxMerge(acc, v uint64) uint64 {
	acc ^= xxRound(0, v)
	return acc*prime1 + prime4
}

// digest is XXH64's running state. The zero value is not ready; use newDigest.
type digest struct {
	v1, v2, v3, v4 uint64
	total          uint64
	mem            [32]byte
	n              int // bytes in mem
}

func newDigest() digest {
	// Seed 0; the sums wrap, which constant arithmetic would refuse.
	p1, p2 := prime1, prime2
	return digest{v1: p1 + p2, v2: p2, v3: 0, v4: -p1}
}

func (d *digest) blocks(b []byte) []byte {
	v1, v2, v3, v4 := d.v1, d.v2, d.v3, d.v4
	for len(b) >= 32 {
		v1 = xxRound(v1, binary.LittleEndian.Uint64(b[0:8]))
		v2 = xxRound(v2, binary.LittleEndian.Uint64(b[8:16]))
		v3 = xxRound(v3, binary.LittleEndian.Uint64(b[16:24]))
		v4 = xxRound(v4, binary.LittleEndian.Uint64(b[24:32]))
		b = b[32:]
	}
	d.v1, d.v2, d.v3, d.v4 = v1, v2, v3, v4
	return b
}

func (d *digest) sum64() uint64 {
	var h uint64
	if d.total >= 32 {
		h = bits.RotateLeft64(d.v1, 1) + bits.RotateLeft64(d.v2, 7) +
			bits.RotateLeft64(d.v3, 12) + bits.RotateLeft64(d.v4, 18)
		h = xxMerge(h, d.v1)
		h = xxMerge(h, d.v2)
		h = xxMerge(h, d.v3)
		h = xxMerge(h, d.v4)
	} else {
		h = d.v3 + prime5 // v3 is still the seed
	}
	h += d.total
	return xxTail(h, d.mem[:d.n])
}

func xxTail(h uint64, b []byte) uint64 {
	for len(b) >= 8 {
		h ^= xxRound(0, binary.LittleEndian.Uint64(b))
		h = bits.RotateLeft64(h, 27)*prime1 + prime4
		b = b[8:]
	}
	if len(b) >= 4 {
		h ^= uint64(binary.LittleEndian.Uint32(b)) * prime1
		h = bits.RotateLeft64(h, 23)*prime2 + prime3
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c) * prime5
		h = bits.RotateLeft64(h, 11) * prime1
	}
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}

// StateChecksum is the checksum the engine uses for a saved state: XXH64(state, seed 0).
// The sessions compute it only when something needs it (a checksum frame, Checksum, a
// SyncTest mismatch report), not on every save.
func StateChecksum(state []byte) uint64 {
	b := state
	d := newDigest()
	d.total = uint64(len(b))
	rest := d.blocks(b)
	d.n = copy(d.mem[:], rest)
	return d.sum64()
}
