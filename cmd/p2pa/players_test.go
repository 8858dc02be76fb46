//go:build unix

package main

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

var cliFrameSum = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16}) `)

// startHost starts player 0 of an n-player match on a free port and waits until it listens;
// it returns the process and its address.
func startHost(t *testing.T, timeout time.Duration, n int, args ...string) (*proctest.Proc, string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port := proctest.FreeUDPPort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p0 := cliStart(t, timeout, nil, append([]string{"-p", "0", "-listen", addr, "-players", strconv.Itoa(n), "-headless", "-bot"}, args...)...)
		if _, err := p0.WaitLine(t.Context(), proctest.Substring("waiting for player")); err != nil {
			if p0.ExitCode() == 2 && strings.Contains(cliStderr(p0), "in use") && attempt < 5 {
				t.Logf("port %d taken meanwhile; another one", port)
				continue
			}
			t.Fatalf("player 0 did not start: %v", p0)
		}
		return p0, addr
	}
}

// resultOf is the frame and checksum of p's result line, which must be its last.
func resultOf(t *testing.T, name string, p *proctest.Proc) (frame, sum string) {
	t.Helper()
	m := cliFrameSum.FindStringSubmatch(p.LastLine() + " ")
	if m == nil {
		t.Fatalf("%s: last line %q is not a result line\n%v", name, p.LastLine(), p)
	}
	return m[1], m[2]
}

// TestFourPlayers: player 0 hosts -players 4 -mode versus; players 1-3 join with player 0's
// address only (player 0 introduces them to each other), a spectator joins 3 s later (after
// another was killed), and all five end on the same checksum of frame 900.
func TestFourPlayers(t *testing.T) {
	if testing.Short() {
		t.Skip("a 15 s match of four processes")
	}
	t.Parallel()
	p0, addr := startHost(t, 90*time.Second, 4, "-mode", "versus", "-frames", "900")
	procs := []*proctest.Proc{p0}
	for k := 1; k < 4; k++ {
		procs = append(procs, cliStart(t, 90*time.Second, nil,
			"-p", strconv.Itoa(k), "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "900"))
	}
	// A spectator that is killed a second after it joins costs the players nothing; one that
	// joins 3 s late fast-forwards and ends on the players' checksum.
	doomed := cliStart(t, 90*time.Second, nil, "-spectate", addr, "-headless", "-listen", "127.0.0.1:0")
	time.Sleep(3 * time.Second)
	doomed.Signal(syscall.SIGKILL)
	watcher := cliStart(t, 90*time.Second, nil, "-spectate", addr, "-headless", "-frames", "900", "-listen", "127.0.0.1:0")
	var want string
	for k, p := range procs {
		<-p.Exited()
		if p.ExitCode() != 0 {
			t.Fatalf("player %d: %v", k, p)
		}
		frame, sum := resultOf(t, "player "+strconv.Itoa(k), p)
		if frame != "900" || (want != "" && sum != want) {
			t.Errorf("player %d: frame %s checksum %s, player 0's checksum %s", k, frame, sum, want)
		}
		if k == 0 {
			want = sum
		}
		t.Logf("player %d: %s", k, p.LastLine())
	}
	<-watcher.Exited()
	if watcher.ExitCode() != 0 {
		t.Fatalf("spectator: %v", watcher)
	}
	if frame, sum := resultOf(t, "spectator", watcher); frame != "900" || sum != want {
		t.Errorf("spectator: frame %s checksum %s, the players' %s", frame, sum, want)
	}
}

var cliPlayerLeft = regexp.MustCompile(`^p2pa: player 2 left at frame (\d+)$`)

// TestThreePlayersOneKilled: player 2 plays behind a bad link and is killed 6 s in; the other
// two print the same "player 2 left at frame F", play on to frame 1200 and agree there. With
// -rejoin 0 they play on at once (rejoin_test.go has the pause).
func TestThreePlayersOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("a 25 s match of three processes")
	}
	t.Parallel()
	p0, addr := startHost(t, 120*time.Second, 3, "-mode", "versus", "-frames", "1200", "-rejoin", "0")
	p1 := cliStart(t, 120*time.Second, nil, "-p", "1", "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "1200", "-rejoin", "0")
	p2 := cliStart(t, 120*time.Second, nil, "-p", "2", "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "1200", "-rejoin", "0",
		"-netsim", "latency=80ms,jitter=20ms,loss=20%")
	for _, p := range []*proctest.Proc{p0, p1, p2} {
		if _, err := p.WaitLine(t.Context(), proctest.Substring("connected")); err != nil {
			t.Fatalf("%v did not start: %v", p, err)
		}
	}
	time.Sleep(6 * time.Second)
	p2.Signal(syscall.SIGKILL)
	var frames [2]string
	var sums [2]string
	for i, p := range []*proctest.Proc{p0, p1} {
		<-p.Exited()
		if p.ExitCode() != 0 {
			t.Fatalf("player %d: %v", i, p)
		}
		stdout, _ := p.Output()
		var left []string
		for _, l := range stdout {
			if m := cliPlayerLeft.FindStringSubmatch(l); m != nil {
				left = append(left, m[1])
			}
		}
		if len(left) != 1 {
			t.Fatalf("player %d: %d departure lines, want one\n%v", i, len(left), p)
		}
		frames[i] = left[0]
		var frame string
		frame, sums[i] = resultOf(t, "player "+strconv.Itoa(i), p)
		if frame != "1200" {
			t.Errorf("player %d ended at frame %s, want 1200", i, frame)
		}
		t.Logf("player %d: player 2 left at frame %s; %s", i, left[0], p.LastLine())
	}
	if frames[0] != frames[1] || sums[0] != sums[1] {
		t.Errorf("the survivors disagree: departure frames %v, checksums %v", frames, sums)
	}
}

// TestSeatsRefused: a joiner asking for a seat that is taken, or one the match does not
// have, is refused with a clear line, and player 0 goes on waiting for the missing player.
func TestSeatsRefused(t *testing.T) {
	t.Parallel()
	p0, addr := startHost(t, 60*time.Second, 3)
	p1 := cliStart(t, 60*time.Second, nil, "-p", "1", "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot")
	if _, err := p0.WaitLine(t.Context(), proctest.Substring("player 1 is in")); err != nil {
		t.Fatalf("player 1 was not seated: %v\n%v", err, p0)
	}
	for _, tc := range []struct {
		seat string
		want string
	}{
		{"1", "match full"},
		{"3", "-p 3: the match at " + addr + " has 3 players (0..2)"},
	} {
		p := cliRun(t, 30*time.Second, nil, "-p", tc.seat, "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot")
		if p.ExitCode() == 0 || !strings.Contains(cliStderr(p), tc.want) {
			t.Errorf("-p %s: exit %d, stderr %q; want a failure saying %q", tc.seat, p.ExitCode(), cliStderr(p), tc.want)
		}
	}
	select {
	case <-p0.Exited():
		t.Fatalf("player 0 gave up: %v", p0)
	case <-p1.Exited():
		t.Fatalf("player 1 gave up: %v", p1)
	default:
	}
	if stdout, _ := p0.Output(); !strings.Contains(strings.Join(stdout, "\n"), "waiting for players 2") {
		t.Errorf("player 0 does not say it waits for player 2:\n%v", p0)
	}
}

// TestJoinerAdoptsHostGame: a joiner plays what player 0 hosts. One not given -mode or
// -coins takes player 0's (as it takes its seed and player count), plays to the end and
// agrees with it; one given a different -mode or -coins fails, naming the flag to change,
// and player 0 keeps waiting for a player who fits.
func TestJoinerAdoptsHostGame(t *testing.T) {
	if testing.Short() {
		t.Skip("two matches of two processes")
	}
	t.Parallel()
	for _, tc := range []struct {
		name       string
		host, join []string
		refused    string // the joiner's error, or "" for a match both finish
	}{
		{name: "versus and coins", host: []string{"-mode", "versus", "-coins", "80"}},
		{name: "coins", host: []string{"-coins", "7"}, join: []string{"-mode", "classic"}},
		{name: "explicit mode", host: []string{"-mode", "versus", "-coins", "80"}, join: []string{"-mode", "classic"},
			refused: "plays -mode versus, and we were given -mode classic: give -mode versus, or leave -mode out"},
		{name: "explicit coins", host: []string{"-coins", "80"}, join: []string{"-coins", "50"},
			refused: "plays -coins 80, and we were given -coins 50: give -coins 80, or leave -coins out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p0, addr := startHost(t, 60*time.Second, 2, append([]string{"-frames", "300", "-seed", "5"}, tc.host...)...)
			p1 := cliStart(t, 60*time.Second, nil, append([]string{"-p", "1", "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "300"}, tc.join...)...)
			<-p1.Exited()
			if tc.refused != "" {
				if p1.ExitCode() != 1 || !strings.Contains(cliStderr(p1), tc.refused) {
					t.Errorf("joiner: want exit 1 saying %q\n%v", tc.refused, p1)
				}
				select {
				case <-p0.Exited():
					t.Errorf("player 0 ended on a joiner that plays another game\n%v", p0)
				default:
				}
				p0.Signal(syscall.SIGKILL)
				return
			}
			<-p0.Exited()
			if p0.ExitCode() != 0 || p1.ExitCode() != 0 {
				t.Fatalf("exit statuses %d and %d\n%v\n%v", p0.ExitCode(), p1.ExitCode(), p0, p1)
			}
			if !strings.Contains(cliStdout(p1), "p2pa: the match at "+addr+" plays") {
				t.Errorf("the joiner did not say it adopted player 0's game\n%v", p1)
			}
			f0, sum0 := resultOf(t, "player 0", p0)
			f1, sum1 := resultOf(t, "player 1", p1)
			if f0 != "300" || f1 != f0 || sum1 != sum0 {
				t.Errorf("player 0 ended at frame %s checksum %s, player 1 at frame %s checksum %s", f0, sum0, f1, sum1)
			}
		})
	}
}

// leftWord finds "left" as a word ("player 0 left", "peer left at"), not in "coins_left".
var leftWord = regexp.MustCompile(`\bleft\b`)

// TestSpectatorsAtTheEnd: a match that simply reaches its -frames does not make its
// spectators claim that player 0 left. One watching to -frames ends on the players' result
// line; one watching without -frames says player 0 ended the match there.
func TestSpectatorsAtTheEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a 5 s match of four processes")
	}
	t.Parallel()
	p0, addr := startHost(t, 60*time.Second, 2, "-frames", "300", "-seed", "11")
	to := cliStart(t, 60*time.Second, nil, "-spectate", addr, "-headless", "-frames", "300", "-listen", "127.0.0.1:0")
	open := cliStart(t, 60*time.Second, nil, "-spectate", addr, "-headless", "-listen", "127.0.0.1:0")
	for _, s := range []*proctest.Proc{to, open} {
		if _, err := s.WaitLine(t.Context(), proctest.Substring("watching the match")); err != nil {
			t.Fatalf("spectator did not start: %v", s)
		}
	}
	p1 := cliStart(t, 60*time.Second, nil, "-p", "1", "-peer", addr, "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "300")
	for _, p := range []*proctest.Proc{p0, p1, to, open} {
		<-p.Exited()
		if p.ExitCode() != 0 {
			t.Fatalf("exit %d\n%v", p.ExitCode(), p)
		}
		if leftWord.MatchString(cliStdout(p)) {
			t.Errorf("a match that reached -frames 300 says someone left\n%v", p)
		}
	}
	_, want := resultOf(t, "player 0", p0)
	if frame, sum := resultOf(t, "spectator", to); frame != "300" || sum != want {
		t.Errorf("spectator: frame %s checksum %s, the players' %s", frame, sum, want)
	}
	if !strings.Contains(cliStdout(open), "p2pa: player 0 ended the match at frame 300\n") {
		t.Errorf("the spectator without -frames does not say where player 0 ended the match\n%v", open)
	}
}
