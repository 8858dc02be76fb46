//go:build display && linux

package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

var resultLine = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16}) `)

// TestWindowLeavesWhenDisplayGoes: a window (started by p2pa, as a user would) plays a
// headless peer on an X server of its own; the X server is killed, hard or politely. Within
// 5 s the window and its p2pa have exited with status 1, the window saying why, and the
// peer was told goodbye: it prints "peer left" (not "disconnected") and ends on the
// window's frame and checksum. Before the fix the window's render thread hung on the dead
// display and Update never ran again: the processes outlived the display, ignoring SIGTERM.
func TestWindowLeavesWhenDisplayGoes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries and plays over an X server of its own")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("no Xvfb on PATH")
	}
	dir := t.TempDir()
	for _, b := range []struct{ out, pkg string }{{"p2pa", "../p2pa"}, {"p2pa-window", "."}} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", b.out, err, out)
		}
	}
	p2pa := filepath.Join(dir, "p2pa")
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			x, display := startXvfbCmd(t, xvfb)
			addr := "127.0.0.1:" + strconv.Itoa(proctest.FreeUDPPort(t))
			win := proctest.Start(t, "window", p2pa, []string{"-p", "0", "-listen", addr, "-bot", "-seed", "9"},
				proctest.Env("DISPLAY="+display), proctest.KillAfter(2*time.Minute))
			peer := proctest.Start(t, "headless peer", p2pa, []string{"-p", "1", "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "100000"},
				proctest.KillAfter(2*time.Minute))
			if _, err := win.WaitLine(t.Context(), proctest.Substring("p2pa-window: playing at frame")); err != nil {
				t.Fatalf("the window did not start playing: %v\n%v\n%v", err, win, peer)
			}
			if _, err := peer.WaitLine(t.Context(), proctest.Substring("connected")); err != nil {
				t.Fatalf("the peer did not connect: %v\n%v", err, peer)
			}
			time.Sleep(time.Second) // a few frames in
			if err := x.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			select {
			case <-win.Exited():
			case <-time.After(5 * time.Second):
				t.Fatalf("the window (and p2pa) still run 5 s after the X server was killed\n%v", win)
			}
			t.Logf("exited %v after the X server was killed", time.Since(killed).Round(time.Millisecond))
			if win.ExitCode() != 1 {
				t.Errorf("exit status %d, want 1\n%v", win.ExitCode(), win)
			}
			if _, stderr := win.Output(); !strings.Contains(stderr, "p2pa-window: the display went away") {
				t.Errorf("the window did not say why it ended\n%v", win)
			}
			<-peer.Exited()
			stdout, _ := peer.Output()
			if !strings.Contains(strings.Join(stdout, "\n"), "p2pa: peer left at frame") {
				t.Errorf("the peer was not told goodbye\n%v", peer)
			}
			w, p := resultLine.FindStringSubmatch(win.LastLine()+" "), resultLine.FindStringSubmatch(peer.LastLine()+" ")
			if w == nil || p == nil || w[1] != p[1] || w[2] != p[2] {
				t.Errorf("result lines %q and %q, want the same frame and checksum\n%v\n%v", win.LastLine(), peer.LastLine(), win, peer)
			}
		})
	}
}
