//go:build unix

package main

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// TestSignalBeforeFrames: a peer stopped by Ctrl-C (SIGINT) or SIGTERM before its -frames
// still ends the match cleanly (the result line last, the same frame and checksum as its
// peer), says on stderr that a signal stopped it and exits as a shell reports such a
// process: 128 + the signal's number. Its peer, whose -frames were not reached either,
// exits 1. (A match that reaches -frames exits 0: TestTwoHeadlessPeers.)
func TestSignalBeforeFrames(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			port := strconv.Itoa(proctest.FreeUDPPort(t))
			p0 := cliStart(t, 60*time.Second, nil, "-p", "0", "-listen", "127.0.0.1:"+port, "-headless", "-bot", "-frames", "100000")
			if _, err := p0.WaitLine(t.Context(), proctest.Substring("waiting for player 1")); err != nil {
				t.Fatalf("player 0 did not start: %v", p0)
			}
			p1 := cliStart(t, 60*time.Second, nil, "-p", "1", "-peer", "127.0.0.1:"+port, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "100000")
			if _, err := p1.WaitLine(t.Context(), proctest.Substring("connected to")); err != nil {
				t.Fatalf("player 1 did not connect: %v", p1)
			}
			p1.Signal(tc.sig)
			<-p1.Exited()
			<-p0.Exited()
			if p1.ExitCode() != tc.want {
				t.Errorf("player 1, stopped by %v: exit %d, want %d\n%v", tc.sig, p1.ExitCode(), tc.want, p1)
			}
			if !strings.Contains(cliStderr(p1), "stopped by signal") {
				t.Errorf("player 1: stderr %q does not say a signal stopped it", cliStderr(p1))
			}
			if p0.ExitCode() != 1 || !strings.Contains(cliStderr(p0), "before -frames 100000: the peer left") {
				t.Errorf("player 0: want exit 1 and 'before -frames 100000: the peer left'\n%v", p0)
			}
			var lines [2][]string
			for i, p := range []*proctest.Proc{p0, p1} {
				lines[i] = cliResultLine.FindStringSubmatch(p.LastLine())
				if lines[i] == nil {
					t.Fatalf("player %d: last line %q is not a result line\n%v", i, p.LastLine(), p)
				}
			}
			if lines[0][1] != lines[1][1] || lines[0][2] != lines[1][2] {
				t.Errorf("the peers disagree: %q against %q", p0.LastLine(), p1.LastLine())
			}
		})
	}
}
