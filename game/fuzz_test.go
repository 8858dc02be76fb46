package game

import (
	"bytes"
	"testing"

	"p2pa/internal/xxh64"
)

func FuzzLoadState(f *testing.F) {
	for _, s := range samples(f) {
		f.Add(mustSave(s))
	}
	f.Add([]byte("P2PA\x01"))
	f.Add([]byte{})
	valid := play(f, Config{Mode: Versus, Players: 2, Coins: 5, Seed: 6}, 40)
	f.Fuzz(func(t *testing.T, b []byte) {
		target := mustDecode(t, mustSave(valid))
		before := mustSave(target)
		if err := target.LoadState(b); err != nil {
			if after := mustSave(target); !bytes.Equal(before, after) {
				t.Fatalf("failed LoadState (%v) changed the state", err)
			}
			return
		}
		out := target.SaveState(nil)
		if !bytes.Equal(out, b) {
			t.Fatalf("loaded form saves differently:\n in %x\nout %x", b, out)
		}
		if xxh64.Sum64(out) != target.Checksum() {
			t.Fatal("SaveState and Checksum disagree")
		}
		for f := 0; f < 10; f++ {
			target.Step(script(f, target.Players()))
		}
		if _, err := Decode(mustSave(target)); err != nil {
			t.Fatalf("stepping a loaded state made an invalid one: %v", err)
		}
	})
}

func FuzzParseInput(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Add([]byte{0x1f, 0x03, 0x57, 0x02, 3})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ParseInput(b)
		if err == nil {
			out, err := in.AppendBinary(nil)
			if err != nil || !bytes.Equal(out, b) {
				t.Fatalf("ParseInput(%x) = %+v re-encodes as %x, %v", b, in, out, err)
			}
		}
		// The simulation takes any bytes.
		s, _ := New(Config{Mode: Versus, Players: 4, Coins: 3})
		s.AdvanceFrame(b)
		s.AdvanceFrame(b)
		for p := 0; p < MaxPlayers; p++ {
			if x, y, _ := s.Collector(p); x < 0 || x >= Width || y < 0 || y >= Height {
				t.Fatalf("collector %d at (%d, %d) after input %x", p, x, y, b)
			}
		}
		if _, err := Decode(mustSave(s)); err != nil {
			t.Fatalf("state after input %x does not reload: %v", b, err)
		}
	})
}

// FuzzEncodedSize: whatever a file's first bytes are, EncodedSize never panics, and a size
// it returns is one LoadState could accept: a header's worth at least, at most the largest
// state; for a state that loads, it is the state's own length.
func FuzzEncodedSize(f *testing.F) {
	st, err := New(Config{Seed: 3, Players: 3, Mode: Versus})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(st.SaveState(nil))
	f.Add([]byte("P2PA"))
	f.Add([]byte("P2PAREPLAY"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := EncodedSize(b[:min(len(b), HeaderSize)])
		if err != nil {
			return
		}
		if n < HeaderSize || n > stateSize(MaxPlayers, MaxCoins) {
			t.Fatalf("size %d out of range", n)
		}
		var s State
		if s.LoadState(b) == nil && n != len(b) {
			t.Fatalf("a %d-byte state loads, but its header says %d", len(b), n)
		}
	})
}
