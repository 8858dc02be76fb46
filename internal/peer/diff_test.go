package peer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
)

// Offsets in game's byte form (layout in game/codec.go).
const (
	stateOffFrame = 13 // frame, uint32 LE
	stateHeader   = 41 // then 9 bytes per player, then coins of 17 bytes starting with X
)

// diffFields lists the field names on the "-" and "+" lines of a go-cmp report (go-cmp
// puts random non-breaking spaces after the markers; strings.Fields splits on them).
func diffFields(diff string) []string {
	var names []string
	for line := range strings.SplitSeq(diff, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "-" && f[0] != "+") {
			continue
		}
		if name := strings.TrimSuffix(f[1], ":"); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// nudgeCoin moves coin 0 of a saved state by 1/256 pixel, keeping it on the field.
func nudgeCoin(b []byte, players int) {
	off := stateHeader + players*9
	x := binary.LittleEndian.Uint32(b[off:])
	if x == (game.Width-1)*game.Scale {
		x--
	} else {
		x ^= 1
	}
	binary.LittleEndian.PutUint32(b[off:], x)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunDiff(t *testing.T) {
	t.Parallel()
	st, err := game.New(game.Config{Mode: game.Versus, Coins: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for range 40 {
		st.AdvanceFrame([]byte{100, 0, 100, 0, 1, 200, 0, 200, 0, 2})
	}
	base := st.SaveState(nil)
	otherFrame := slices.Clone(base)
	binary.LittleEndian.PutUint32(otherFrame[stateOffFrame:], 1234)
	otherCoin := slices.Clone(base)
	nudgeCoin(otherCoin, 2)
	for _, b := range [][]byte{otherFrame, otherCoin} {
		if _, err := game.Decode(b); err != nil {
			t.Fatalf("the altered state does not load: %v", err)
		}
	}

	dir := t.TempDir()
	a := writeFile(t, dir, "a.state", base)
	same := writeFile(t, dir, "same.state", base)
	frame := writeFile(t, dir, "frame.state", otherFrame)
	coin := writeFile(t, dir, "coin.state", otherCoin)

	t.Run("field", func(t *testing.T) {
		for _, c := range []struct {
			b      string
			fields []string
			show   []string // lines the report must hold
		}{
			{frame, []string{"frame"}, []string{"40,", "1234,"}},
			{coin, []string{"X"}, []string{"coins: []game.Coin{"}},
		} {
			var out bytes.Buffer
			differ, err := RunDiff(a, c.b, &out)
			if err != nil || !differ {
				t.Fatalf("RunDiff(%s, %s) = %v, %v; want a difference", a, c.b, differ, err)
			}
			got := out.String()
			if !strings.HasPrefix(got, "--- "+a+"\n+++ "+c.b+"\n") {
				t.Errorf("report does not start with the file names:\n%s", got)
			}
			if f := diffFields(got); !slices.Equal(f, c.fields) {
				t.Errorf("report names %q, want %q:\n%s", f, c.fields, got)
			}
			for _, s := range c.show {
				if !strings.Contains(got, s) {
					t.Errorf("report lacks %q:\n%s", s, got)
				}
			}
		}
	})
	t.Run("same", func(t *testing.T) {
		var out bytes.Buffer
		differ, err := RunDiff(a, same, &out)
		if err != nil || differ {
			t.Fatalf("RunDiff of identical states = %v, %v", differ, err)
		}
		if want := a + " and " + same + " are the same state\n"; out.String() != want {
			t.Errorf("printed %q, want %q", out.String(), want)
		}
	})
	t.Run("bad files", func(t *testing.T) {
		replayish := append([]byte("P2PAREPLAY\x01\x01"), make([]byte, 40)...)
		// Sparse files of 1 GiB: the header is read first and says what the file is not, or
		// how long it should be, before any of the rest is read.
		sparse := func(name string, head []byte) string {
			path := writeFile(t, dir, name, head)
			if err := os.Truncate(path, 1<<30); err != nil {
				t.Fatal(err)
			}
			return path
		}
		huge := sparse("huge.state", nil)
		hugeHeader := sparse("huge-header.state", base[:stateHeader])
		bad := []struct {
			path  string
			state bool // the error wraps game.ErrState
		}{
			{writeFile(t, dir, "truncated.state", base[:len(base)-1]), true},
			{writeFile(t, dir, "header.state", base[:stateHeader]), true},
			{writeFile(t, dir, "extra.state", append(slices.Clone(base), 0)), true},
			{writeFile(t, dir, "empty.state", nil), true},
			{writeFile(t, dir, "text.state", []byte("frame=600 checksum=0123456789abcdef\n")), true},
			{writeFile(t, dir, "replay.state", replayish), true},
			{writeFile(t, dir, "version.state", append([]byte("P2PA\x03"), base[5:]...)), true},
			{filepath.Join(dir, "missing.state"), false},
			{dir, false},
			{huge, true},
			{hugeHeader, true},
		}
		for _, c := range bad {
			for _, args := range [][2]string{{c.path, a}, {a, c.path}} {
				var out bytes.Buffer
				differ, err := RunDiff(args[0], args[1], &out)
				if err == nil || differ {
					t.Errorf("RunDiff(%s, %s) = %v, %v; want an error", args[0], args[1], differ, err)
					continue
				}
				msg := err.Error()
				if !strings.Contains(msg, c.path) || strings.Contains(msg, "\n") {
					t.Errorf("RunDiff(%s, %s): error %q should be one line naming %s", args[0], args[1], msg, c.path)
				}
				if c.state != errors.Is(err, game.ErrState) {
					t.Errorf("RunDiff(%s, %s): error %q: wraps game.ErrState = %v, want %v", args[0], args[1], msg, !c.state, c.state)
				}
				if out.Len() != 0 {
					t.Errorf("RunDiff(%s, %s) printed %q", args[0], args[1], out.String())
				}
			}
		}
	})
}

// desyncedPair is two real Matches over loopback UDP, driven in the test's goroutine, that
// have both stopped on a desync.
type desyncedPair struct {
	t          *testing.T
	dir        string
	ms         [2]*Match
	out        [2]*bytes.Buffer
	ticker     *time.Ticker
	deadline   <-chan time.Time
	nudgedAt   lockstep.Frame
	desyncedAt lockstep.Frame // the first checksum frame after the nudge
}

// startDesynced starts both players with the given input delay in a fresh working
// directory (the desync files go there), makes player 1's state diverge once both run, and
// ticks at 60 Hz until both report the desync. Inputs never change, so no prediction is
// ever wrong and no rollback undoes the nudge.
func startDesynced(t *testing.T, delay int) *desyncedPair {
	dir := t.TempDir()
	t.Chdir(dir)
	base := Options{
		Players: 2, Listen: "127.0.0.1:0", MaxPred: 8, Mode: game.Classic, Coins: 20, Seed: 5,
		Interrupt: 2 * time.Second, Disconnect: 5 * time.Second, ChecksumInterval: 10, Delay: delay,
		StopOnDesync: true, // these tests are about the end a desync makes
	}
	d := &desyncedPair{t: t, dir: dir, out: [2]*bytes.Buffer{{}, {}}, nudgedAt: lockstep.NullFrame}
	var err error
	if d.ms[0], err = Start(base, d.out[0]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.ms[0].Close() })
	o1 := base
	o1.Player, o1.Peer = 1, d.ms[0].udp.LocalAddr().String()
	if d.ms[1], err = Start(o1, d.out[1]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.ms[1].Close() })
	d.ticker = time.NewTicker(time.Second / 60)
	t.Cleanup(d.ticker.Stop)
	d.deadline = time.After(60 * time.Second)

	m1 := d.ms[1]
	for d.ms[0].Status().Phase != PhaseDesync || m1.Status().Phase != PhaseDesync {
		d.tick()
		for i, m := range d.ms {
			if p := m.Status().Phase; p == PhaseFailed || p == PhaseDisconnected || p == PhasePeerLeft {
				t.Fatalf("player %d: %v (%v)\n%s\n%s", i, p, m.Status().Err, d.out[0], d.out[1])
			}
		}
		f := m1.sess().Frame()
		if d.nudgedAt == lockstep.NullFrame && m1.state != nil && f >= 25 && m1.sess().ConfirmedFrame() == f {
			b := m1.state.SaveState(nil)
			nudgeCoin(b, 2)
			if err := m1.state.LoadState(b); err != nil {
				t.Fatal(err)
			}
			d.nudgedAt = f
		}
	}
	// The cell of the nudged frame itself was saved before the nudge.
	d.desyncedAt = (d.nudgedAt/10 + 1) * 10
	return d
}

func (d *desyncedPair) tick() {
	select {
	case <-d.ticker.C:
	case <-d.deadline:
		d.t.Fatalf("timed out: player 0 %v at frame %d, player 1 %v at frame %d\n%s\n%s",
			d.ms[0].Status().Phase, d.ms[0].sess().Frame(), d.ms[1].Status().Phase, d.ms[1].sess().Frame(), d.out[0], d.out[1])
	}
	for _, m := range d.ms {
		m.Tick(game.Input{})
	}
}

// quit quits player p and ticks both until it is done.
func (d *desyncedPair) quit(p int) {
	d.ms[p].Quit()
	for !d.ms[p].Done() {
		d.tick()
	}
}

// TestDesyncFilesDiff: both sides stop with a desync at the first checksum frame after the
// divergence, write their p2pa-desync-frameN-playerP.state files, and -diff of the two
// names the field; a quit then ends the match with the desync as its error. It plays with
// -delay 2: with no input delay one side misses the desync (TestDesyncBothSidesNoDelay).
func TestDesyncFilesDiff(t *testing.T) {
	d := startDesynced(t, 2)
	want := d.desyncedAt
	var files [2]string
	for i, m := range d.ms {
		f, _, ok := m.sess().DesyncState()
		if !ok || f != want {
			t.Errorf("player %d: desync at frame %d (%v), want %d (nudged at %d)", i, f, ok, want, d.nudgedAt)
		}
		name := filepath.Join(d.dir, fmt.Sprintf("p2pa-desync-frame%d-player%d.state", want, i))
		if got := m.Status().DesyncFile; evalPath(t, got) != evalPath(t, name) {
			t.Errorf("player %d: DesyncFile %q, want %q", i, got, name)
		}
		files[i] = name
	}
	if t.Failed() {
		t.FailNow()
	}
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("working directory holds %q, want the two desync files only", names)
	}
	var out bytes.Buffer
	differ, err := RunDiff(files[0], files[1], &out)
	if err != nil || !differ {
		t.Fatalf("RunDiff of the desync files = %v, %v", differ, err)
	}
	if f := diffFields(out.String()); !slices.Equal(f, []string{"X"}) || !strings.Contains(out.String(), "coins: []game.Coin{") {
		t.Errorf("the desync files' diff names %q, want coin X:\n%s", f, out.String())
	}

	// Both stay stopped.
	frames := [2]lockstep.Frame{d.ms[0].sess().Frame(), d.ms[1].sess().Frame()}
	for range 30 {
		d.tick()
	}
	for i, m := range d.ms {
		if m.sess().Frame() != frames[i] {
			t.Errorf("player %d advanced from %d to %d after the desync", i, frames[i], m.sess().Frame())
		}
	}
	// The first to quit ends with the desync as its error and says so.
	d.quit(0)
	if err := d.ms[0].Close(); !errors.Is(err, lockstep.ErrDesync) {
		t.Errorf("player 0: Close() = %v, want an error wrapping ErrDesync", err)
	}
	line := regexp.MustCompile(`(?m)^p2pa: desync at frame ` + fmt.Sprint(want) + ` \(ours [0-9a-f]{16}, peer's [0-9a-f]{16}\)$`)
	for i, o := range d.out {
		if !line.MatchString(o.String()) {
			t.Errorf("player %d printed:\n%s", i, o)
		}
	}
}

// TestDesyncBothSidesNoDelay is TestDesyncFilesDiff's setup with -delay 0, the default.
// It guards a fixed bug: a player that receives the
// other's checksum report with the input that confirms the checksum frame detects the
// desync inside Advance and from then on sends nothing, so its own report never leaves and
// the other player only sees silence, then a disconnect, and writes no desync file.
func TestDesyncBothSidesNoDelay(t *testing.T) {
	d := startDesynced(t, 0)
	for i, m := range d.ms {
		if f, _, ok := m.sess().DesyncState(); !ok || f != d.desyncedAt {
			t.Errorf("player %d: desync at frame %d (%v), want %d", i, f, ok, d.desyncedAt)
		}
	}
}

// TestDesyncOutlivesPeerQuit: a desynced player must still end with the desync when the
// other player quits first. (It guards a fixed bug: the goodbye used to turn the desync into "peer left".)
func TestDesyncOutlivesPeerQuit(t *testing.T) {
	d := startDesynced(t, 2)
	d.quit(0)
	for range 10 { // let player 1 read the goodbye
		d.tick()
	}
	if p := d.ms[1].Status().Phase; p != PhaseDesync {
		t.Errorf("player 1: phase %v after player 0 quit, want %v", p, PhaseDesync)
	}
	d.quit(1)
	if err := d.ms[1].Close(); !errors.Is(err, lockstep.ErrDesync) {
		t.Errorf("player 1: Close() = %v after the other player quit, want an error wrapping ErrDesync\n%s", err, d.out[1])
	}
}

// evalPath resolves symbolic links (the temporary directory may be behind one).
func evalPath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatalf("%q: %v", p, err)
	}
	return r
}
