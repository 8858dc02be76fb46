//go:build unix

package main

import (
	"regexp"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// watchedHost starts player 0 of an n-player match of seed rejoinSeed to -frames
// rejoinFrames (rejoinHost) and a spectator of it watching to the same -frames; it
// returns them, player 0's address and command line, and the players' common flags.
func watchedHost(t *testing.T, n int) (p0, watcher *proctest.Proc, addr string, p0cmd, common []string) {
	t.Helper()
	common = []string{"-seed", rejoinSeed, "-frames", rejoinFrames}
	p0, addr, p0cmd = rejoinHost(t, n, common...)
	watcher = rejoinStart(t, "spectator", "-spectate", addr, "-headless", "-listen", "127.0.0.1:0", "-frames", rejoinFrames)
	return p0, watcher, addr, p0cmd, common
}

// TestSpectatorFeederLeaves: a spectator watches a 3-player match to -frames 1500; player
// 0, which feeds it, is stopped by SIGTERM 5 s in (it says goodbye) and the other two play
// on. The spectator turns to player 1 without a restart, says so, and ends on the
// survivors' result line. Seed 4242.
func TestSpectatorFeederLeaves(t *testing.T) {
	if testing.Short() {
		t.Skip("a 25 s match of three processes and a spectator")
	}
	t.Parallel()
	p0, watcher, addr, _, common := watchedHost(t, 3)
	p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
	p2 := rejoinStart(t, "player 2", joinerCmd(2, addr, common...)...)
	feederLeaves(t, p0, p1, p2, watcher)
}

// feederLeaves plays on from where a 3-player match and its spectator were started to
// -frames rejoinFrames: once the spectator watches and every player is connected, player
// 0 is stopped by SIGTERM 5 s later. The survivors and the spectator must end on one
// result line, the spectator after one line saying it watches on through player 1 and
// none saying it stopped or could not reach a player.
func feederLeaves(t *testing.T, p0, p1, p2, watcher *proctest.Proc) {
	t.Helper()
	all := []*proctest.Proc{p0, p1, p2, watcher}
	rejoinWait(t, watcher, proctest.Substring("watching a 3-player"), 30*time.Second, all...)
	for _, p := range all[:3] {
		rejoinWait(t, p, proctest.Substring("connected to"), 30*time.Second, all...)
	}
	time.Sleep(5 * time.Second)
	p0.Signal(syscall.SIGTERM)
	rejoinExit(t, p0, 30*time.Second, all...)
	if p0.ExitCode() != 143 {
		t.Errorf("player 0, stopped by SIGTERM: exit %d, want 143\n%v", p0.ExitCode(), p0)
	}
	rejoinFinish(t, p1, p2, watcher)
	on := rejoinLines(watcher, regexp.MustCompile(`^p2pa: player 0 left the match; watching on through player 1 from frame (\d+)$`))
	if len(on) != 1 {
		t.Errorf("spectator: %d lines saying it watches on through player 1, want one\n%v", len(on), watcher)
	}
	if l := rejoinLines(watcher, regexp.MustCompile(`stopped answering|ended the match|could not reach`)); len(l) > 0 {
		t.Errorf("spectator: %q, but the match went on to frame %s\n%v", l[0][0], rejoinFrames, watcher)
	}
	if len(on) == 1 {
		t.Logf("spectator: %s / %s", on[0][0], watcher.LastLine())
	}
}

// TestSpectatorFeederKilled: two players and a spectator watching to -frames 1500; player
// 0, which feeds the spectator, is killed with SIGKILL 5 s in and started again 2 s later.
// The spectator, after -disconnect of silence, turns to player 1 without a restart, says
// so, watches on across player 0's rejoin and ends on the players' result line. Seed 4242.
func TestSpectatorFeederKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s match of two processes and a spectator")
	}
	t.Parallel()
	p0, watcher, addr, p0cmd, common := watchedHost(t, 2)
	p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
	rejoinWait(t, watcher, proctest.Substring("watching a 2-player"), 30*time.Second, p0, p1)
	rejoinKillAfter(t, p0, p0, p1)
	time.Sleep(2 * time.Second)
	again := rejoinStart(t, "player 0 again", p0cmd...)
	rejoinSeen(t, 0, "30s", again, p1)
	rejoinFinish(t, again, p1, watcher)
	on := rejoinLines(watcher, regexp.MustCompile(`^p2pa: player 0 stopped answering; watching on through player 1 from frame (\d+)$`))
	if len(on) != 1 {
		t.Errorf("spectator: %d lines saying it watches on through player 1, want one\n%v", len(on), watcher)
	}
	t.Logf("spectator: %v / %s", on, watcher.LastLine())
}
