package codec

import (
	"bytes"
	"testing"

	"p2pa/lockstep"
)

type codecInput struct {
	X, Y    int16
	Buttons uint8
	Held    bool
}

func TestFixed(t *testing.T) {
	c, err := NewFixed[codecInput]()
	if err != nil || c.Size() != 6 {
		t.Fatalf("size %d, %v; want 6", c.Size(), err)
	}
	in := codecInput{X: -300, Y: 7, Buttons: 5, Held: true}
	b := c.Append(nil, in)
	if got, err := c.Decode(b); err != nil || got != in {
		t.Errorf("round trip %+v -> % x -> %+v, %v", in, b, got, err)
	}
	if _, err := c.Decode(b[:5]); err == nil {
		t.Errorf("5 bytes decoded")
	}
	two := c.Append(c.Append(nil, codecInput{X: 1}), in)
	if got, err := c.Player(two, 1); err != nil || got != in {
		t.Errorf("player 1: %+v, %v", got, err)
	}
	if _, err := c.Player(two, 2); err == nil {
		t.Errorf("player 2 of 2 decoded")
	}
	for name, err := range map[string]error{
		"int":    func() error { _, err := NewFixed[int](); return err }(),
		"slice":  func() error { _, err := NewFixed[[]byte](); return err }(),
		"string": func() error { _, err := NewFixed[struct{ S string }](); return err }(),
		"large":  func() error { _, err := NewFixed[[lockstep.MaxInputSize + 1]byte](); return err }(),
	} {
		if err == nil {
			t.Errorf("a %s input was accepted", name)
		}
	}
}

// FuzzFixed: any bytes of the right length decode, and encode back to themselves (a
// bool is the exception: any non-zero byte reads as true).
func FuzzFixed(f *testing.F) {
	c, err := NewFixed[codecInput]()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{1, 2, 3, 4, 5, 1})
	f.Add([]byte{0xff, 0xff, 0, 0x80, 9, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := c.Decode(b)
		if len(b) != c.Size() {
			if err == nil {
				t.Fatalf("%d bytes decoded", len(b))
			}
			return
		}
		if err != nil {
			t.Fatalf("% x: %v", b, err)
		}
		again := c.Append(nil, v)
		if !bytes.Equal(again[:5], b[:5]) || again[5] != b2u(b[5] != 0) {
			t.Fatalf("% x -> %+v -> % x", b, v, again)
		}
	})
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// TestStateChecksumVectors pins StateChecksum to XXH64 (seed 0) with the vectors lockstep's
// test pins the engine's own checksum to, so the two agree.
func TestStateChecksumVectors(t *testing.T) {
	for in, want := range map[string]uint64{"": 0xef46db3751d8e999, "a": 0xd24ec4f1a98c6e5b, "abc": 0x44bc2cf5ad770999} {
		if got := StateChecksum([]byte(in)); got != want {
			t.Errorf("StateChecksum(%q) = %016x, want %016x", in, got, want)
		}
	}
}
