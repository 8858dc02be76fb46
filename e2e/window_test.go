package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// TestMain removes the binaries the tests built once they have all run.
func TestMain(m *testing.M) {
	proctest.Main(m)
}

var (
	finalLine = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16}) rollbacks=\d+ rtt_ms=\S+$`)
	scoreLine = regexp.MustCompile(`^score=(\d+)\b`)
)

// TestTwoWindows plays a short match between two real windows on loopback, each started
// the way a player starts one, through the p2pa launcher (which execs p2pa-window from
// beside itself): player 1's window is driven with xdotool (start the coins, turn
// collection on, sweep the field), then both windows get Esc. Both peers must end at the
// same frame and checksum with a score above zero, and their -screenshot playfields must
// agree pixel for pixel.
func TestTwoWindows(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("needs an X display: run under xvfb-run -a (make test does when DISPLAY is unset)")
	}
	xdo, err := exec.LookPath("xdotool")
	if err != nil {
		t.Skip("needs xdotool to drive the windows (make deps installs it)")
	}
	if testing.Short() {
		t.Skip("builds the window binary and plays for about 20 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// Not t.TempDir: the PNGs are kept for a person to look at after a failure.
	dir, err := os.MkdirTemp("", "p2pa-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	// A plain build (no -race) keeps it to one cold ebiten compile; the test is about the
	// two processes, not their data races.
	binDir := proctest.Build(t, "p2pa/cmd/p2pa", "p2pa/cmd/p2pa-window")
	t.Logf("binaries in %s", binDir)
	bin := filepath.Join(binDir, "p2pa")
	addr := fmt.Sprintf("127.0.0.1:%d", proctest.FreeUDPPort(t))
	shot0, shot1 := filepath.Join(dir, "player0.png"), filepath.Join(dir, "player1.png")

	p0 := start(t, "player 0", bin, "-p", "0", "-listen", addr, "-screenshot", shot0)
	p1 := start(t, "player 1", bin, "-p", "1", "-peer", addr, "-screenshot", shot1)
	defer func() {
		if t.Failed() {
			for _, p := range []*proctest.Proc{p0, p1} {
				out, errOut := p.Output()
				t.Logf("%s stdout:\n%s\n%s stderr:\n%s", p.Name(), strings.Join(out, "\n"), p.Name(), errOut)
			}
		}
	}()

	x := xdotool{t: t, bin: xdo, ctx: ctx}
	w0 := x.findWindow("p2pa player 0 ")
	w1 := x.findWindow("p2pa player 1 ")
	// Without a window manager both windows could open on top of each other; keep them
	// apart and player 1's on top, since the pointer's clicks go to the window under it.
	x.run("windowmove", w0, "0", "0")
	x.run("windowmove", w1, "480", "424")
	x.run("windowraise", w1)

	for _, p := range []*proctest.Proc{p0, p1} {
		wctx, wcancel := context.WithTimeout(ctx, 90*time.Second)
		_, err := p.WaitLine(wctx, proctest.Substring("p2pa-window: playing"))
		wcancel()
		if err != nil {
			t.Fatalf("the match did not start: %v", err)
		}
	}

	// Player 1 steers the only collector in classic. A left click starts the coins and a
	// right click (on a later tick) turns collection on.
	x.run("mousemove", "--window", w1, "400", "300")
	time.Sleep(300 * time.Millisecond)
	x.run("click", "1")
	time.Sleep(500 * time.Millisecond)
	x.run("click", "3")
	time.Sleep(300 * time.Millisecond)
	// Sweep the field in rows for a few seconds; bouncing coins cross the robot's path.
	for pass := 0; pass < 2; pass++ {
		for row := 40; row < 560; row += 48 {
			for col := 30; col <= 770; col += 74 {
				cx := col
				if (row/48)%2 == 1 {
					cx = 800 - col
				}
				x.run("mousemove", "--window", w1, strconv.Itoa(cx), strconv.Itoa(row))
				time.Sleep(25 * time.Millisecond)
			}
		}
	}

	// Player 1 leaves first; player 0 then shows "the other player left" until its Esc.
	x.pressEscape(w1)
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := wait(wctx, p1); err != nil {
		t.Fatalf("player 1 after Esc: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	x.pressEscape(w0)
	if err := wait(wctx, p0); err != nil {
		t.Fatalf("player 0 after Esc: %v", err)
	}

	var finals [2][]string
	var scores [2]int
	for i, p := range []*proctest.Proc{p0, p1} {
		out, errOut := p.Output()
		for _, bad := range []string{"error", "panic"} {
			if strings.Contains(strings.ToLower(errOut), bad) {
				t.Errorf("%s wrote %q to stderr:\n%s", p.Name(), bad, errOut)
			}
		}
		if len(out) == 0 {
			t.Fatalf("%s printed nothing", p.Name())
		}
		last := out[len(out)-1]
		m := finalLine.FindStringSubmatch(last)
		if m == nil {
			t.Fatalf("%s: last line %q is not `frame=N checksum=X rollbacks=N rtt_ms=X`", p.Name(), last)
		}
		finals[i] = m[1:3]
		scores[i] = -1
		for _, l := range out {
			if sm := scoreLine.FindStringSubmatch(l); sm != nil {
				scores[i], _ = strconv.Atoi(sm[1])
			}
		}
		t.Logf("%s: %s, score %d", p.Name(), last, scores[i])
	}
	if finals[0][0] != finals[1][0] || finals[0][1] != finals[1][1] {
		t.Errorf("the peers ended apart: player 0 frame=%s checksum=%s, player 1 frame=%s checksum=%s",
			finals[0][0], finals[0][1], finals[1][0], finals[1][1])
	}
	if scores[0] <= 0 || scores[1] <= 0 {
		t.Errorf("no coin collected: scores %v (want score=N > 0 from both)", scores)
	}
	if scores[0] != scores[1] {
		// Not an error: p2pa prints the score of its live state, which on the peer that
		// stayed may include a few predicted frames past the end frame.
		t.Logf("the peers' score lines differ: %v", scores)
	}
	comparePNGs(t, shot0, shot1, filepath.Join(dir, "diff.png"))
}

// start runs bin with args; it is killed when the test ends if it is still running.
func start(t *testing.T, name, bin string, args ...string) *proctest.Proc {
	t.Helper()
	// One llvmpipe thread per process keeps two software-rendered windows from starving
	// the simulation on a 2-core machine.
	p := proctest.Start(t, name, bin, args, proctest.Env("LP_NUM_THREADS=1"))
	t.Logf("%s: started pid %d: %s %s", name, p.Pid(), bin, strings.Join(args, " "))
	return p
}

// wait waits for p to exit and returns its exit error; if ctx ends first, it stops p with
// SIGQUIT (a goroutine dump in its stderr, for the log), then SIGKILL, and says so.
func wait(ctx context.Context, p *proctest.Proc) error {
	if _, err := p.Wait(ctx); err != nil {
		return err
	}
	return p.Err()
}

type xdotool struct {
	t   *testing.T
	bin string
	ctx context.Context
}

func (x xdotool) run(args ...string) string {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(x.ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, x.bin, args...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// pressEscape sends Esc to a window. The window may close between the key's press and
// its release, and xdotool then fails with BadWindow; whether Esc worked is judged by the
// process exiting, so the error is only logged.
func (x xdotool) pressEscape(win string) {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(x.ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, x.bin, "key", "--window", win, "Escape").CombinedOutput(); err != nil {
		x.t.Logf("xdotool key Escape to %s: %v (%s)", win, err, strings.TrimSpace(string(out)))
	}
}

// findWindow waits for a window whose title matches the regular expression name.
func (x xdotool) findWindow(name string) string {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(x.ctx, 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, x.bin, "search", "--sync", "--name", name).Output()
	if err != nil {
		x.t.Fatalf("no window titled %q appeared: %v", name, err)
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		x.t.Fatalf("xdotool found no window titled %q", name)
	}
	return ids[0]
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	return img
}

// comparePNGs requires two images to be equal pixel for pixel; on a mismatch it writes
// the differing pixels in red over a dimmed copy to diffPath.
func comparePNGs(t *testing.T, a, b, diffPath string) {
	t.Helper()
	ia, ib := readPNG(t, a), readPNG(t, b)
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("screenshots differ in size: %v vs %v", ia.Bounds(), ib.Bounds())
	}
	if ia.Bounds().Dx() != 800 || ia.Bounds().Dy() != 600 {
		t.Errorf("screenshot is %v, want the 800x600 playfield", ia.Bounds())
	}
	r := ia.Bounds()
	diff := image.NewRGBA(r)
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca, cb := color.RGBAModel.Convert(ia.At(x, y)).(color.RGBA), color.RGBAModel.Convert(ib.At(x, y)).(color.RGBA)
			if ca != cb {
				n++
				diff.SetRGBA(x, y, color.RGBA{255, 0, 0, 255})
			} else {
				diff.SetRGBA(x, y, color.RGBA{ca.R / 3, ca.G / 3, ca.B / 3, 255})
			}
		}
	}
	if n == 0 {
		t.Logf("screenshots agree pixel for pixel: %s, %s", a, b)
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, diff); err == nil {
		_ = os.WriteFile(diffPath, buf.Bytes(), 0o644)
	}
	t.Errorf("%d pixels differ between %s and %s (see %s)", n, a, b, diffPath)
}
