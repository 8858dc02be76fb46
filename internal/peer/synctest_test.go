package peer

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"p2pa/game"
)

var synctestLine = regexp.MustCompile(`^synctest frames=(\d+) rollbacks=(\d+) mismatches=(\d+) checksum=([0-9a-f]{16})$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestSyncTestLongRun is the acceptance run: 100,000 frames, a rollback of 8 frames
// every frame, in both modes, and no mismatch.
func TestSyncTestLongRun(t *testing.T) {
	frames := 100000
	if testing.Short() {
		frames = 10000
	}
	for _, mode := range []game.Mode{game.Classic, game.Versus} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			o := Options{Mode: mode, Coins: game.DefaultCoins, Players: 2, Seed: 7, Frames: frames, MaxPred: 8, CheckDistance: 8}
			if err := RunSyncTest(o, &out, &errOut); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			m := synctestLine.FindStringSubmatch(lastLine(out.String()))
			if m == nil {
				t.Fatalf("last line %q is not a synctest summary", lastLine(out.String()))
			}
			if m[3] != "0" {
				t.Errorf("mismatches=%s", m[3])
			}
			if want := frames - 8; m[2] != strconv.Itoa(want) {
				t.Errorf("rollbacks=%s, want %d", m[2], want)
			}
		})
	}
}

// forgetfulGame keeps a frame counter outside the saved state and lets it steer the game:
// after a rollback the counter still holds the future, so the re-simulation differs.
type forgetfulGame struct {
	*game.State
	steps int
	in    []byte
}

func (g *forgetfulGame) AdvanceFrame(inputs []byte) {
	g.steps++
	g.in = append(g.in[:0], inputs...)
	if g.steps%50 == 0 {
		g.in[game.InputSize] ^= 0x40 // nudge player 1's mouse x, from state the save misses
	}
	g.State.AdvanceFrame(g.in)
}

func TestSyncTestCatchesNondeterministicGame(t *testing.T) {
	st, err := game.New(game.Config{Players: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	o := Options{Mode: game.Classic, Coins: game.DefaultCoins, Players: 2, Seed: 7, Frames: 2000, MaxPred: 8, CheckDistance: 8}
	err = runSyncTest(o, st, &forgetfulGame{State: st}, &out, &errOut)
	if err == nil {
		t.Fatalf("a game that forgets part of its state passed the sync test:\n%s", out.String())
	}
	m := synctestLine.FindStringSubmatch(lastLine(out.String()))
	if m == nil || m[3] != "1" {
		t.Fatalf("last line %q, want a summary with mismatches=1", lastLine(out.String()))
	}
	if !strings.Contains(errOut.String(), "frame") {
		t.Errorf("the mismatch report names no frame: %q", errOut.String())
	}
	t.Logf("caught: %s", firstLine(errOut.String()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func TestSyncTestSameSeedSameChecksum(t *testing.T) {
	run := func(seed uint64) string {
		var out bytes.Buffer
		o := Options{Mode: game.Classic, Coins: game.DefaultCoins, Players: 2, Seed: seed, Frames: 3000, MaxPred: 8, CheckDistance: 8}
		if err := RunSyncTest(o, &out, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		return synctestLine.FindStringSubmatch(lastLine(out.String()))[4]
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("seed 7 gave %s then %s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 both gave %s", a)
	}
}
