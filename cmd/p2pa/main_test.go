package main

import (
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// The tests run the real binary, built once for all of them (over any -count) and removed
// after the last.
func TestMain(m *testing.M) {
	proctest.Main(m)
}

func cliBinary(t *testing.T) string {
	t.Helper()
	return filepath.Join(proctest.Build(t, "p2pa/cmd/p2pa"), "p2pa")
}

// cliStart runs p2pa with args and env added to the test's environment; it is killed when
// the test ends or after timeout.
func cliStart(t *testing.T, timeout time.Duration, env []string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, "p2pa", cliBinary(t), args, proctest.Env(env...), proctest.KillAfter(timeout))
}

// cliRun runs p2pa to the end.
func cliRun(t *testing.T, timeout time.Duration, env []string, args ...string) *proctest.Proc {
	t.Helper()
	p := cliStart(t, timeout, env, args...)
	<-p.Exited()
	return p
}

func cliStdout(p *proctest.Proc) string {
	stdout, _ := p.Output()
	return strings.Join(stdout, "\n")
}

func cliStderr(p *proctest.Proc) string {
	_, stderr := p.Output()
	return stderr
}

var cliResultLine = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16}) rollbacks=(\d+) rtt_ms=([0-9.]+)$`)

// TestTwoHeadlessPeers plays a real match between two processes over loopback.
func TestTwoHeadlessPeers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		netsim string // on player 1's side
		minRTT float64
	}{
		{"loopback", "", 0},
		// latency=20ms on one peer shapes both directions: at least 40 ms a round trip.
		{"netsim", "latency=20ms,jitter=5ms,loss=5%,dup=1%,reorder=1%", 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var p0, p1 *proctest.Proc
			for attempt := 0; ; attempt++ {
				port := proctest.FreeUDPPort(t)
				p0 = cliStart(t, 60*time.Second, nil,
					"-p", "0", "-listen", "127.0.0.1:"+strconv.Itoa(port), "-headless", "-bot", "-frames", "300")
				// Until it prints that line or exits; it is killed after 60 s.
				if _, err := p0.WaitLine(t.Context(), proctest.Substring("waiting for player 1")); err != nil {
					if p0.ExitCode() == 2 && strings.Contains(cliStderr(p0), "in use") && attempt < 5 {
						t.Logf("port %d taken meanwhile; another one", port)
						continue
					}
					t.Fatalf("player 0 did not start: %v", p0)
				}
				args := []string{"-p", "1", "-peer", "127.0.0.1:" + strconv.Itoa(port), "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "300"}
				if tc.netsim != "" {
					args = append(args, "-netsim", tc.netsim)
				}
				p1 = cliStart(t, 60*time.Second, nil, args...)
				break
			}
			<-p0.Exited()
			<-p1.Exited()
			var frame, sum [2]string
			for i, p := range []*proctest.Proc{p0, p1} {
				if p.ExitCode() != 0 {
					t.Fatalf("player %d: %v", i, p)
				}
				m := cliResultLine.FindStringSubmatch(p.LastLine())
				if m == nil {
					t.Fatalf("player %d: last line %q is not a result line\n%v", i, p.LastLine(), p)
				}
				frame[i], sum[i] = m[1], m[2]
				rtt, _ := strconv.ParseFloat(m[4], 64)
				if rtt < tc.minRTT {
					t.Errorf("player %d: rtt %v ms, want at least %v", i, rtt, tc.minRTT)
				}
				t.Logf("player %d: %s", i, p.LastLine())
			}
			if frame != [2]string{"300", "300"} || sum[0] != sum[1] {
				t.Errorf("the peers disagree: frame %v, checksum %v", frame, sum)
			}
		})
	}
}

// TestBadArguments: one line on stderr naming what is wrong, exit status 2.
func TestBadArguments(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	busyPort := strconv.Itoa(busy.LocalAddr().(*net.UDPAddr).Port)
	for _, tc := range []struct {
		args []string
		want []string // fragments of the error line
	}{
		{[]string{"-bogus"}, []string{"-bogus"}},
		{[]string{"-p", "7"}, []string{"-p 7", "a 2-player game has players 0..1"}},
		{[]string{"-p", "-1"}, []string{"-p -1", "a 2-player game has players 0..1"}},
		{[]string{"-frames", "-1"}, []string{"-frames -1"}},
		{[]string{"-check", "20", "-maxpred", "8"}, []string{"-check 20", "-maxpred 8"}},
		{[]string{"-listen", "not an address"}, []string{"-listen", "not an address"}},
		{[]string{"-p", "1", "-peer", "nohost"}, []string{"-peer", "nohost"}},
		{[]string{"-p", "1", "-join", "no spaces"}, []string{"-join", "no spaces"}},
		{[]string{"-name", "a.b"}, []string{"-name", "a.b"}},
		{[]string{"-p", "0", "-listen", "127.0.0.1:" + busyPort}, []string{"127.0.0.1:" + busyPort, "in use"}},
		{[]string{"-mode", "bogus"}, []string{"-mode bogus", "classic or versus"}},
		{[]string{"-netsim", "loss=200%"}, []string{"-netsim", "loss"}},
		{[]string{"-delay", "99"}, []string{"-delay 99"}},
		{[]string{"extra"}, []string{`"extra"`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			// -headless, so that a check that wrongly passes starts a match (and times out
			// as a failure) instead of looking for a window.
			p := cliRun(t, 30*time.Second, nil, append(tc.args, "-headless", "-bot")...)
			stderr := cliStderr(p)
			if p.ExitCode() != 2 {
				t.Errorf("exit %d, want 2\n%v", p.ExitCode(), p)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "p2pa: ") {
				t.Errorf("stderr is not one line starting with \"p2pa: \": %q", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			if cliStdout(p) != "" {
				t.Errorf("stdout: %q", cliStdout(p))
			}
		})
	}
}

var cliSyncTestLine = regexp.MustCompile(`^synctest frames=20000 rollbacks=(\d+) mismatches=0 checksum=([0-9a-f]{16})$`)

func TestSyncTest(t *testing.T) {
	sums := map[string]string{}
	for _, mode := range []string{"classic", "versus"} {
		for _, seed := range []string{"7", "7", "8"} {
			p := cliRun(t, 60*time.Second, nil, "-synctest", "-frames", "20000", "-seed", seed, "-mode", mode)
			if p.ExitCode() != 0 {
				t.Fatalf("mode %s seed %s: %v", mode, seed, p)
			}
			m := cliSyncTestLine.FindStringSubmatch(p.LastLine())
			if m == nil {
				t.Fatalf("mode %s seed %s: last line %q\n%v", mode, seed, p.LastLine(), p)
			}
			if n, _ := strconv.Atoi(m[1]); n < 19000 {
				t.Errorf("mode %s seed %s: %d rollbacks in 20000 frames", mode, seed, n)
			}
			key := mode + " " + seed
			if prev, ok := sums[key]; ok && prev != m[2] {
				t.Errorf("%s: checksum %s, then %s", key, prev, m[2])
			}
			sums[key] = m[2]
		}
	}
	t.Logf("%v", sums)
	seen := map[string]string{}
	for key, sum := range sums {
		if other, ok := seen[sum]; ok {
			t.Errorf("%s and %s end with the same checksum %s", key, other, sum)
		}
		seen[sum] = key
	}
}

func TestNoDisplay(t *testing.T) {
	env := []string{"DISPLAY=", "WAYLAND_DISPLAY="} // in place of the test's own
	// -replay without a display needs -headless, not a bot.
	p := cliRun(t, 30*time.Second, env, "-replay", "match.rec")
	if stderr := cliStderr(p); p.ExitCode() != 1 || !strings.Contains(stderr, "-headless") || strings.Contains(stderr, "-bot") {
		t.Errorf("-replay without a display: exit %d, stderr %q; want 1 and a hint of -headless alone", p.ExitCode(), stderr)
	}
	for _, args := range [][]string{nil, {"-p", "1", "-peer", "127.0.0.1:7000"}} {
		p := cliRun(t, 30*time.Second, env, args...)
		stderr := cliStderr(p)
		if p.ExitCode() != 1 {
			t.Errorf("%q: exit %d, want 1\n%v", args, p.ExitCode(), p)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "-headless") || !strings.Contains(stderr, "display") {
			t.Errorf("%q: want one line suggesting -headless, got %q", args, stderr)
		}
		if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
			t.Errorf("%q: a stack trace: %q", args, stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, flag := range []string{"-h", "-help", "--help"} {
		p := cliRun(t, 30*time.Second, nil, flag)
		if p.ExitCode() != 0 {
			t.Errorf("%s: exit %d, want 0\n%v", flag, p.ExitCode(), p)
		}
		// Help that was asked for is output: all of it on stdout, nothing on stderr.
		if cliStderr(p) != "" {
			t.Errorf("%s: stderr %q, want nothing", flag, cliStderr(p))
		}
		usage := cliStdout(p)
		for _, want := range []string{
			"Usage:",
			"One machine",
			"p2pa -p 0 -listen 127.0.0.1:7000",
			"p2pa -p 1 -peer 127.0.0.1:7000",
			"Two machines",
			"p2pa -p 0 -listen :7000",
			"p2pa -p 1 -peer 192.168.1.20:7000",
			"-headless",
			"-netsim",
			"-synctest",
		} {
			if !strings.Contains(usage, want) {
				t.Errorf("%s: usage lacks %q:\n%s", flag, want, usage)
			}
		}
	}
}
