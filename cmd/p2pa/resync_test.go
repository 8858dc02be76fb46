//go:build unix

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// The resync tests play seeded 1,800-frame headless bot matches between two processes,
// player 1's built with the p2pa_diverge tag and told to diverge.

const (
	resyncSeed   = "5151"
	resyncFrames = "1800"
	resyncKill   = 150 * time.Second // every process is killed if it still runs after this
	// resyncFrame is where player 1's game diverges: a checksum frame (every 60), whose
	// exchange finds it (a coin nudged some frames before may be collected, and the game
	// heal, before the next exchange).
	resyncFrame = "540"
)

// divergeBinary is p2pa built with the p2pa_diverge tag (its hidden -diverge-at and
// -diverge-every flags).
func divergeBinary(t *testing.T) string {
	t.Helper()
	return filepath.Join(proctest.BuildTags(t, "p2pa_diverge", "p2pa/cmd/p2pa"), "p2pa")
}

// resyncMatch plays the match, player 1 with its extra arguments, each process in a
// directory of its own (where it writes its desync dumps), and returns both once they
// exited, with their directories.
func resyncMatch(t *testing.T, diverge ...string) (procs [2]*proctest.Proc, dirs [2]string) {
	t.Helper()
	common := []string{"-seed", resyncSeed, "-frames", resyncFrames, "-headless", "-bot"}
	dirs = [2]string{t.TempDir(), t.TempDir()}
	for attempt := 0; ; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(proctest.FreeUDPPort(t))
		procs[0] = proctest.Start(t, "player 0", cliBinary(t), append([]string{"-p", "0", "-listen", addr}, common...),
			proctest.Dir(dirs[0]), proctest.KillAfter(resyncKill))
		if _, err := procs[0].WaitLine(t.Context(), proctest.Substring("waiting for player")); err != nil {
			if procs[0].ExitCode() == 2 && strings.Contains(cliStderr(procs[0]), "in use") && attempt < 5 {
				t.Logf("%s taken meanwhile; another port", addr)
				continue
			}
			t.Fatalf("player 0 did not start: %v", procs[0])
		}
		args := append(append([]string{"-p", "1", "-peer", addr, "-listen", "127.0.0.1:0"}, common...), diverge...)
		procs[1] = proctest.Start(t, "player 1", divergeBinary(t), args, proctest.Dir(dirs[1]), proctest.KillAfter(resyncKill))
		break
	}
	for _, p := range procs {
		<-p.Exited()
	}
	return procs, dirs
}

// TestResyncTwoProcesses: player 1's game diverges once, at frame 540. Both processes say
// "resynced" once, write their state of frame 540 (the desync dumps p2pa -diff compares),
// and finish -frames 1800 on the same checksum.
func TestResyncTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s match of two processes")
	}
	t.Parallel()
	procs, dirs := resyncMatch(t, "-diverge-at", resyncFrame)
	line := regexp.MustCompile(`^p2pa: desync at frame (\d+) \(player (\d+) differed\); resynced from player (\d+)$`)
	var want string
	for i, p := range procs {
		stdout, _ := p.Output()
		var resynced []string
		for _, l := range stdout {
			if line.MatchString(l) {
				resynced = append(resynced, l)
			}
		}
		t.Logf("%s: %q", p.Name(), resynced)
		if len(resynced) != 1 || resynced[0] != "p2pa: desync at frame "+resyncFrame+" (player 1 differed); resynced from player 0" {
			t.Errorf("%s: resync lines %q, want one at frame %s\n%v", p.Name(), resynced, resyncFrame, p)
		}
		dump := filepath.Join(dirs[i], "p2pa-desync-frame"+resyncFrame+"-player"+strconv.Itoa(i)+".state")
		if _, err := os.Stat(dump); err != nil {
			t.Errorf("%s: no desync dump: %v", p.Name(), err)
		}
		if p.ExitCode() != 0 {
			t.Errorf("%s: exit %d, want 0\n%v", p.Name(), p.ExitCode(), p)
			continue
		}
		frame, sum := resultOf(t, p.Name(), p)
		t.Logf("%s: %s", p.Name(), p.LastLine())
		if frame != resyncFrames {
			t.Errorf("%s ended at frame %s, want %s", p.Name(), frame, resyncFrames)
		}
		if i == 0 {
			want = sum
		} else if sum != want {
			t.Errorf("%s: checksum %s, player 0's %s", p.Name(), sum, want)
		}
	}
	if t.Failed() {
		return
	}
	// The dumps differ, and p2pa -diff says where.
	a := filepath.Join(dirs[0], "p2pa-desync-frame"+resyncFrame+"-player0.state")
	b := filepath.Join(dirs[1], "p2pa-desync-frame"+resyncFrame+"-player1.state")
	diff := cliRun(t, 30*time.Second, nil, "-diff", a, b)
	if diff.ExitCode() != 1 || !strings.Contains(cliStdout(diff), "X") {
		t.Errorf("p2pa -diff of the dumps: exit %d, want 1 and the coin's X named\n%v", diff.ExitCode(), diff)
	}
}

// TestResyncRecurring: player 1's game diverges at frame 540 and every 60 frames after it.
// The first three desyncs are resynced; the fourth, within the minute, ends the match on
// both sides with the line that says the game is not deterministic.
func TestResyncRecurring(t *testing.T) {
	if testing.Short() {
		t.Skip("a match of two processes")
	}
	t.Parallel()
	procs, _ := resyncMatch(t, "-diverge-at", resyncFrame, "-diverge-every", "60")
	notDeterministic := regexp.MustCompile(`^p2pa: desync at frame \d+: 4 desyncs within 1m0s: the game is not deterministic; the match ends$`)
	for _, p := range procs {
		stdout, _ := p.Output()
		n, ended := 0, 0
		for _, l := range stdout {
			if strings.Contains(l, "resynced from player") {
				n++
			}
			if notDeterministic.MatchString(l) {
				ended++
			}
		}
		if n != 3 || ended != 1 {
			t.Errorf("%s: %d resync lines and %d lines saying the game is not deterministic, want 3 and 1\n%v", p.Name(), n, ended, p)
		}
		if p.ExitCode() != 1 {
			t.Errorf("%s: exit %d, want 1 (a match that ended on a desync)\n%v", p.Name(), p.ExitCode(), p)
		}
		t.Logf("%s: exit %d, last line %q", p.Name(), p.ExitCode(), p.LastLine())
	}
}
