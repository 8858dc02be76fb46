package game

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"p2pa/internal/xxh64"
)

func mustSave(s *State) []byte {
	return s.SaveState(nil)
}

func mustDecode(t testing.TB, b []byte) *State {
	t.Helper()
	s, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return s
}

// script is a fixed input pattern: every player sweeps the field row by row (each at
// its own offset), player 0 presses left every 400 frames and player p presses right
// 30 frames later, so scripted games start, collect, end and restart rounds.
func script(frame, players int) []Input {
	in := make([]Input, players)
	for p := range in {
		f := frame + p*97
		row := (f / 40) % 13
		col := f % 40
		if row%2 == 1 {
			col = 39 - col
		}
		in[p] = Input{X: int16(col*20 + 10), Y: int16(row*48 + 24)}
		switch {
		case p == 0 && frame%400 == 1:
			in[p].Buttons = ButtonLeft
		case frame%400 == 31+p:
			in[p].Buttons = ButtonRight
		}
	}
	return in
}

func play(t testing.TB, cfg Config, frames int) *State {
	t.Helper()
	s := mustNew(t, cfg)
	n := s.Players()
	for f := 0; f < frames; f++ {
		s.Step(script(f, n))
	}
	return s
}

// samples are states in every phase and mode, for round trips and fuzz seeds.
func samples(t testing.TB) map[string]*State {
	t.Helper()
	out := map[string]*State{
		"fresh classic":   mustNew(t, Config{Seed: 1}),
		"fresh versus 4":  mustNew(t, Config{Mode: Versus, Players: 4, Seed: 2}),
		"one coin alone":  mustNew(t, Config{Coins: 1, Players: 1}),
		"classic 200":     play(t, Config{Seed: 3}, 200),
		"versus 3 at 700": play(t, Config{Mode: Versus, Players: 3, Coins: 20, Seed: 4}, 700),
	}
	over := mustNew(t, Config{Mode: Versus, Coins: 2})
	withCoins(over, coinAt(750, 550, 1, 0), coinAt(50, 50, 0, -1))
	moving(over, true)
	over.Step([]Input{{X: 750, Y: 550}, {X: 50, Y: 50}})
	if over.Phase() != Over {
		t.Fatalf("setup: phase %v, want over", over.Phase())
	}
	out["over"] = over
	return out
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for name, s := range samples(t) {
		t.Run(name, func(t *testing.T) {
			b := s.SaveState([]byte("prefix"))
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatal("SaveState overwrote dst's contents")
			}
			b = b[len("prefix"):]
			sum := xxh64.Sum64(b)
			if sum != s.Checksum() {
				t.Fatalf("checksums disagree: hash of the saved bytes %x, Checksum %x", sum, s.Checksum())
			}
			// The portable coin encoding writes the same bytes as putCoins (a copy on
			// little-endian machines).
			head := headerSize + s.Players()*playerSize
			for i := range s.coins {
				var r [coinSize]byte
				putCoin(r[:], &s.coins[i])
				if !bytes.Equal(r[:], b[head+i*coinSize:head+(i+1)*coinSize]) {
					t.Fatalf("coin %d: saved % x, encoded field by field % x", i, b[head+i*coinSize:head+(i+1)*coinSize], r)
				}
			}
			var got State
			if err := got.LoadState(b); err != nil {
				t.Fatalf("LoadState: %v", err)
			}
			if diff := cmp.Diff(s, &got, cmpOptions); diff != "" {
				t.Fatalf("loaded state differs (-saved +loaded):\n%s", diff)
			}
			// The portable decoding reads the same coins as getCoins.
			for i := range got.coins {
				var c Coin
				getCoin(&c, b[head+i*coinSize:head+(i+1)*coinSize])
				if c != got.coins[i] {
					t.Fatalf("coin %d: loaded %+v, decoded field by field %+v", i, got.coins[i], c)
				}
			}
			again := got.SaveState(nil)
			if !bytes.Equal(again, b) || got.Checksum() != sum {
				t.Fatal("re-saved bytes differ")
			}
			// Both go on identically.
			for f := 0; f < 100; f++ {
				in := script(f, s.Players())
				s.Step(in)
				got.Step(in)
			}
			if s.Checksum() != got.Checksum() {
				t.Fatalf("diverged after load:\n%s", cmp.Diff(s, &got, cmpOptions))
			}
		})
	}
}

func TestLoadStateReusesCoins(t *testing.T) {
	big := mustNew(t, Config{Coins: 100})
	small := mustSave(mustNew(t, Config{Coins: 10, Seed: 9}))
	before := &big.coins[0]
	if err := big.LoadState(small); err != nil {
		t.Fatal(err)
	}
	if len(big.coins) != 10 || &big.coins[0] != before {
		t.Fatal("LoadState did not reuse the coin slice")
	}
}

// TestRollback checks the use the engine makes of the state: save, run ahead, load,
// re-run with the same inputs, and land on the same checksum.
func TestRollback(t *testing.T) {
	cfg := Config{Mode: Versus, Players: 2, Seed: 11}
	straight := play(t, cfg, 600)

	s := play(t, cfg, 300)
	saved := mustSave(s)
	for f := 300; f < 450; f++ {
		s.Step(script(f+5, 2)) // a wrong prediction
	}
	if err := s.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	for f := 300; f < 600; f++ {
		s.Step(script(f, 2))
	}
	if s.Checksum() != straight.Checksum() {
		t.Fatalf("rolled-back run differs:\n%s", cmp.Diff(straight, s, cmpOptions))
	}
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Mode: Versus, Players: 4, Coins: 60, Seed: 2024}
	run := func() []uint64 {
		s := mustNew(t, cfg)
		sums := []uint64{s.Checksum()}
		for f := 0; f < 3000; f++ {
			s.AdvanceFrame(encodeInputs(t, script(f, 4)))
			sums = append(sums, s.Checksum())
		}
		return sums
	}
	a, b := run(), run()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("two runs in one process differ:\n%s", diff)
	}
	other := cfg
	other.Seed++
	if c := play(t, other, 3000); c.Checksum() == a[len(a)-1] {
		t.Fatal("different seeds gave the same checksum")
	}
	if a[0] == play(t, other, 0).Checksum() {
		t.Fatal("different seeds gave the same initial state")
	}
	final := play(t, cfg, 3000)
	if final.Round() < 2 {
		t.Errorf("the script never finished a round (round %d, %d coins left); the test covers less than it should", final.Round(), final.CoinsLeft())
	}
}

// TestGolden pins checksums so that any change to the rules, the RNG use or the byte
// form is deliberate, and so that the 386 and arm64 runs are compared with amd64's.
func TestGolden(t *testing.T) {
	tests := []struct {
		cfg    Config
		frames int
		want   uint64
	}{
		{Config{Seed: 1}, 0, 0x541e938abef69a97},
		{Config{Seed: 1}, 1000, 0x3371803e12213eba},
		{Config{Mode: Versus, Players: 4, Coins: 60, Seed: 2024}, 3000, 0x0dcb0656b277523c},
		{Config{Mode: Versus, Players: 3, Coins: 10000, Seed: 1 << 63}, 500, 0x700bec3fc8eabc32},
	}
	for _, tt := range tests {
		s := play(t, tt.cfg, tt.frames)
		if got := s.Checksum(); got != tt.want {
			t.Errorf("%+v after %d frames: checksum %#016x, want %#016x (round %d, %d left)", tt.cfg, tt.frames, got, tt.want, s.Round(), s.CoinsLeft())
		}
	}
}

func encodeInputs(t testing.TB, in []Input) []byte {
	var b []byte
	for _, i := range in {
		var err error
		if b, err = i.AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func put16(off int, v uint16) func([]byte) []byte {
	return func(b []byte) []byte { binary.LittleEndian.PutUint16(b[off:], v); return b }
}

func put32(off int, v int64) func([]byte) []byte {
	return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], uint32(v)); return b }
}

func set(off int, v byte) func([]byte) []byte {
	return func(b []byte) []byte { b[off] = v; return b }
}

func TestLoadStateRejects(t *testing.T) {
	// versus: two players, four coins, moving and collecting, player 0 scored coin 0.
	versus := mustNew(t, Config{Mode: Versus, Coins: 4})
	withCoins(versus, coinAt(400, 300, 1, 1), coinAt(10, 10, 0, 1), coinAt(700, 10, 1, 0), coinAt(10, 500, -1, 0))
	moving(versus, true)
	versus.Step([]Input{{X: 400, Y: 300}, {X: 790, Y: 590}})
	if versus.Score(0) != 1 || versus.CoinsLeft() != 3 {
		t.Fatalf("setup: score %d left %d", versus.Score(0), versus.CoinsLeft())
	}
	classic := mustNew(t, Config{Mode: Classic, Coins: 4})
	const (
		p0    = headerSize
		p1    = headerSize + playerSize
		coin0 = headerSize + 2*playerSize
		coin1 = coin0 + coinSize
	)
	tests := []struct {
		name    string
		base    *State
		corrupt func([]byte) []byte
		want    string
	}{
		{"magic", versus, set(0, 'X'), "magic"},
		{"version 1", versus, set(4, 1), "version"},
		{"version 3", versus, set(4, 3), "version"},
		{"live coin padding", versus, set(coin0+17, 1), "padding"},
		{"dead coin padding", versus, set(coin0+3*coinSize+19, 0x80), "padding"},
		{"mode", versus, set(5, 2), "mode"},
		{"no players", versus, set(6, 0), "players"},
		{"too many players", versus, set(6, MaxPlayers+1), "players"},
		{"players vs length", versus, set(6, 3), "bytes, want"},
		{"phase", versus, set(7, 3), "phase"},
		{"collecting byte", versus, set(8, 2), "collecting"},
		{"collecting while waiting", versus, set(7, byte(Waiting)), "collecting while waiting"},
		{"waiting with coins collected", versus, func(b []byte) []byte { b[7], b[8] = 0, 0; return b }, "while waiting"},
		{"over with coins alive", versus, set(7, byte(Over)), "alive"},
		{"no coins", versus, put32(9, 0), "coin count"},
		{"too many coins", versus, put32(9, MaxCoins+1), "coin count"},
		{"huge coin count", versus, put32(9, 0xffffffff), "coin count"},
		{"coin count vs length", versus, put32(9, 5), "bytes, want"},
		{"rng", versus, set(21, 'x'), "rng"},
		{"buttons", versus, set(p0, 4), "buttons"},
		{"collector x", versus, put16(p0+1, Width), "outside"},
		{"collector y", versus, put16(p1+3, Height), "outside"},
		{"score above coins", versus, put32(p0+5, 5), "exceeds"},
		{"score vs coins", versus, put32(p1+5, 1), "alive byte"},
		{"scores above coins", versus, func(b []byte) []byte { put32(p0+5, 4)(b); return put32(p1+5, 4)(b) }, "add up"},
		{"coin alive byte", versus, set(coin0+16, 2), "alive byte"},
		{"coin revived", versus, set(coin0+3*coinSize+16, 1), "alive byte"},
		{"dead coin among live ones", versus, set(coin1+16, 0), "alive byte"},
		{"coin x negative", versus, put32(coin1, -1), "out of range"},
		{"coin x beyond", versus, put32(coin1, maxX+1), "out of range"},
		{"coin y beyond", versus, put32(coin1+4, maxY+1), "out of range"},
		{"coin vx", versus, put32(coin1+8, maxSpeed+1), "out of range"},
		{"coin vy", versus, put32(coin1+12, -maxSpeed-1), "out of range"},
		{"trailing byte", versus, func(b []byte) []byte { return append(b, 0) }, "bytes, want"},
		{"classic bystander position", classic, put16(p0+1, 1), "no collector"},
		{"classic bystander score", classic, put32(p0+5, 1), "no collector"},
		{"json", versus, func([]byte) []byte { return []byte(`{"frame": 1}`) }, "header"},
		{"png", versus, func([]byte) []byte {
			return append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
		}, "magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.corrupt(mustSave(tt.base))
			target := play(t, Config{Mode: Versus, Players: 3, Coins: 7, Seed: 5}, 50)
			before := mustDecode(t, mustSave(target))
			coins := &target.coins[0]
			err := target.LoadState(b)
			if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadState = %v, want ErrState mentioning %q", err, tt.want)
			}
			if diff := cmp.Diff(before, target, cmpOptions); diff != "" || &target.coins[0] != coins {
				t.Fatalf("failed LoadState changed the state:\n%s", diff)
			}
			if _, err := Diff(b, mustSave(before)); err == nil {
				t.Error("Diff accepted the bad form")
			}
		})
	}
}

func TestLoadStateTruncated(t *testing.T) {
	for name, s := range samples(t) {
		b := mustSave(s)
		var target State
		for n := 0; n < len(b); n++ {
			if err := target.LoadState(b[:n]); err == nil {
				t.Fatalf("%s: a %d-byte prefix of %d loaded", name, n, len(b))
			}
		}
	}
}

// TestLoadStateGarbage throws random bytes and random corruptions of valid forms at
// LoadState: it must never panic, and whatever loads must save back to the same bytes.
func TestLoadStateGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var forms [][]byte
	for _, s := range samples(t) {
		forms = append(forms, mustSave(s))
	}
	var target State
	loaded := 0
	for i := 0; i < 20000; i++ {
		var b []byte
		if i%2 == 0 {
			b = make([]byte, r.IntN(200))
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			if i%4 == 0 && len(b) >= 5 {
				copy(b, "P2PA\x01")
			}
		} else {
			b = bytes.Clone(forms[r.IntN(len(forms))])
			for k := 1 + r.IntN(3); k > 0; k-- {
				b[r.IntN(len(b))] ^= byte(1 << r.IntN(8))
			}
		}
		if err := target.LoadState(b); err == nil {
			loaded++
			if again := mustSave(&target); !bytes.Equal(again, b) {
				t.Fatalf("loaded form saves differently:\n in %x\nout %x", b, again)
			}
			target.Step(script(i, target.Players()))
		}
	}
	if loaded == 0 {
		t.Error("no corrupted form loaded at all; the bit flips only hit checked fields?")
	}
}

func TestDiff(t *testing.T) {
	s := play(t, Config{Mode: Versus, Seed: 8}, 100)
	a := mustSave(s)
	if d, err := Diff(a, a); d != "" || err != nil {
		t.Fatalf("Diff(a, a) = %q, %v", d, err)
	}
	tests := []struct {
		name   string
		mutate func(*State)
		want   []string
	}{
		{"frame", func(s *State) { s.frame++ }, []string{"frame"}},
		{"coin", func(s *State) { s.coins[3].X++ }, []string{"coins", "X"}},
		{"rng", func(s *State) { s.rng.Uint64() }, []string{"rng"}},
		{"step", func(s *State) { s.Step(nil) }, []string{"frame", "coins"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustDecode(t, a)
			tt.mutate(c)
			d, err := Diff(a, mustSave(c))
			if err != nil || d == "" {
				t.Fatalf("Diff = %q, %v", d, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(d, w) {
					t.Errorf("Diff does not name %q:\n%s", w, d)
				}
			}
		})
	}
	if _, err := Diff(a, nil); err == nil || !strings.Contains(err.Error(), "second") {
		t.Errorf("Diff(a, nil) = %v, want an error about the second state", err)
	}
	if _, err := Diff([]byte("x"), a); err == nil || !strings.Contains(err.Error(), "first") {
		t.Errorf("Diff(x, a) = %v, want an error about the first state", err)
	}
}

func TestNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow with -race")
	}
	s := mustNew(t, Config{Mode: Versus, Players: 4, Coins: 10000, Seed: 1})
	s.Step([]Input{{Buttons: ButtonLeft}})
	s.Step(nil)
	s.Step([]Input{{Buttons: ButtonRight}})
	if !s.Collecting() {
		t.Fatal("setup: not collecting")
	}
	inputs := []Input{{X: 100, Y: 100}, {X: 700, Y: 100}, {X: 100, Y: 500}, {X: 700, Y: 500}}
	raw := encodeInputs(t, inputs)
	buf := make([]byte, 0, 1<<20)
	saved := mustSave(s)
	tests := []struct {
		name string
		f    func()
	}{
		{"Step", func() { s.Step(inputs) }},
		{"AdvanceFrame", func() { s.AdvanceFrame(raw) }},
		{"SaveState", func() { buf = s.SaveState(buf[:0]) }},
		{"Checksum", func() { _ = s.Checksum() }},
		{"LoadState", func() {
			if err := s.LoadState(saved); err != nil {
				panic(err)
			}
		}},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(20, tt.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, n)
		}
	}
}

// TestNewRoundNoAllocs covers the one Step that redraws every coin.
func TestNewRoundNoAllocs(t *testing.T) {
	s := mustNew(t, Config{Coins: 1})
	click := []Input{{Buttons: ButtonLeft}}
	release := []Input{{}}
	n := testing.AllocsPerRun(20, func() {
		s.phase = Over
		s.left = 0
		s.coins[0].Alive = false
		s.Step(release)
		s.Step(click)
	})
	if n != 0 || s.Phase() != Waiting {
		t.Errorf("new round: %v allocations, phase %v", n, s.Phase())
	}
}

func ExampleDiff() {
	s, _ := New(Config{Seed: 1})
	a := s.SaveState(nil)
	s.Step(nil)
	b := s.SaveState(nil)
	d, _ := Diff(a, b)
	fmt.Println(strings.Contains(d, "frame"))
	// Output: true
}
