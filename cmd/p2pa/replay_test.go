package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"p2pa/internal/peer"
	"p2pa/internal/proctest"
)

// replayStart runs bin; it is killed when the test ends if it is still running.
func replayStart(t *testing.T, name, bin string, args ...string) *proctest.Proc {
	t.Helper()
	p := proctest.Start(t, name, bin, args)
	t.Logf("%s: pid %d: p2pa %s", name, p.Pid(), strings.Join(args, " "))
	return p
}

// replayWait waits for the exit and returns the exit code.
func replayWait(t *testing.T, p *proctest.Proc, timeout time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	code, err := p.Wait(ctx)
	if err != nil {
		t.Fatalf("%s: still running after %v\n%v", p.Name(), timeout, p)
	}
	var exit *exec.ExitError
	if err := p.Err(); err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", p.Name(), err)
	}
	return code
}

// replayMatch runs two headless bot peers on loopback until both exit, player 0 on a free
// port (retried if another process takes it first). extra[p] are player p's further flags.
func replayMatch(t *testing.T, bin string, frames int, extra [2][]string) [2]*proctest.Proc {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := proctest.FreeUDPPort(t)
		common := []string{"-headless", "-bot", "-frames", fmt.Sprint(frames)}
		args0 := append(append([]string{"-p", "0", "-listen", fmt.Sprintf("127.0.0.1:%d", port)}, common...), extra[0]...)
		p0 := replayStart(t, "player 0", bin, args0...)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		_, err := p0.WaitLine(ctx, proctest.Substring("listening on"))
		cancel()
		if errors.Is(err, proctest.ErrExited) {
			code := replayWait(t, p0, 10*time.Second)
			_, errs := p0.Output()
			if attempt < 5 && strings.Contains(errs, "address already in use") {
				t.Logf("port %d was taken; trying another", port)
				continue
			}
			t.Fatalf("player 0 exited with %d before listening\n%v", code, p0)
		} else if err != nil {
			t.Fatalf("%s: no line with %q after %v\n%v", p0.Name(), "listening on", 30*time.Second, p0)
		}
		args1 := append(append([]string{"-p", "1", "-peer", fmt.Sprintf("127.0.0.1:%d", port), "-listen", "127.0.0.1:0"}, common...), extra[1]...)
		p1 := replayStart(t, "player 1", bin, args1...)
		return [2]*proctest.Proc{p0, p1}
	}
}

var resultLine = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16}) rollbacks=(\d+) rtt_ms=\d+\.\d\d$`)

// lastResult parses the result line, which must be the last line printed.
func lastResult(t *testing.T, p *proctest.Proc) (frame, checksum string, rollbacks int) {
	t.Helper()
	out, _ := p.Output()
	if len(out) == 0 {
		t.Fatalf("%s printed nothing\n%v", p.Name(), p)
	}
	m := resultLine.FindStringSubmatch(out[len(out)-1])
	if m == nil {
		t.Fatalf("%s: last line %q is not a result line\n%v", p.Name(), out[len(out)-1], p)
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
	bin := cliBinary(t)
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
		if code := replayWait(t, p, 3*time.Minute); code != 0 {
			t.Fatalf("%s exited with %d\n%v", p.Name(), code, p)
		}
		var rb int
		frame[i], sum[i], rb = lastResult(t, p)
		rollbacks += rb
		if frame[i] != "600" {
			t.Errorf("%s ended at frame %s, want 600\n%v", p.Name(), frame[i], p)
		}
	}
	t.Logf("live match: frame=%s checksum=%s, %d rollbacks in all, %v", frame[0], sum[0], rollbacks, time.Since(start).Round(time.Millisecond))
	if sum[0] != sum[1] {
		t.Fatalf("the live peers disagree: %s and %s\n%v\n%v", sum[0], sum[1], ps[0], ps[1])
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

	replay := func(t *testing.T, path string) (code int, p *proctest.Proc) {
		p = replayStart(t, "replay "+filepath.Base(path), bin, "-replay", path, "-headless")
		return replayWait(t, p, time.Minute), p
	}
	for i, path := range rec {
		code, p := replay(t, path)
		if code != 0 {
			t.Fatalf("replay of %s exited with %d\n%v", path, code, p)
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
			out, errs := p.Output()
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
		if code := replayWait(t, ps[1], 2*time.Minute); code != 0 {
			t.Errorf("player 1 exited with %d\n%v", code, ps[1])
		}
		code := replayWait(t, ps[0], 2*time.Minute)
		lines, _ := ps[0].Output()
		if code != 1 || !slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(l, "p2pa: recording: write ") && strings.Contains(l, "no such file or directory")
		}) {
			t.Errorf("player 0: exit %d; want 1 and a recording error\n%v", code, ps[0])
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
