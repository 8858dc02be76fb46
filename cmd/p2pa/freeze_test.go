//go:build unix

package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// TestFrozenPlayerRoles: player 1 is stopped (SIGSTOP) for longer than -disconnect and
// continued. Both sides then find the other silent and the engine pauses both alike; the
// words must still name the right roles: player 0, which ran all along, says player 1
// dropped and rejoined (not that it rejoins a match itself), and player 1 says that it did
// not run and rejoined (not that player 0 dropped). Both play on to the end and agree.
func TestFrozenPlayerRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("a 15 s match with a 3 s freeze")
	}
	t.Parallel()
	timeouts := []string{"-interrupt", "500ms", "-disconnect", "1500ms"}
	p0, addr := startHost(t, 90*time.Second, 2, append([]string{"-frames", "900", "-seed", "4"}, timeouts...)...)
	p1 := cliStart(t, 90*time.Second, nil, append([]string{"-p", "1", "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "900"}, timeouts...)...)
	for _, p := range []*proctest.Proc{p0, p1} {
		if _, err := p.WaitLine(t.Context(), proctest.Substring("connected")); err != nil {
			t.Fatalf("%v did not start: %v", p, err)
		}
	}
	time.Sleep(2 * time.Second)
	p1.Signal(syscall.SIGSTOP)
	time.Sleep(3 * time.Second) // twice -disconnect: player 0 drops player 1
	p1.Signal(syscall.SIGCONT)
	for _, p := range []*proctest.Proc{p0, p1} {
		<-p.Exited()
		if p.ExitCode() != 0 {
			t.Fatalf("exit %d\n%v", p.ExitCode(), p)
		}
	}
	f0, sum0 := resultOf(t, "player 0", p0)
	f1, sum1 := resultOf(t, "player 1", p1)
	if f0 != "900" || f1 != f0 || sum1 != sum0 {
		t.Errorf("player 0 ended at frame %s checksum %s, player 1 at frame %s checksum %s", f0, sum0, f1, sum1)
	}
	for _, c := range []struct {
		name      string
		p         *proctest.Proc
		want, not []string
	}{
		{"player 0", p0, []string{"p2pa: player 1 dropped;", "p2pa: player 1 rejoined at frame"}, []string{"rejoining the match in progress", "this process did not run"}},
		{"player 1", p1, []string{"p2pa: this process did not run for", "p2pa: rejoined at frame"}, []string{"player 0 dropped", "player 0 rejoined", "player 0 interrupted"}},
	} {
		out := cliStdout(c.p)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s does not say %q\n%v", c.name, w, c.p)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s says %q\n%v", c.name, n, c.p)
			}
		}
	}
}
