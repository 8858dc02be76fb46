package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests run the real binary, built once into a temporary directory.
var cliBinary string

func TestMain(m *testing.M) {
	os.Exit(cliTestMain(m))
}

func cliTestMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "p2pa-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cliBinary = filepath.Join(dir, "p2pa")
	build := exec.Command(goTool, "build", "-o", cliBinary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// cliProc is a running p2pa.
type cliProc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	mu     sync.Mutex
	lines  []string      // stdout, line by line
	ready  chan struct{} // closed when stdout shows a line containing readyOn
	done   chan struct{} // closed once the process exited and its output is read
	code   int
}

// start runs p2pa with args; it is killed when the test ends or after timeout. readyOn
// (if not "") is a stdout line fragment that closes p.ready.
func cliStart(t *testing.T, timeout time.Duration, env []string, readyOn string, args ...string) *cliProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	p := &cliProc{ready: make(chan struct{}), done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, cliBinary, args...)
	p.cmd.Env = env
	p.cmd.Stderr = &p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		defer cancel()
		sc := bufio.NewScanner(out)
		readySent := false
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			if !readySent && readyOn != "" && strings.Contains(sc.Text(), readyOn) {
				close(p.ready)
				readySent = true
			}
		}
		err := p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		if err != nil && p.code == 0 {
			p.code = -1
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait waits for the process to exit (it is killed at its deadline).
func (p *cliProc) wait() {
	<-p.done
}

func (p *cliProc) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func (p *cliProc) lastLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) == 0 {
		return ""
	}
	return p.lines[len(p.lines)-1]
}

func (p *cliProc) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", p.code, p.stdout(), p.stderr.String())
}

// cliRun runs p2pa to the end.
func cliRun(t *testing.T, timeout time.Duration, env []string, args ...string) *cliProc {
	t.Helper()
	p := cliStart(t, timeout, env, "", args...)
	p.wait()
	return p
}

// cliFreePort finds a UDP port on loopback that was free a moment ago.
func cliFreePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
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
			var p0, p1 *cliProc
			for attempt := 0; ; attempt++ {
				port := cliFreePort(t)
				p0 = cliStart(t, 60*time.Second, nil, "waiting for player 1",
					"-p", "0", "-listen", "127.0.0.1:"+strconv.Itoa(port), "-headless", "-bot", "-frames", "300")
				select {
				case <-p0.ready:
				case <-p0.done:
					if p0.code == 2 && strings.Contains(p0.stderr.String(), "in use") && attempt < 5 {
						t.Logf("port %d taken meanwhile; another one", port)
						continue
					}
					t.Fatalf("player 0 did not start: %v", p0)
				}
				args := []string{"-p", "1", "-peer", "127.0.0.1:" + strconv.Itoa(port), "-listen", "127.0.0.1:0", "-headless", "-bot", "-frames", "300"}
				if tc.netsim != "" {
					args = append(args, "-netsim", tc.netsim)
				}
				p1 = cliStart(t, 60*time.Second, nil, "", args...)
				break
			}
			p0.wait()
			p1.wait()
			var frame, sum [2]string
			for i, p := range []*cliProc{p0, p1} {
				if p.code != 0 {
					t.Fatalf("player %d: %v", i, p)
				}
				m := cliResultLine.FindStringSubmatch(p.lastLine())
				if m == nil {
					t.Fatalf("player %d: last line %q is not a result line\n%v", i, p.lastLine(), p)
				}
				frame[i], sum[i] = m[1], m[2]
				rtt, _ := strconv.ParseFloat(m[4], 64)
				if rtt < tc.minRTT {
					t.Errorf("player %d: rtt %v ms, want at least %v", i, rtt, tc.minRTT)
				}
				t.Logf("player %d: %s", i, p.lastLine())
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
		{[]string{"-p", "7"}, []string{"-p 7", "0..3"}},
		{[]string{"-frames", "-1"}, []string{"-frames -1"}},
		{[]string{"-check", "20", "-maxpred", "8"}, []string{"-check 20", "-maxpred 8"}},
		{[]string{"-listen", "not an address"}, []string{"-listen", "not an address"}},
		{[]string{"-p", "1", "-peer", "nohost"}, []string{"-peer", "nohost"}},
		{[]string{"-p", "1"}, []string{"-peer", "player 1"}},
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
			stderr := p.stderr.String()
			if p.code != 2 {
				t.Errorf("exit %d, want 2\n%v", p.code, p)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "p2pa: ") {
				t.Errorf("stderr is not one line starting with \"p2pa: \": %q", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			if p.stdout() != "" {
				t.Errorf("stdout: %q", p.stdout())
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
			if p.code != 0 {
				t.Fatalf("mode %s seed %s: %v", mode, seed, p)
			}
			m := cliSyncTestLine.FindStringSubmatch(p.lastLine())
			if m == nil {
				t.Fatalf("mode %s seed %s: last line %q\n%v", mode, seed, p.lastLine(), p)
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
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	env = append(env, "DISPLAY=", "WAYLAND_DISPLAY=")
	for _, args := range [][]string{nil, {"-p", "1", "-peer", "127.0.0.1:7000"}} {
		p := cliRun(t, 30*time.Second, env, args...)
		stderr := p.stderr.String()
		if p.code != 1 {
			t.Errorf("%q: exit %d, want 1\n%v", args, p.code, p)
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
		if p.code != 0 {
			t.Errorf("%s: exit %d, want 0\n%v", flag, p.code, p)
		}
		usage := p.stderr.String() + p.stdout()
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
