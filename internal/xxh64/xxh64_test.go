package xxh64

import (
	"bytes"
	"testing"
)

// TestVectors pins Sum64 and the streaming Digest to XXH64 (seed 0): published values for
// short strings, and values from xxhsum -H1 over bytes (i*7+1) mod 256 for lengths around
// the 32-byte block and the 8- and 4-byte tails, hashed at once and in pieces of several
// sizes.
func TestVectors(t *testing.T) {
	pattern := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want uint64
	}{
		{"empty", nil, 0xef46db3751d8e999},
		{"a", []byte("a"), 0xd24ec4f1a98c6e5b},
		{"abc", []byte("abc"), 0x44bc2cf5ad770999},
		{"pattern 1", pattern(1), 0x8a4127811b21e730},
		{"pattern 3", pattern(3), 0xb6e6c910c2fd373a},
		{"pattern 4", pattern(4), 0x22eda2cf6af4c124},
		{"pattern 8", pattern(8), 0xc6f1803a5e0b3222},
		{"pattern 31", pattern(31), 0x6ab1c40e29f50073},
		{"pattern 32", pattern(32), 0x5a0756fbe9ecd3d1},
		{"pattern 33", pattern(33), 0xdc50cdc37bb9c183},
		{"pattern 64", pattern(64), 0x90083da9cdb9d795},
		{"pattern 100", pattern(100), 0xd248bfc5208b0b16},
		{"pattern 1000", pattern(1000), 0x6be03acbf959c413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sum64(tt.in); got != tt.want {
				t.Errorf("Sum64 = %#x, want %#x", got, tt.want)
			}
			for _, chunk := range []int{1, 5, 17, 32, 40} {
				d := New()
				for i := 0; i < len(tt.in); i += chunk {
					d.Write(tt.in[i:min(i+chunk, len(tt.in))])
				}
				if got := d.Sum64(); got != tt.want {
					t.Errorf("written in %d-byte pieces: %#x, want %#x", chunk, got, tt.want)
				}
			}
		})
	}
}

// TestSensitive: every length 0..100 hashes differently from its neighbour, and a one-bit
// change anywhere changes the sum.
func TestSensitive(t *testing.T) {
	buf := bytes.Repeat([]byte{0x5a}, 100)
	for n := 0; n <= len(buf); n++ {
		a := Sum64(buf[:n])
		if n > 0 && a == Sum64(buf[:n-1]) {
			t.Errorf("lengths %d and %d hash alike", n, n-1)
		}
		for i := range n {
			buf[i] ^= 1
			if Sum64(buf[:n]) == a {
				t.Errorf("length %d: flipping byte %d does not change the sum", n, i)
			}
			buf[i] ^= 1
		}
	}
}
