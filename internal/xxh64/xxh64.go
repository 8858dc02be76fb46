// Package xxh64 is XXH64 with seed 0, written out here so that the checksums p2pa computes
// are pinned by this file and not by a dependency's version: two peers built at different
// times agree, and a checksum in a recording stays meaningful. It reads 8 bytes at a time,
// several times faster than FNV-1a on a large state, and it streams, so the coin game can
// hash its byte form without building it.
//
// It is the one implementation: the engine's checksum (codec.StateChecksum) and the coin game's
// State.Checksum both use it, which is what makes them give the same value for the same
// bytes. It is a leaf (standard library only, no state but its own), so the engine, which
// imports nothing else of ours, may use it.
package xxh64

import (
	"encoding/binary"
	"math/bits"
)

const (
	prime1 uint64 = 0x9E3779B185EBCA87
	prime2 uint64 = 0xC2B2AE3D27D4EB4F
	prime3 uint64 = 0x165667B19E3779F9
	prime4 uint64 = 0x85EBCA77C2B2AE63
	prime5 uint64 = 0x27D4EB2F165667C5
)

func round(acc, in uint64) uint64 {
	acc += in * prime2
	acc = bits.RotateLeft64(acc, 31)
	return acc * prime1
}

func merge(acc, v uint64) uint64 {
	acc ^= round(0, v)
	return acc*prime1 + prime4
}

// Digest is a streaming XXH64 (seed 0). The zero value is not ready; use New. It is a
// value, so a caller keeps it on the stack and hashing allocates nothing.
type Digest struct {
	v1, v2, v3, v4 uint64
	total          uint64
	mem            [32]byte
	n              int // bytes buffered in mem
}

// New returns a digest of no bytes yet.
func New() Digest {
	// Seed 0; the sums wrap, which constant arithmetic would refuse.
	p1, p2 := prime1, prime2
	return Digest{v1: p1 + p2, v2: p2, v3: 0, v4: -p1}
}

// blocks consumes every whole 32-byte block of b and returns the rest.
func (d *Digest) blocks(b []byte) []byte {
	v1, v2, v3, v4 := d.v1, d.v2, d.v3, d.v4
	for len(b) >= 32 {
		v1 = round(v1, binary.LittleEndian.Uint64(b[0:8]))
		v2 = round(v2, binary.LittleEndian.Uint64(b[8:16]))
		v3 = round(v3, binary.LittleEndian.Uint64(b[16:24]))
		v4 = round(v4, binary.LittleEndian.Uint64(b[24:32]))
		b = b[32:]
	}
	d.v1, d.v2, d.v3, d.v4 = v1, v2, v3, v4
	return b
}

// Write adds b to the hashed bytes. Writing in pieces gives the same sum as one write.
func (d *Digest) Write(b []byte) {
	d.total += uint64(len(b))
	if d.n > 0 {
		k := copy(d.mem[d.n:], b)
		d.n += k
		b = b[k:]
		if d.n < 32 {
			return
		}
		d.blocks(d.mem[:])
		d.n = 0
	}
	b = d.blocks(b)
	d.n = copy(d.mem[:], b)
}

// Sum64 is the XXH64 of the bytes written so far; it does not change d.
func (d *Digest) Sum64() uint64 {
	var h uint64
	if d.total >= 32 {
		h = bits.RotateLeft64(d.v1, 1) + bits.RotateLeft64(d.v2, 7) +
			bits.RotateLeft64(d.v3, 12) + bits.RotateLeft64(d.v4, 18)
		h = merge(h, d.v1)
		h = merge(h, d.v2)
		h = merge(h, d.v3)
		h = merge(h, d.v4)
	} else {
		h = d.v3 + prime5 // v3 is still the seed
	}
	h += d.total
	return tail(h, d.mem[:d.n])
}

func tail(h uint64, b []byte) uint64 {
	for len(b) >= 8 {
		h ^= round(0, binary.LittleEndian.Uint64(b))
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

// Sum64 is XXH64(b, seed 0). It hashes b in place, without copying it into a digest's
// buffer first.
func Sum64(b []byte) uint64 {
	d := New()
	d.total = uint64(len(b))
	rest := d.blocks(b)
	d.n = copy(d.mem[:], rest)
	return d.Sum64()
}
