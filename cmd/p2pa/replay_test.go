package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"p2pa/internal/peer"
)

// replayBuildState holds the p2pa binary built once for this file's test.
type replayBuildState struct {
	once sync.Once
	dir  string
	path string
	err  error
}

var replayBuild replayBuildState

// replayBinary builds p2pa once into a temporary directory, which the test that triggered
// the build removes when it ends: the binary serves that test and its subtests. This file
// has one top-level test, which is not parallel; the cleanup resets the state so that
// -count=N builds again for the next run.
func replayBinary(t *testing.T) string {
	t.Helper()
	b := &replayBuild
	built := false
	b.once.Do(func() {
		built = true
		b.dir, b.err = os.MkdirTemp("", "p2pa-replay-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "p2pa")
		out, err := exec.Command("go", "build", "-o", b.path, "p2pa/cmd/p2pa").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build p2pa/cmd/p2pa: %v\n%s", err, out)
		}
	})
	if built && b.dir != "" {
		t.Cleanup(func() {
			os.RemoveAll(b.dir)
			replayBuild = replayBuildState{}
		})
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// replayProc is a running p2pa whose stdout lines are collected as they come, so the test
// waits for a line or the exit instead of sleeping.
type replayProc struct {
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []string
	stderr bytes.Buffer
	more   chan struct{} // closed and replaced on every new line

	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
}

type replayLocked struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l replayLocked) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// replayStart runs bin and kills it when the test ends if it is still running.
func replayStart(t *testing.T, name, bin string, args ...string) *replayProc {
	t.Helper()
	p := &replayProc{name: name, more: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = replayLocked{&p.mu, &p.stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Logf("%s: pid %d: p2pa %s", name, p.cmd.Process.Pid, strings.Join(args, " "))
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, out)
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			t.Logf("%s: still running at the end of the test; killing pid %d", name, p.cmd.Process.Pid)
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitLine waits for a stdout line containing substr; false if the process exited first.
func (p *replayProc) waitLine(t *testing.T, substr string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.lines); seen++ {
			if strings.Contains(p.lines[seen], substr) {
				p.mu.Unlock()
				return true
			}
		}
		more := p.more
		p.mu.Unlock()
		select {
		case <-more:
		case <-p.exited:
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if seen == n {
				return false
			}
		case <-deadline:
			t.Fatalf("%s: no line with %q after %v\n%s", p.name, substr, timeout, p.dump())
		}
	}
}

// wait waits for the exit and returns the exit code.
func (p *replayProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("%s: still running after %v\n%s", p.name, timeout, p.dump())
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	}
	t.Fatalf("%s: %v", p.name, p.err)
	return -1
}

func (p *replayProc) output() (stdout []string, stderr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lines), p.stderr.String()
}

func (p *replayProc) dump() string {
	out, errs := p.output()
	return fmt.Sprintf("--- %s stdout:\n%s\n--- %s stderr:\n%s", p.name, strings.Join(out, "\n"), p.name, errs)
}

// replayFreePort finds a UDP port on loopback that was free a moment ago.
func replayFreePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// replayMatch runs two headless bot peers on loopback until both exit, player 0 on a free
// port (retried if another process takes it first). extra[p] are player p's further flags.
func replayMatch(t *testing.T, bin string, frames int, extra [2][]string) [2]*replayProc {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := replayFreePort(t)
		common := []string{"-headless", "-bot", "-frames", fmt.Sprint(frames)}
		args0 := append(append([]string{"-p", "0", "-listen", fmt.Sprintf("127.0.0.1:%d", port)}, common...), extra[0]...)
		p0 := replayStart(t, "player 0", bin, args0...)
		if !p0.waitLine(t, "listening on", 30*time.Second) {
			code := p0.wait(t, 10*time.Second)
			_, errs := p0.output()
			if attempt < 5 && strings.Contains(errs, "address already in use") {
				t.Logf("port %d was taken; trying another", port)
				continue
			}
			t.Fatalf("player 0 exited with %d before listening\n%s", code, p0.dump())
		}
		args1 := append(append([]string{"-p", "1", "-peer", fmt.Sprintf("127.0.0.1:%d", port), "-listen", "127.0.0.1:0"}, common...), extra[1]...)
		p1 := replayStart(t, "player 1", bin, args1...)
		return [2]*replayProc{p0, p1}
	}
}

var resultLine = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16}) rollbacks=(\d+) rtt_ms=\d+\.\d\d$`)

// lastResult parses the result line, which must be the last line printed.
func lastResult(t *testing.T, p *replayProc) (frame, checksum string, rollbacks int) {
	t.Helper()
	out, _ := p.output()
	if len(out) == 0 {
		t.Fatalf("%s printed nothing\n%s", p.name, p.dump())
	}
	m := resultLine.FindStringSubmatch(out[len(out)-1])
	if m == nil {
		t.Fatalf("%s: last line %q is not a result line\n%s", p.name, out[len(out)-1], p.dump())
	}
	fmt.Sscan(m[3], &rollbacks)
	return m[1], m[2], rollbacks
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestRecordAndReplayHeadless: a live match of two p2pa processes, one behind a bad
// emulated link, recorded by both; replaying either recording prints the live match's
// final frame and checksum, to the bit. Replays of other versions, truncated replays and
// failed recordings end with a clear error and leave nothing half-written.
func TestRecordAndReplayHeadless(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a 10-second match over loopback")
	}
	bin := replayBinary(t)
	dir := t.TempDir()
	rec := [2]string{filepath.Join(dir, "p0.replay"), filepath.Join(dir, "p1.replay")}
	const netsim = "latency=30ms,jitter=10ms,loss=5%,dup=1%,reorder=1%"
	start := time.Now()
	ps := replayMatch(t, bin, 600, [2][]string{
		{"-record", rec[0]},
		{"-netsim", netsim, "-record", rec[1]},
	})
	var frame, sum [2]string
	rollbacks := 0
	for i, p := range ps {
		if code := p.wait(t, 3*time.Minute); code != 0 {
			t.Fatalf("%s exited with %d\n%s", p.name, code, p.dump())
		}
		var rb int
		frame[i], sum[i], rb = lastResult(t, p)
		rollbacks += rb
		if frame[i] != "600" {
			t.Errorf("%s ended at frame %s, want 600\n%s", p.name, frame[i], p.dump())
		}
	}
	t.Logf("live match: frame=%s checksum=%s, %d rollbacks in all, %v", frame[0], sum[0], rollbacks, time.Since(start).Round(time.Millisecond))
	if sum[0] != sum[1] {
		t.Fatalf("the live peers disagree: %s and %s\n%s\n%s", sum[0], sum[1], ps[0].dump(), ps[1].dump())
	}
	if rollbacks == 0 {
		t.Errorf("no rollbacks: the emulated link did not bite")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"p0.replay", "p1.replay"}) {
		t.Errorf("the recording directory holds %q", names)
	}
	data := [2][]byte{}
	for i, path := range rec {
		var err error
		if data[i], err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
		r, err := peer.ReadReplay(path)
		if err != nil {
			t.Fatal(err)
		}
		if r.Frames != 600 || r.Players != 2 || fmt.Sprintf("%016x", r.Checksum) != sum[i] {
			t.Errorf("%s: %d frames of %d players ending on %016x; the match ended at frame 600 on %s", path, r.Frames, r.Players, r.Checksum, sum[i])
		}
	}
	// Both peers recorded the same confirmed inputs.
	if !bytes.Equal(data[0], data[1]) {
		t.Errorf("the two recordings differ (%d and %d bytes)", len(data[0]), len(data[1]))
	}

	replay := func(t *testing.T, path string) (code int, p *replayProc) {
		p = replayStart(t, "replay "+filepath.Base(path), bin, "-replay", path, "-headless")
		return p.wait(t, time.Minute), p
	}
	for i, path := range rec {
		code, p := replay(t, path)
		if code != 0 {
			t.Fatalf("replay of %s exited with %d\n%s", path, code, p.dump())
		}
		f, s, _ := lastResult(t, p)
		if f != frame[i] || s != sum[i] {
			t.Errorf("replay of %s: frame=%s checksum=%s; live player %d: frame=%s checksum=%s", path, f, s, i, frame[i], sum[i])
		}
	}

	t.Run("refused", func(t *testing.T) {
		bad := t.TempDir()
		cases := []struct {
			name string
			data []byte
			want string
		}{
			{"format", mutateAt(data[0], 10, 2), "replay format 2, this p2pa reads format 1"},
			{"protocol", mutateAt(data[0], 11, 99), "recorded with protocol 99"},
			{"truncated", data[0][:len(data[0])-3], "bytes of inputs for 600 frames"},
			{"header", data[0][:20], "truncated header"},
			{"garbage", []byte("not a replay at all"), "not a p2pa replay file"},
		}
		for _, c := range cases {
			path := filepath.Join(bad, c.name+".replay")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			code, p := replay(t, path)
			out, errs := p.output()
			if code != 1 || len(out) != 0 || !strings.Contains(errs, path) || !strings.Contains(errs, c.want) ||
				strings.Count(strings.TrimSpace(errs), "\n") != 0 || strings.Contains(errs, "panic") {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1, no output and one line with %q", c.name, code, out, errs, c.want)
			}
		}
	})

	t.Run("failed recording", func(t *testing.T) {
		// Player 0 records into a directory that does not exist: the match itself ends
		// normally, the recording error is reported, the exit status is 1 and no file or
		// temporary file is left.
		out := t.TempDir()
		ps := replayMatch(t, bin, 60, [2][]string{{"-record", filepath.Join(out, "missing", "p0.replay")}, nil})
		if code := ps[1].wait(t, 2*time.Minute); code != 0 {
			t.Errorf("player 1 exited with %d\n%s", code, ps[1].dump())
		}
		code := ps[0].wait(t, 2*time.Minute)
		lines, _ := ps[0].output()
		if code != 1 || !slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(l, "p2pa: recording: write ") && strings.Contains(l, "no such file or directory")
		}) {
			t.Errorf("player 0: exit %d; want 1 and a recording error\n%s", code, ps[0].dump())
		}
		if f, _, _ := lastResult(t, ps[0]); f != "60" {
			t.Errorf("player 0 ended at frame %s, want 60", f)
		}
		if names := dirNames(t, out); len(names) != 0 {
			t.Errorf("left %q behind", names)
		}
	})
}

func mutateAt(b []byte, off int, v byte) []byte {
	c := slices.Clone(b)
	c[off] = v
	return c
}
