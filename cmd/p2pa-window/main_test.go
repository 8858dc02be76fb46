//go:build display

// The tests of this package need the display build tag (see the package doc).

package main

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/internal/peer"
)

// TestNoDisplay runs the built binary without an X display: ebiten would panic in its
// package init, so internal/xdisplay must get there first with one line and status 1.
func TestNoDisplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the window binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the display check runs on Linux only")
	}
	bin := filepath.Join(t.TempDir(), "p2pa-window")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	// -h needs no window: the usage on stdout, status 0, display or not.
	for _, display := range []string{"", ":97"} {
		cmd := exec.Command(bin, "-h")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "DISPLAY=" + display}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || !strings.HasPrefix(stdout.String(), peer.Usage) || stderr.Len() != 0 {
			t.Errorf("DISPLAY=%q -h: %v, stdout %.80q…, stderr %q; want status 0 and the usage on stdout alone", display, err, stdout.String(), stderr.String())
		}
	}
	for _, display := range []string{"", ":97"} {
		cmd := exec.Command(bin, "-p", "1", "-peer", "127.0.0.1:7000")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
		if display != "" {
			cmd.Env = append(cmd.Env, "DISPLAY="+display)
		}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("DISPLAY=%q: exit %v, want status 1", display, err)
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], "-headless") || strings.Contains(stderr.String(), "goroutine") {
			t.Errorf("DISPLAY=%q: stderr = %q, want one line suggesting -headless", display, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("DISPLAY=%q: stdout = %q, want nothing", display, stdout.String())
		}
	}
}

func TestScreensSayWhatToDoNext(t *testing.T) {
	s, err := game.New(game.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	host, err := peer.ParseFlags("test", []string{"-listen", "127.0.0.1:7000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	guest, err := peer.ParseFlags("test", []string{"-p", "1", "-peer", "192.168.1.20:7000", "-mode", "versus"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []options{host, guest} {
		for ph := peer.PhaseWaiting; ph <= peer.PhaseRejoining; ph++ {
			sc, ok := screenFor(opts, view{Phase: ph, Err: errors.New("boom"), LocalAddr: "127.0.0.1:7000"}, s, false, time.Second)
			if ph == peer.PhaseRunning {
				if ok {
					t.Errorf("%v: a screen over a running game", ph)
				}
				continue
			}
			if !ok || sc.Title == "" || sc.Footer == "" {
				t.Errorf("%v: screen %+v lacks a title or a next step", ph, sc)
			}
		}
		if sc, ok := screenFor(opts, view{Phase: peer.PhaseRunning}, s, true, 0); !ok || sc.Footer == "" {
			t.Errorf("no screen while leaving: %+v", sc)
		}
	}
	sc, _ := screenFor(host, view{Phase: peer.PhaseWaiting, LocalAddr: "127.0.0.1:7000"}, nil, false, 0)
	if got, want := strings.Join(sc.Code, "\n"), "p2pa -p 1 -peer 127.0.0.1:7000"; got != want {
		t.Errorf("host's waiting screen shows %q, want %q", got, want)
	}
	lan, err := peer.ParseFlags("test", []string{"-coins", "20"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ = screenFor(lan, view{Phase: peer.PhaseWaiting, LocalAddr: "[::]:7000", LANAddrs: []string{"192.168.1.20"}}, nil, false, 0)
	if got, want := strings.Join(sc.Code, "\n"), "p2pa -p 1 -peer 192.168.1.20:7000 -coins 20"; got != want {
		t.Errorf("LAN host's waiting screen shows %q, want %q", got, want)
	}
	sc, _ = screenFor(guest, view{Phase: peer.PhaseWaiting}, nil, false, 0)
	if got, want := strings.Join(sc.Code, "\n"), "p2pa -p 0 -listen :7000 -mode versus"; got != want {
		t.Errorf("guest's waiting screen shows %q, want %q", got, want)
	}
}

func TestClamp16(t *testing.T) {
	for _, c := range []struct {
		in   int
		want int16
	}{{-1, -1}, {800, 800}, {1 << 20, 1<<15 - 1}, {-1 << 20, -1 << 15}} {
		if got := clamp16(c.in); got != c.want {
			t.Errorf("clamp16(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestOverField: only a position on the field, and not ebiten's (0, 0) for "unknown",
// counts as the mouse having entered the window; outside it the collector is held.
func TestOverField(t *testing.T) {
	for _, c := range []struct {
		x, y int16
		want bool
	}{
		{0, 0, false},
		{-300, 200, false},
		{400, -1, false},
		{game.Width, 10, false},
		{10, game.Height, false},
		{0, 1, true},
		{400, 300, true},
		{game.Width - 1, game.Height - 1, true},
	} {
		if got := overField(game.Input{X: c.x, Y: c.y}); got != c.want {
			t.Errorf("overField(%d, %d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

// TestLookingScreens: a joining player with no -peer sees that it is looking, then the
// matches to choose from, then whom it connects to.
func TestLookingScreens(t *testing.T) {
	seeker, err := peer.ParseFlags("test", []string{"-p", "1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := screenFor(seeker, view{Phase: peer.PhaseWaiting, Looking: true}, nil, false, 0)
	if !ok || sc.Title != "Looking for a game on this network…" || sc.Footer == "" {
		t.Errorf("looking screen: %+v", sc)
	}
	games := []peer.Found{
		{Instance: "alpha", Addr: netip.MustParseAddrPort("192.168.1.20:7000"), Want: 2, Seated: 1},
		{Instance: "beta", Addr: netip.MustParseAddrPort("192.168.1.21:7000"), Want: 2, Seated: 1},
	}
	sc, _ = screenFor(seeker, view{Phase: peer.PhaseWaiting, Looking: true, Games: games}, nil, false, 0)
	if len(sc.Code) != 2 || !strings.HasPrefix(sc.Code[0], "p2pa -p 1 -join alpha") || !strings.Contains(sc.Code[1], "192.168.1.21:7000") {
		t.Errorf("choice screen lists %q", sc.Code)
	}
	sc, _ = screenFor(seeker, view{Phase: peer.PhaseWaiting, Peer: "192.168.1.20:7000"}, nil, false, 0)
	if sc.Title != "Connecting to 192.168.1.20:7000" {
		t.Errorf("after finding a game: %+v", sc)
	}
}
