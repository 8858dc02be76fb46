//go:build unix

package main

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// The rejoin tests play seeded 1,500-frame headless bot matches (25 s of play), kill a
// player with SIGKILL 5 s after the match started and run its command again: the
// survivors pause, the returning player rejoins and the match ends on one checksum.

const (
	rejoinSeed   = "4242"
	rejoinFrames = "1500"
	rejoinKill   = 150 * time.Second // every process is killed if it still runs after this
)

// rejoinStart runs p2pa with args under name ("player 1 again"), killed after rejoinKill.
func rejoinStart(t *testing.T, name string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, name, cliBinary(t), args, proctest.KillAfter(rejoinKill))
}

// rejoinHost starts player 0 of an n-player match on a free port and waits until it
// listens; it returns the process, its address and its command line (to run it again).
func rejoinHost(t *testing.T, n int, args ...string) (*proctest.Proc, string, []string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(proctest.FreeUDPPort(t))
		cmd := append([]string{"-p", "0", "-listen", addr, "-players", strconv.Itoa(n), "-headless", "-bot"}, args...)
		p0 := rejoinStart(t, "player 0", cmd...)
		if _, err := p0.WaitLine(t.Context(), proctest.Substring("waiting for player")); err != nil {
			if p0.ExitCode() == 2 && strings.Contains(cliStderr(p0), "in use") && attempt < 5 {
				t.Logf("%s taken meanwhile; another port", addr)
				continue
			}
			t.Fatalf("player 0 did not start: %v", p0)
		}
		return p0, addr, cmd
	}
}

// joinerCmd is the command line of player k joining the match at addr.
func joinerCmd(k int, addr string, args ...string) []string {
	return append([]string{"-p", strconv.Itoa(k), "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot"}, args...)
}

// rejoinWait waits up to d for a stdout line of p matching re and returns its submatches;
// on failure it shows p and the other processes.
func rejoinWait(t *testing.T, p *proctest.Proc, re *regexp.Regexp, d time.Duration, others ...*proctest.Proc) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	m, err := p.WaitLine(ctx, re)
	if err != nil {
		t.Fatalf("%v\n%v%s", err, p, rejoinShow(others))
	}
	return m
}

func rejoinShow(procs []*proctest.Proc) string {
	var b strings.Builder
	for _, p := range procs {
		b.WriteString("\n")
		b.WriteString(p.String())
	}
	return b.String()
}

// rejoinLines are p's stdout lines matching re, as submatches.
func rejoinLines(p *proctest.Proc, re *regexp.Regexp) [][]string {
	stdout, _ := p.Output()
	var out [][]string
	for _, l := range stdout {
		if m := re.FindStringSubmatch(l); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// rejoinIndex is the index of p's first stdout line matching re, -1 if none.
func rejoinIndex(p *proctest.Proc, re *regexp.Regexp) int {
	stdout, _ := p.Output()
	return slices.IndexFunc(stdout, re.MatchString)
}

// rejoinWaitCount waits up to d until n of p's stdout lines match re. The helper has no
// "next matching line" wait, so this looks at the lines every 50 ms.
func rejoinWaitCount(t *testing.T, p *proctest.Proc, re *regexp.Regexp, n int, d time.Duration, others ...*proctest.Proc) {
	t.Helper()
	deadline := time.Now().Add(d)
	for len(rejoinLines(p, re)) < n {
		select {
		case <-p.Exited():
			if len(rejoinLines(p, re)) >= n {
				return
			}
			t.Fatalf("%s exited with %d lines matching %q, want %d\n%v%s", p.Name(), len(rejoinLines(p, re)), re, n, p, rejoinShow(others))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d lines matching %q after %v, want %d\n%v%s", p.Name(), len(rejoinLines(p, re)), re, d, n, p, rejoinShow(others))
		}
	}
}

// rejoinExit waits up to d for p to exit.
func rejoinExit(t *testing.T, p *proctest.Proc, d time.Duration, others ...*proctest.Proc) {
	t.Helper()
	select {
	case <-p.Exited():
	case <-time.After(d):
		t.Fatalf("%s still running after %v\n%v%s", p.Name(), d, p, rejoinShow(others))
	}
}

// rejoinKillAfter waits until every process printed its "connected to" line, then 5 s
// more, and kills victim with SIGKILL.
func rejoinKillAfter(t *testing.T, victim *proctest.Proc, all ...*proctest.Proc) {
	t.Helper()
	for _, p := range all {
		rejoinWait(t, p, proctest.Substring("connected to"), 30*time.Second, all...)
	}
	time.Sleep(5 * time.Second)
	select {
	case <-victim.Exited():
		t.Fatalf("%s ended before it was killed\n%v", victim.Name(), rejoinShow(all))
	default:
	}
	victim.Signal(syscall.SIGKILL)
	<-victim.Exited()
	t.Logf("%s killed", victim.Name())
}

// rejoinFinish waits for every process to exit and checks that each exited 0 with the
// result line of frame -frames last, all with one checksum.
func rejoinFinish(t *testing.T, procs ...*proctest.Proc) {
	t.Helper()
	for _, p := range procs {
		rejoinExit(t, p, 90*time.Second, procs...)
	}
	var want string
	for i, p := range procs {
		if p.ExitCode() != 0 {
			t.Errorf("%s: exit %d, want 0\n%v", p.Name(), p.ExitCode(), p)
			continue
		}
		frame, sum := resultOf(t, p.Name(), p)
		t.Logf("%s: %s", p.Name(), p.LastLine())
		if frame != rejoinFrames {
			t.Errorf("%s ended at frame %s, want %s\n%v", p.Name(), frame, rejoinFrames, p)
		}
		if i == 0 {
			want = sum
		} else if sum != want {
			t.Errorf("%s: checksum %s, %s's %s", p.Name(), sum, procs[0].Name(), want)
		}
	}
}

func rejoinDropped(k int, window string) *regexp.Regexp {
	return regexp.MustCompile(`^p2pa: player ` + strconv.Itoa(k) + ` dropped; waiting up to ` + regexp.QuoteMeta(window) + ` for them to rejoin$`)
}

func rejoinSurvivorRejoined(k int) *regexp.Regexp {
	return regexp.MustCompile(`^p2pa: player ` + strconv.Itoa(k) + ` rejoined at frame (\d+)$`)
}

var (
	rejoinRejoining = regexp.MustCompile(`^p2pa: rejoining the match in progress at frame (\d+)`)
	rejoinRejoined  = regexp.MustCompile(`^p2pa: rejoined at frame (\d+)$`)
	rejoinRefused   = regexp.MustCompile(`^p2pa: refused a rejoin from \S+: .+`)
	rejoinLeft      = regexp.MustCompile(`^p2pa: player \d+ left at frame`)
)

// rejoinSeen checks the lines of a rejoin: each survivor said that player k dropped (with
// window) and then that it rejoined at frame F, the rejoiner said it was rejoining and
// then that it rejoined at the same F, and nobody said a player left.
func rejoinSeen(t *testing.T, k int, window string, rejoiner *proctest.Proc, survivors ...*proctest.Proc) {
	t.Helper()
	all := append([]*proctest.Proc{rejoiner}, survivors...)
	var frames []string
	for _, s := range survivors {
		rejoinWait(t, s, rejoinDropped(k, window), 30*time.Second, all...)
		m := rejoinWait(t, s, rejoinSurvivorRejoined(k), 60*time.Second, all...)
		if d, r := rejoinIndex(s, rejoinDropped(k, window)), rejoinIndex(s, rejoinSurvivorRejoined(k)); d > r {
			t.Errorf("%s: %q came before the line saying player %d dropped\n%v", s.Name(), m[0], k, s)
		}
		frames = append(frames, m[1])
		t.Logf("%s: %s", s.Name(), m[0])
	}
	rejoinWait(t, rejoiner, rejoinRejoining, 30*time.Second, all...)
	m := rejoinWait(t, rejoiner, rejoinRejoined, 30*time.Second, all...)
	t.Logf("%s: %s", rejoiner.Name(), m[0])
	for i, f := range frames {
		if f != m[1] {
			t.Errorf("%s says player %d rejoined at frame %s, %s says %s", survivors[i].Name(), k, f, rejoiner.Name(), m[1])
		}
	}
	if n := mustAtoi(t, m[1]); n <= 0 || n >= mustAtoi(t, rejoinFrames) {
		t.Errorf("%s rejoined at frame %s, want one inside the match (1..%s)", rejoiner.Name(), m[1], rejoinFrames)
	}
	for _, p := range all {
		if l := rejoinLines(p, rejoinLeft); len(l) > 0 {
			t.Errorf("%s: %q: the rejoin did not keep the player in\n%v", p.Name(), l[0][0], p)
		}
	}
}

// TestRejoinPlayer1Killed: player 1 is killed 5 s in and started again with the same
// command 2 s later; player 0 pauses, it rejoins, and both end at frame 1500 on one
// checksum, exit 0.
func TestRejoinPlayer1Killed(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s match of two processes")
	}
	t.Parallel()
	common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames}
	p0, addr, _ := rejoinHost(t, 2, common...)
	p1cmd := joinerCmd(1, addr, common...)
	p1 := rejoinStart(t, "player 1", p1cmd...)
	rejoinKillAfter(t, p1, p0, p1)
	time.Sleep(2 * time.Second)
	again := rejoinStart(t, "player 1 again", p1cmd...)
	rejoinSeen(t, 1, "30s", again, p0)
	rejoinFinish(t, p0, again)
}

// TestRejoinPlayer0Killed: the same with player 0 killed and started again on its own
// -listen port; player 1 pauses.
func TestRejoinPlayer0Killed(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s match of two processes")
	}
	t.Parallel()
	common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames}
	p0, addr, p0cmd := rejoinHost(t, 2, common...)
	p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
	rejoinKillAfter(t, p0, p0, p1)
	time.Sleep(2 * time.Second)
	again := rejoinStart(t, "player 0 again", p0cmd...)
	rejoinSeen(t, 0, "30s", again, p1)
	rejoinFinish(t, again, p1)
}

// TestRejoinRefused: while player 0 waits for player 1 (killed), attempts with another
// -secret, another -seed and another -coins are refused (the attempt exits 1 at once with
// a line saying why; player 0 prints "refused a rejoin" and keeps waiting); then the right
// command rejoins and both end at frame 1500 on one checksum. -rejoin 1m: room for the
// attempts, and the window's wording.
func TestRejoinRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("a 40 s match of two processes and three refused attempts")
	}
	t.Parallel()
	common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames, "-rejoin", "1m"}
	p0, addr, _ := rejoinHost(t, 2, append(common, "-secret", "tulip")...)
	p1cmd := joinerCmd(1, addr, append(common, "-secret", "tulip")...)
	p1 := rejoinStart(t, "player 1", p1cmd...)
	rejoinKillAfter(t, p1, p0, p1)
	// Player 0 drops player 1 after -disconnect (5 s) of silence.
	rejoinWait(t, p0, rejoinDropped(1, "1m0s"), 30*time.Second)
	otherSeed := strconv.Itoa(mustAtoi(t, rejoinSeed) + 1)
	for i, tc := range []struct {
		name string
		args []string
		want string // in the attempt's stderr
	}{
		{"-secret daisy", joinerCmd(1, addr, append(common, "-secret", "daisy")...), "secrets differ"},
		{"-seed " + otherSeed, joinerCmd(1, addr, "-seed", otherSeed, "-frames", rejoinFrames, "-rejoin", "1m", "-secret", "tulip"), "seed"},
		{"-coins 49", joinerCmd(1, addr, append(common, "-secret", "tulip", "-coins", "49")...), "plays"},
	} {
		start := time.Now()
		p := rejoinStart(t, "player 1 with "+tc.name, tc.args...)
		rejoinExit(t, p, 10*time.Second, p0)
		took := time.Since(start)
		stderr := cliStderr(p)
		if p.ExitCode() != 1 || !strings.Contains(stderr, tc.want) || !strings.HasPrefix(stderr, "p2pa: ") {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and a line saying %q\n%v", tc.name, p.ExitCode(), stderr, tc.want, p)
		}
		if trustHasResult(p) {
			t.Errorf("%s printed a result line\n%v", tc.name, p)
		}
		rejoinWaitCount(t, p0, rejoinRefused, i+1, 10*time.Second, p)
		t.Logf("%s: exit %d after %v: %s; player 0: %s", tc.name, p.ExitCode(), took.Round(time.Millisecond),
			strings.TrimSpace(stderr), rejoinLines(p0, rejoinRefused)[i][0])
		select {
		case <-p0.Exited():
			t.Fatalf("player 0 stopped waiting after the attempt with %s\n%v", tc.name, p0)
		default:
		}
	}
	again := rejoinStart(t, "player 1 again", p1cmd...)
	rejoinSeen(t, 1, "1m0s", again, p0)
	rejoinFinish(t, p0, again)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRejoinWindowExpires: with -rejoin 2s, player 1 killed and never started again,
// player 0 says it dropped and that it did not rejoin within 2s, and ends as without
// rejoin: the result line last, exit 1 before -frames, well before the default 30 s window.
func TestRejoinWindowExpires(t *testing.T) {
	if testing.Short() {
		t.Skip("a 15 s match of two processes")
	}
	t.Parallel()
	common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames, "-rejoin", "2s"}
	p0, addr, _ := rejoinHost(t, 2, common...)
	p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
	rejoinKillAfter(t, p1, p0, p1)
	killed := time.Now()
	rejoinWait(t, p0, rejoinDropped(1, "2s"), 30*time.Second)
	gone := regexp.MustCompile(`^p2pa: player 1 did not rejoin within 2s$`)
	rejoinWait(t, p0, gone, 15*time.Second)
	rejoinExit(t, p0, 20*time.Second)
	took := time.Since(killed)
	if took > 20*time.Second {
		t.Errorf("player 0 exited %v after the kill, want well under 30 s", took)
	}
	if p0.ExitCode() != 1 || !strings.Contains(cliStderr(p0), "before -frames "+rejoinFrames) {
		t.Errorf("player 0: exit %d, want 1 and \"before -frames %s\" in stderr\n%v", p0.ExitCode(), rejoinFrames, p0)
	}
	if d, g := rejoinIndex(p0, rejoinDropped(1, "2s")), rejoinIndex(p0, gone); d > g {
		t.Errorf("player 0 said player 1 did not rejoin before it said it dropped\n%v", p0)
	}
	frame, _ := resultOf(t, "player 0", p0)
	if n := mustAtoi(t, frame); n <= 0 || n >= mustAtoi(t, rejoinFrames) {
		t.Errorf("player 0 ended at frame %s, want one inside the match", frame)
	}
	if l := rejoinLines(p0, rejoinSurvivorRejoined(1)); len(l) > 0 {
		t.Errorf("player 0: %q, but nobody rejoined", l[0][0])
	}
	t.Logf("player 0 exited %v after the kill: %s; %s", took.Round(time.Millisecond), p0.LastLine(), strings.TrimSpace(cliStderr(p0)))
}

// TestRejoinThreePlayers: in a 3-player match player 2 is killed 5 s in and started again
// 2 s later (joining player 0); players 0 and 1 both pause, it rejoins, and all three end
// at frame 1500 on one checksum, exit 0.
func TestRejoinThreePlayers(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s match of three processes")
	}
	t.Parallel()
	common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames}
	p0, addr, _ := rejoinHost(t, 3, append([]string{"-mode", "versus"}, common...)...)
	p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
	p2cmd := joinerCmd(2, addr, common...)
	p2 := rejoinStart(t, "player 2", p2cmd...)
	rejoinKillAfter(t, p2, p0, p1, p2)
	time.Sleep(2 * time.Second)
	again := rejoinStart(t, "player 2 again", p2cmd...)
	rejoinSeen(t, 2, "30s", again, p0, p1)
	rejoinFinish(t, p0, p1, again)
}

// TestRejoinOff: with -rejoin 0 a killed player 1 ends the match as before: player 0
// prints "peer disconnected at frame", its result line last, and exits 1 before -frames.
func TestRejoinOff(t *testing.T) {
	if testing.Short() {
		t.Skip("a 12 s match of two processes")
	}
	t.Parallel()
	common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames, "-rejoin", "0"}
	p0, addr, _ := rejoinHost(t, 2, common...)
	p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
	rejoinKillAfter(t, p1, p0, p1)
	rejoinWait(t, p0, regexp.MustCompile(`^p2pa: peer disconnected at frame \d+$`), 30*time.Second)
	rejoinExit(t, p0, 20*time.Second)
	if p0.ExitCode() != 1 || !strings.Contains(cliStderr(p0), "before -frames "+rejoinFrames) {
		t.Errorf("player 0: exit %d, want 1 and \"before -frames %s\" in stderr\n%v", p0.ExitCode(), rejoinFrames, p0)
	}
	resultOf(t, "player 0", p0)
	if l := rejoinLines(p0, regexp.MustCompile(`dropped; waiting|rejoin`)); len(l) > 0 {
		t.Errorf("player 0 with -rejoin 0: %q\n%v", l[0][0], p0)
	}
	t.Logf("player 0: %s; %s", p0.LastLine(), strings.TrimSpace(cliStderr(p0)))
}

// TestRejoinQuickRestart: a supervisor restarts killed player 1 at once, 0.3 s or 0.6 s
// later, before player 0 has noticed the silence (-interrupt, 750 ms). The new process is
// not told "match full" (a seat held by a silent address is not taken by a player): player
// 0 pauses, it rejoins, and both end at frame 1500 on one checksum, exit 0. That checksum
// is the one the same seeded match ends on when nobody is killed (the README's promise):
// the resume frame varies with the timing, but every frame runs on the inputs it would
// have run on. Seed 4242.
func TestRejoinQuickRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s matches of two processes")
	}
	common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames}
	var mu sync.Mutex
	sums := map[string]string{}
	t.Run("group", func(t *testing.T) {
		t.Run("nobody killed", func(t *testing.T) {
			t.Parallel()
			p0, addr, _ := rejoinHost(t, 2, common...)
			p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
			rejoinFinish(t, p0, p1)
			_, sum := resultOf(t, "player 0", p0)
			mu.Lock()
			sums["nobody killed"] = sum
			mu.Unlock()
		})
		for _, back := range []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond} {
			t.Run(back.String(), func(t *testing.T) {
				t.Parallel()
				p0, addr, _ := rejoinHost(t, 2, common...)
				p1cmd := joinerCmd(1, addr, common...)
				p1 := rejoinStart(t, "player 1", p1cmd...)
				rejoinKillAfter(t, p1, p0, p1)
				time.Sleep(back)
				again := rejoinStart(t, "player 1 again", p1cmd...)
				rejoinSeen(t, 1, "30s", again, p0)
				rejoinFinish(t, p0, again)
				if strings.Contains(cliStderr(again), "match full") {
					t.Errorf("player 1 again was told %q", cliStderr(again))
				}
				_, sum := resultOf(t, "player 0", p0)
				mu.Lock()
				sums["restarted after "+back.String()] = sum
				mu.Unlock()
			})
		}
	})
	want := sums["nobody killed"]
	for name, sum := range sums {
		if sum != want {
			t.Errorf("%s: checksum %s; the match nobody left: %s (all: %v)", name, sum, want, sums)
		}
	}
}

// TestRejoinFourPlayers: in a 4-player match whose joiners were not given -players (they
// learn it from player 0), player 2 is killed and its command run again 2 s later, twice
// over. It rejoins each time (no "match full" from a survivor between two legs), player 0
// never reports the restart's first attempt (which expects the default count) as a refused
// rejoin, and all four end at frame 1500 on one checksum, the same both times (the rejoins
// happen at other frames). Seed 4242.
func TestRejoinFourPlayers(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s matches of four processes")
	}
	t.Parallel()
	var sums []string
	for try := range 2 {
		t.Run(strconv.Itoa(try), func(t *testing.T) {
			common := []string{"-seed", rejoinSeed, "-frames", rejoinFrames}
			p0, addr, _ := rejoinHost(t, 4, append([]string{"-mode", "versus"}, common...)...)
			p1 := rejoinStart(t, "player 1", joinerCmd(1, addr, common...)...)
			p2cmd := joinerCmd(2, addr, common...)
			p2 := rejoinStart(t, "player 2", p2cmd...)
			p3 := rejoinStart(t, "player 3", joinerCmd(3, addr, common...)...)
			rejoinKillAfter(t, p2, p0, p1, p2, p3)
			time.Sleep(2 * time.Second)
			again := rejoinStart(t, "player 2 again", p2cmd...)
			rejoinSeen(t, 2, "30s", again, p0, p1, p3)
			rejoinFinish(t, p0, p1, p3, again)
			for _, p := range []*proctest.Proc{p0, p1, p3} {
				if l := rejoinLines(p, rejoinRefused); len(l) > 0 {
					t.Errorf("%s: %q", p.Name(), l[0][0])
				}
			}
			_, sum := resultOf(t, "player 0", p0)
			sums = append(sums, sum)
		})
	}
	if len(sums) == 2 && sums[0] != sums[1] {
		t.Errorf("the two matches ended on checksums %s and %s", sums[0], sums[1])
	}
}

// TestRejoinSpectatorWatchesOn: two players and a spectator watching to -frames 1500;
// player 1 is killed 5 s in and started again 2 s later. The spectator watches on across
// the kill and the rejoin (player 0 keeps feeding it; it never restarts) and ends on the
// players' result line, without a line saying it stopped; a second spectator that asks
// player 0 after the rejoin watches too, and ends on the same line. Seed 4242.
func TestRejoinSpectatorWatchesOn(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s match of two processes and two spectators")
	}
	t.Parallel()
	p0, watcher, addr, _, common := watchedHost(t, 2)
	p1cmd := joinerCmd(1, addr, common...)
	p1 := rejoinStart(t, "player 1", p1cmd...)
	rejoinWait(t, watcher, proctest.Substring("watching a 2-player"), 30*time.Second, p0, p1)
	rejoinKillAfter(t, p1, p0, p1)
	time.Sleep(2 * time.Second)
	again := rejoinStart(t, "player 1 again", p1cmd...)
	rejoinSeen(t, 1, "30s", again, p0)
	late := rejoinStart(t, "late spectator", "-spectate", addr, "-headless", "-listen", "127.0.0.1:0", "-frames", rejoinFrames)
	rejoinWait(t, late, proctest.Substring("watching a 2-player"), 30*time.Second, p0, again)
	rejoinFinish(t, p0, again, watcher, late)
	for _, sp := range []*proctest.Proc{watcher, late} {
		if l := rejoinLines(sp, regexp.MustCompile(`stopped answering|ended the match|cannot follow`)); len(l) > 0 {
			t.Errorf("%s: %q, but the match went on to frame %s\n%v", sp.Name(), l[0][0], rejoinFrames, sp)
		}
		t.Logf("%s: %s", sp.Name(), sp.LastLine())
	}
}
