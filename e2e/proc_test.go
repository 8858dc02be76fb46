package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a started binary whose stdout lines are collected as they come, so a test can
// wait for a line instead of sleeping.
type proc struct {
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []string
	stderr bytes.Buffer
	more   chan struct{} // closed and replaced on every new line and at exit

	exited chan struct{}
	err    error // Wait's result, valid after exited is closed
}

// start runs bin with args and kills it when the test ends, if it is still running.
func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, more: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	// One llvmpipe thread per process keeps two software-rendered windows from starving
	// the simulation on a 2-core machine.
	p.cmd.Env = append(os.Environ(), "LP_NUM_THREADS=1")
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Logf("%s: started pid %d: %s %s", name, p.cmd.Process.Pid, bin, strings.Join(args, " "))
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		// Drain anything past an over-long line so the child never blocks on its pipe.
		_, _ = io.Copy(io.Discard, out)
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			t.Logf("%s: still running at the end of the test; killing it", name)
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// waitLine waits until a stdout line contains substr and returns it.
func (p *proc) waitLine(ctx context.Context, substr string) (string, error) {
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.lines); seen++ {
			if strings.Contains(p.lines[seen], substr) {
				l := p.lines[seen]
				p.mu.Unlock()
				return l, nil
			}
		}
		more := p.more
		p.mu.Unlock()
		select {
		case <-more:
		case <-p.exited:
			// Lines may have arrived just before the exit.
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if seen == n {
				return "", fmt.Errorf("%s exited (%v) before printing %q", p.name, p.err, substr)
			}
		case <-ctx.Done():
			return "", fmt.Errorf("%s: no line with %q: %w", p.name, substr, ctx.Err())
		}
	}
}

// wait waits for the process to exit and returns its exit error.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.exited:
		return p.err
	case <-ctx.Done():
		_ = p.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump in stderr, for the log
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		return fmt.Errorf("%s did not exit: %w", p.name, ctx.Err())
	}
}

func (p *proc) output() (stdout []string, stderr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...), p.stderr.String()
}
