package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrExited is in WaitLine's error when the process exited without printing the line.
var ErrExited = errors.New("exited")

// Proc is a started process. Its stdout is collected line by line as it comes and its
// stderr as a whole; both can be read at any time, also after the exit.
//
// On Unix it runs in a process group of its own, with whatever it starts (p2pa's window,
// say): ending it at a timeout or at the end of the test ends them all.
type Proc struct {
	name string
	cmd  *exec.Cmd

	mu      sync.Mutex
	lines   []string      // stdout, line by line, without the line ends
	partial []byte        // stdout after the last line end
	more    chan struct{} // closed and replaced on every new stdout line
	stderr  bytes.Buffer

	exited chan struct{} // closed once the process has exited and all its output is in
	err    error         // cmd.Wait's result, set before exited is closed
	code   int           // exit code, set before exited is closed
}

// Option changes how Start runs a process.
type Option func(*exec.Cmd, *startOptions)

type startOptions struct {
	killAfter time.Duration
}

// Env adds "KEY=value" entries to the environment the process inherits from the test; an
// entry overrides an inherited one with the same key ("DISPLAY=" sets it empty).
func Env(kv ...string) Option {
	return func(cmd *exec.Cmd, _ *startOptions) {
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, kv...)
	}
}

// Dir runs the process in directory d (the files it writes with relative names go there).
func Dir(d string) Option {
	return func(cmd *exec.Cmd, _ *startOptions) { cmd.Dir = d }
}

// KillAfter kills the process (and its group) if it is still running d after it started:
// it then exits with code -1.
func KillAfter(d time.Duration) Option {
	return func(_ *exec.Cmd, o *startOptions) { o.killAfter = d }
}

// waitDelay bounds how long the output is read after the process has exited, should
// something it started still hold its stdout or stderr.
const waitDelay = 5 * time.Second

// Start runs bin with args. name says which process it is in messages ("player 0"). The
// process is killed when the test ends if it is still running, which the test log says.
func Start(t testing.TB, name, bin string, args []string, opts ...Option) *Proc {
	t.Helper()
	p := &Proc{name: name, more: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	var o startOptions
	for _, opt := range opts {
		opt(p.cmd, &o)
	}
	p.cmd.Stdout = lineWriter{p}
	p.cmd.Stderr = stderrWriter{p}
	p.cmd.WaitDelay = waitDelay
	ownGroup(p.cmd)
	if err := startTracked(p); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	var timer *time.Timer
	if o.killAfter > 0 {
		timer = time.AfterFunc(o.killAfter, p.kill)
	}
	go func() {
		err := p.cmd.Wait() // returns once the output is copied, or waitDelay after the exit
		if timer != nil {
			timer.Stop()
		}
		untrack(p)
		p.mu.Lock()
		if len(p.partial) > 0 {
			p.addLine(p.partial)
			p.partial = nil
		}
		p.err = err
		p.code = -1
		if p.cmd.ProcessState != nil {
			p.code = p.cmd.ProcessState.ExitCode()
		}
		if err != nil && p.code == 0 {
			p.code = -1 // it exited with 0 but its output could not be read in full
		}
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			t.Logf("%s: still running at the end of the test; killing pid %d", name, p.Pid())
			p.kill()
			<-p.exited
		}
	})
	return p
}

// lineWriter is the process's stdout.
type lineWriter struct{ p *Proc }

func (w lineWriter) Write(b []byte) (int, error) {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.partial = append(p.partial, b...)
			return n, nil
		}
		p.addLine(append(p.partial, b[:i]...))
		p.partial = p.partial[:0]
		b = b[i+1:]
	}
}

// addLine adds a line of stdout (without its "\n"; a "\r" before it goes too). p.mu is held.
func (p *Proc) addLine(l []byte) {
	p.lines = append(p.lines, string(bytes.TrimSuffix(l, []byte("\r"))))
	close(p.more)
	p.more = make(chan struct{})
}

// stderrWriter is the process's stderr.
type stderrWriter struct{ p *Proc }

func (w stderrWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

// Name is the name given to Start.
func (p *Proc) Name() string { return p.name }

// Pid is the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited and all of its output has been collected.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// ExitCode is the process's exit code once Exited is closed: -1 if a signal ended it (as
// at a KillAfter, a Wait timeout or the end of the test) or if it exited with 0 but Err is
// not nil. While it runs, ExitCode is -1.
func (p *Proc) ExitCode() int {
	select {
	case <-p.exited:
		return p.code
	default:
		return -1
	}
}

// Err is the error exec.Cmd.Wait returned once Exited is closed, nil before: an
// *exec.ExitError for a nonzero exit, exec.ErrWaitDelay if something the process started
// kept its output open after it exited.
func (p *Proc) Err() error {
	select {
	case <-p.exited:
		return p.err
	default:
		return nil
	}
}

// Output returns a copy of the stdout lines so far (without the line ends; a last line
// without one is included once the process has exited) and the stderr so far.
func (p *Proc) Output() (stdout []string, stderr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...), p.stderr.String()
}

// LastLine is the last stdout line so far, "" if none.
func (p *Proc) LastLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) == 0 {
		return ""
	}
	return p.lines[len(p.lines)-1]
}

// String describes the process for a test failure: its exit status and all its output.
func (p *Proc) String() string {
	status := "running"
	select {
	case <-p.exited:
		status = fmt.Sprintf("exit %d", p.code)
		if p.err != nil {
			status += fmt.Sprintf(" (%v)", p.err)
		}
	default:
	}
	stdout, stderr := p.Output()
	return fmt.Sprintf("--- %s: %s; stdout:\n%s\n--- %s stderr:\n%s", p.name, status, strings.Join(stdout, "\n"), p.name, stderr)
}

// WaitLine waits for a stdout line matching re, from the first line on, and returns the
// match and its submatches (re.FindStringSubmatch). Its error is ErrExited (wrapped) if
// the process exited without printing one, or says that ctx ended first.
func (p *Proc) WaitLine(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	seen := 0
	for {
		p.mu.Lock()
		lines, more := p.lines[seen:], p.more
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				return m, nil
			}
		}
		select {
		case <-more:
		case <-p.exited:
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if n > seen {
				continue // lines that came just before the exit
			}
			return nil, fmt.Errorf("%s %w (%v) without printing a line matching %q", p.name, ErrExited, p.err, re)
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: no line matching %q: %w", p.name, re, context.Cause(ctx))
		}
	}
}

// Wait waits for the process to exit and returns its exit code (see ExitCode). If ctx ends
// first, Wait sends the process group SIGQUIT, for a Go program's goroutine dump in its
// stderr, kills it 5 s later if it is still there, and returns its exit code and an error
// saying it did not exit.
func (p *Proc) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.exited:
		return p.code, nil
	case <-ctx.Done():
	}
	p.quit()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill()
		<-p.exited
	}
	return p.code, fmt.Errorf("%s did not exit: %w", p.name, context.Cause(ctx))
}
