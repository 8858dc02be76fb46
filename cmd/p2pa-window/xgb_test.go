//go:build linux && display

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestNoXGBLines: a window started with HOME an empty directory (so no ~/.Xauthority) and
// no XAUTHORITY, on an X server that needs no authority, opens and prints no "XGB:" line.
// ebiten's X library logs two lines for each connection it makes without an authority
// file unless internal/xquiet has silenced it before ebiten's init. The window under test
// gets an Xvfb of the test's own, started without authority (xvfb-run's server wants its
// cookie); the test binary itself, which links ebiten, still runs under xvfb-run as the
// package's other tests do.
func TestNoXGBLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the window binary and starts an X server")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("no Xvfb on PATH")
	}
	display := startXvfb(t, xvfb)
	bin := filepath.Join(t.TempDir(), "p2pa-window")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-p", "0", "-listen", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DISPLAY=" + display}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The window is open and its match waiting once it says so; ebiten's X connections are
	// made before that, in its package init and while the window opens.
	waiting := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			if !seen && strings.Contains(sc.Text(), "waiting for player 1") {
				seen = true
				waiting <- true
			}
		}
		if !seen {
			waiting <- false
		}
	}()
	select {
	case ok := <-waiting:
		if !ok {
			t.Errorf("the window exited without waiting for player 1; stderr:\n%s", stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Errorf("the window did not say it is waiting within 60 s; stderr:\n%s", stderr.String())
	}
	time.Sleep(500 * time.Millisecond) // a few frames drawn, in case a later connection logs
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("the window did not end within 30 s of SIGTERM")
	}
	if strings.Contains(stderr.String(), "XGB") {
		t.Errorf("stderr has XGB lines:\n%s", stderr.String())
	}
}

// startXvfb starts an X server on a display number it picks itself and returns ":N"; the
// server is stopped when the test ends.
func startXvfb(t *testing.T, xvfb string) string {
	t.Helper()
	_, display := startXvfbCmd(t, xvfb)
	return display
}

// startXvfbCmd is startXvfb that also returns the server's process, for a test to kill.
func startXvfbCmd(t *testing.T, xvfb string) (*exec.Cmd, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(xvfb, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb did not say its display number")
		}
		return cmd, ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start within 30 s")
	}
	return nil, ""
}

// lockedBuffer is a bytes.Buffer that exec's copying goroutine and the test can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
