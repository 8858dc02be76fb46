//go:build unix

package main

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// startServer runs p2pa -serve on a free loopback port and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
		// Killed only if the test itself hangs: the server lives as long as the test.
		p := proctest.Start(t, "server", cliBinary(t), []string{"-serve", addr}, proctest.KillAfter(10*time.Minute))
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		_, err := p.WaitLine(ctx, regexp.MustCompile(`rooms at`))
		cancel()
		if err == nil {
			t.Cleanup(func() { // before proctest's own cleanup, which would kill it
				p.Signal(syscall.SIGTERM)
				<-p.Exited()
			})
			return "http://" + addr
		}
		if attempt == 5 {
			t.Fatalf("the server did not start: %v", p)
		}
	}
}

// TestRoomRefusals: what a player meets when the room cannot be joined gets one clear line
// and exit status 1, without hanging: a server that is down, a room nobody opened (after
// waiting for player 0 a while, as players may start in any order), a seat another player
// holds.
func TestRoomRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the room's open wait")
	}
	t.Parallel()
	url := startServer(t)
	host := proctest.Start(t, "player 0", cliBinary(t), []string{"-p", "0", "-server", url, "-room", "taken", "-headless", "-bot"}, proctest.KillAfter(5*time.Minute))
	if _, err := host.WaitLine(t.Context(), regexp.MustCompile(`room TAKEN`)); err != nil {
		t.Fatalf("player 0 did not open its room: %v", host)
	}
	down := "http://127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"server down", []string{"-p", "1", "-server", down, "-room", "x"}, "cannot reach the server " + down},
		{"no such room", []string{"-p", "1", "-server", url, "-room", "nobody"}, "room NOBODY does not exist on " + url},
		{"seat taken", []string{"-p", "0", "-server", url, "-room", "taken"}, "player 0's seat in room TAKEN is taken by another player"},
	} {
		// One after the other: a parallel subtest may wait minutes for a slot while the
		// package's long tests run, and the room's player 0 is only kept so long.
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			p := cliRun(t, time.Minute, nil, append(tc.args, "-headless", "-bot")...)
			if p.ExitCode() != 1 {
				t.Errorf("exit status %d, want 1\n%v", p.ExitCode(), p)
			}
			want := fmt.Sprintf("p2pa: %s", tc.want)
			if got := cliStderr(p); !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(got) {
				t.Errorf("stderr %q, want a line with %q", got, want)
			}
			t.Logf("%s: %v", tc.name, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// TestRoomOnLoopback: two players and a spectator meet in a room on one machine (no NAT:
// the host candidates connect) and agree.
func TestRoomOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a match")
	}
	t.Parallel()
	url := startServer(t)
	args := []string{"-server", url, "-headless", "-bot", "-seed", "9", "-frames", "600"}
	p0 := proctest.Start(t, "player 0", cliBinary(t), append([]string{"-p", "0", "-room", "loop"}, args...), proctest.KillAfter(2*time.Minute))
	// Started before player 0 has opened the room, or after: either way they meet.
	p1 := proctest.Start(t, "player 1", cliBinary(t), append([]string{"-p", "1", "-room", "loop"}, args...), proctest.KillAfter(2*time.Minute))
	sp := proctest.Start(t, "spectator", cliBinary(t), []string{"-server", url, "-spectate", "loop", "-headless", "-frames", "600"}, proctest.KillAfter(2*time.Minute))
	for _, p := range []*proctest.Proc{p0, p1, sp} {
		<-p.Exited()
	}
	agreeAt(t, "600", p0, p1, sp)
	if !reachedDirectly.MatchString(cliStdout(p1)) {
		t.Errorf("player 1 did not say how it reached player 0:\n%v", p1)
	}
}

// freeTCPPort returns a TCP port nothing listens on at the moment on 127.0.0.1.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// TestRoomSpectatorFeederLeaves: TestSpectatorFeederLeaves in a room on loopback. Three
// players and a spectator of seed 4242 to -frames 1500 meet in a room; the spectator
// links to every player, not only player 0, which feeds it. Player 0 is stopped by SIGTERM
// 5 s after everyone is connected (it says goodbye) and the other two play on. The
// spectator turns to player 1 at its seat's address without a restart, says so, and ends
// on the survivors' result line.
func TestRoomSpectatorFeederLeaves(t *testing.T) {
	if testing.Short() {
		t.Skip("a 25 s match of three processes and a spectator")
	}
	t.Parallel()
	url := startServer(t)
	args := []string{"-server", url, "-room", "feed", "-players", "3", "-headless", "-bot", "-seed", rejoinSeed, "-frames", rejoinFrames}
	p0 := rejoinStart(t, "player 0", append([]string{"-p", "0"}, args...)...)
	p1 := rejoinStart(t, "player 1", append([]string{"-p", "1"}, args...)...)
	p2 := rejoinStart(t, "player 2", append([]string{"-p", "2"}, args...)...)
	watcher := rejoinStart(t, "spectator", "-server", url, "-spectate", "feed", "-headless", "-frames", rejoinFrames)
	for k := 1; k <= 2; k++ {
		// Linked before player 0 goes, or there is nobody to turn to.
		rejoinWait(t, watcher, regexp.MustCompile(`^p2pa: reached player `+strconv.Itoa(k)+` `), 30*time.Second, p0, p1, p2, watcher)
	}
	feederLeaves(t, p0, p1, p2, watcher)
	for _, p := range []*proctest.Proc{p1, p2} {
		// Player 0's goodbye reached them: a lost one reads as a crash (a rejoin wait).
		if l := rejoinLines(p, regexp.MustCompile(`^p2pa: player 0 left at frame \d+$`)); len(l) != 1 {
			t.Errorf("%s: %d lines saying player 0 left, want one\n%v", p.Name(), len(l), p)
		}
	}
}
