package game

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.txt from this machine's run (TestGoldenRuns)")

const (
	goldenFile   = "testdata/golden.txt"
	goldenFrames = 100_000
	goldenEvery  = 1_000
	goldenShort  = 10_000 // frames checked with -short
)

// goldenRuns are the configurations of the long runs: both modes, two and four players.
var goldenRuns = []struct {
	name string
	cfg  Config
}{
	{"classic-2p", Config{Mode: Classic, Players: 2, Seed: 0x5eed_0001}},
	{"versus-2p", Config{Mode: Versus, Players: 2, Seed: 0x5eed_0002}},
	{"versus-4p", Config{Mode: Versus, Players: 4, Coins: 80, Seed: 0x5eed_0004}},
}

// goldenMouse is one scripted player: the mouse glides toward a target at its own speed,
// and buttons are held for a few frames at a time.
type goldenMouse struct {
	x, y, tx, ty, speed int32
	held                byte
	holdFor             int32
}

// goldenScript makes every player's wire input, frame by frame, from a PCG stream (and, to
// aim at coins, the state itself). It draws with Uint64 and %, never IntN (whose algorithm
// differs on 32-bit platforms), so the inputs are the same on every CPU; what is tested is
// the game's arithmetic.
type goldenScript struct {
	rng  *rand.PCG
	mice []goldenMouse
	buf  []byte
}

func newGoldenScript(seed uint64, g *State) *goldenScript {
	s := &goldenScript{rng: rand.NewPCG(seed, 0x901d), mice: make([]goldenMouse, g.Players())}
	for p := range s.mice {
		m := &s.mice[p]
		m.x, m.y = int32(s.n(Width)), int32(s.n(Height))
		s.retarget(m, g)
	}
	return s
}

func (s *goldenScript) n(n uint64) uint64 { return s.rng.Uint64() % n }

// retarget picks the mouse's next goal: a random point, now and then a point far off the
// field, and often a coin still in play, so that rounds end.
func (s *goldenScript) retarget(m *goldenMouse, g *State) {
	m.speed = 1 + int32(s.n(12))
	if left := g.CoinsLeft(); left > 0 && s.n(2) == 0 {
		// Coins still in play are Coins()[:CoinsLeft()].
		x, y := g.Coins()[s.n(uint64(left))].Pixel()
		m.tx, m.ty = int32(x), int32(y)
		return
	}
	if s.n(40) == 0 {
		// Far off the field, up to the ends of int16: the game clamps.
		m.tx, m.ty = int32(s.n(65536))-32768, int32(s.n(65536))-32768
		m.speed = 2000
		return
	}
	m.tx, m.ty = int32(s.n(Width)), int32(s.n(Height))
}

func toward(v, target, step int32) int32 {
	switch {
	case v < target:
		return min(v+step, target)
	case v > target:
		return max(v-step, target)
	}
	return v
}

// next returns all players' inputs for one frame, InputSize bytes each. Buttons are held
// for 1 to 6 frames: left about every 300 frames per player (starting the coins and new
// rounds), right about every 200 (collection); now and then unknown button bits ride along,
// which AdvanceFrame must ignore.
func (s *goldenScript) next(g *State) []byte {
	s.buf = s.buf[:0]
	for p := range s.mice {
		m := &s.mice[p]
		m.x, m.y = toward(m.x, m.tx, m.speed), toward(m.y, m.ty, m.speed)
		if (m.x == m.tx && m.y == m.ty) || s.n(90) == 0 {
			s.retarget(m, g)
		}
		if m.holdFor > 0 {
			m.holdFor--
		} else {
			m.held = 0
			switch {
			case s.n(300) == 0:
				m.held, m.holdFor = byte(ButtonLeft), int32(s.n(6))
			case s.n(200) == 0:
				m.held, m.holdFor = byte(ButtonRight), int32(s.n(6))
			}
		}
		b := m.held
		if s.n(16) == 0 {
			b |= byte(s.n(256)) &^ byte(buttonMask)
		}
		x, y := uint16(int16(m.x)), uint16(int16(m.y))
		s.buf = append(s.buf, byte(x), byte(x>>8), byte(y), byte(y>>8), b)
	}
	return s.buf
}

// goldenRun plays one configuration for frames frames and returns a line per checkpoint:
// "name frame checksum round score". At every checkpoint the run goes on from a copy
// decoded from the saved bytes, so the byte form must hold the whole state too.
func goldenRun(t *testing.T, name string, cfg Config, frames int) []string {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	script := newGoldenScript(cfg.Seed, s)
	var lines []string
	for f := 0; ; f++ {
		if f%goldenEvery == 0 {
			lines = append(lines, fmt.Sprintf("%s %d %016x %d %d", name, f, s.Checksum(), s.Round(), s.TotalScore()))
			saved := s.SaveState(nil)
			if s, err = Decode(saved); err != nil {
				t.Fatalf("%s frame %d: the saved state does not decode: %v", name, f, err)
			}
		}
		if f == frames {
			break
		}
		s.AdvanceFrame(script.next(s))
	}
	if s.Round() < int32(frames/10_000) {
		t.Errorf("%s: only %d rounds in %d frames; the script no longer finishes rounds and the test covers less than it should", name, s.Round(), frames)
	}
	return lines
}

func readGolden(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (generate it with: go test ./game -run Golden -update)", err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

const goldenHeader = `# Checksums of the coin game's state every 1000 frames of 100,000-frame runs: a fixed seed
# and scripted inputs from a PCG stream (game/golden_test.go, TestGoldenRuns). Every CPU must
# produce exactly these lines; make cross runs the test on amd64, 386 and arm64 (qemu).
#
# Generated by: go test ./game -run Golden -update
# Do not edit by hand. A change here is a change to the simulation: every peer must update.
#
# run frame checksum round total-score
`

// TestGoldenRuns plays long scripted games in both modes and compares every 1000th frame's
// checksum with testdata/golden.txt, which was produced on amd64. With -short only the first
// 10,000 frames of each run are compared.
func TestGoldenRuns(t *testing.T) {
	frames := goldenFrames
	if testing.Short() {
		if *updateGolden {
			t.Fatal("-update writes the full runs: drop -short")
		}
		frames = goldenShort
	}
	var got []string
	for _, r := range goldenRuns {
		got = append(got, goldenRun(t, r.name, r.cfg, frames)...)
	}
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, []byte(goldenHeader+strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d checkpoints", goldenFile, len(got))
		return
	}
	want := readGolden(t)
	wantByKey := map[string]string{}
	for _, l := range want {
		f := strings.Fields(l)
		if len(f) < 3 {
			t.Fatalf("%s: bad line %q", goldenFile, l)
		}
		wantByKey[f[0]+" "+f[1]] = l
	}
	if !testing.Short() && len(want) != len(got) {
		t.Errorf("%s has %d checkpoints, the runs made %d (regenerate with -update if the runs changed on purpose)", goldenFile, len(want), len(got))
	}
	bad := 0
	for _, g := range got {
		f := strings.Fields(g)
		w, ok := wantByKey[f[0]+" "+f[1]]
		switch {
		case !ok:
			t.Errorf("%s: no line for %s frame %s", goldenFile, f[0], f[1])
		case w != g:
			t.Errorf("%s frame %s:\n got %s\nwant %s", f[0], f[1], g, w)
		default:
			continue
		}
		if bad++; bad == 5 {
			t.Fatal("more differences left out")
		}
	}
}
