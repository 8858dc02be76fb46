package peer

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/transport"
)

// openFDs counts this process's open file descriptors; ok is false where /proc/self/fd does
// not exist (anything but Linux).
func openFDs() (int, bool) {
	if runtime.GOOS != "linux" {
		return 0, false
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	return len(ents), true
}

// waitForBaseline polls until the goroutine and descriptor counts are back at (or under)
// their baselines, and fails with both counts (and the goroutines' stacks) if they are not
// within the deadline.
func waitForBaseline(t *testing.T, what string, goroutines, fds int, fdsOK bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		g := runtime.NumGoroutine()
		f, _ := openFDs()
		if g <= goroutines && (!fdsOK || f <= fds) {
			t.Logf("%s: %d goroutines (baseline %d), %d descriptors (baseline %d)", what, g, goroutines, f, fds)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%s: %d goroutines (baseline %d) and %d open descriptors (baseline %d) 20 s after closing everything:\n%s", what, g, goroutines, f, fds, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func leakOptions(t *testing.T, args ...string) Options {
	t.Helper()
	o, err := ParseFlags("p2pa", append([]string{"-headless", "-bot"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestNoLeaks opens and closes 100 matches and 100 bare UDP sockets and checks that every
// goroutine and file descriptor they took is given back. Half of the matches are pairs that
// complete the handshake and play a little (one side behind -netsim); the others never hear
// from a peer.
func TestNoLeaks(t *testing.T) {
	runtime.GC()
	goroutines := runtime.NumGoroutine()
	fds, fdsOK := openFDs()
	if !fdsOK {
		t.Log("no /proc/self/fd: checking goroutines only")
	}

	for i := range 25 {
		m0, err := Start(leakOptions(t, "-listen", "127.0.0.1:0", "-seed", fmt.Sprint(i+1)), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"-p", "1", "-listen", "127.0.0.1:0", "-peer", m0.udp.LocalAddr().String()}
		if i%2 == 0 {
			args = append(args, "-netsim", "latency=2ms,loss=1%")
		}
		m1, err := Start(leakOptions(t, args...), io.Discard)
		if err != nil {
			m0.Close()
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		played := 0
		for played < 20 && time.Now().Before(deadline) {
			m0.Tick(game.Input{})
			m1.Tick(game.Input{})
			if m0.State() != nil && m1.State() != nil {
				played++
			}
			time.Sleep(time.Millisecond)
		}
		if played < 20 {
			t.Errorf("pair %d: no game after 10 s: %v / %v", i, m0.Status().Phase, m1.Status().Phase)
		}
		if i%2 == 0 {
			m1.Quit() // one side leaves properly, the other is simply closed
			for j := 0; j < 100 && !m1.Done(); j++ {
				m1.Tick(game.Input{})
				m0.Tick(game.Input{})
				time.Sleep(time.Millisecond)
			}
		}
		m1.Close()
		m0.Close()
	}
	for i := range 50 {
		o := leakOptions(t, "-listen", "127.0.0.1:0")
		if i%2 == 1 {
			o = leakOptions(t, "-p", "1", "-listen", "127.0.0.1:0", "-peer", "127.0.0.1:9")
		}
		m, err := Start(o, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		m.Tick(game.Input{})
		if err := m.Close(); err != nil {
			t.Errorf("closing a match that never started: %v", err)
		}
		m.Close() // twice is harmless
	}
	waitForBaseline(t, "after 100 matches", goroutines, fds, fdsOK)

	for i := range 100 {
		u, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			// Something queued and something unread at close.
			if err := u.WriteTo([]byte("leak?"), u.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
	}
	waitForBaseline(t, "after 100 UDP sockets", goroutines, fds, fdsOK)
}
