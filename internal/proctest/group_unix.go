//go:build unix

package proctest

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
)

// live holds the processes started and not yet waited for, each the leader of its own
// process group.
var live struct {
	mu    sync.Mutex
	procs map[*Proc]bool
	once  sync.Once
}

func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func startTracked(p *Proc) error {
	live.once.Do(forwardInterrupts)
	live.mu.Lock()
	defer live.mu.Unlock()
	if err := p.cmd.Start(); err != nil {
		return err
	}
	if live.procs == nil {
		live.procs = map[*Proc]bool{}
	}
	live.procs[p] = true
	return nil
}

func untrack(p *Proc) {
	live.mu.Lock()
	defer live.mu.Unlock()
	delete(live.procs, p)
}

// signal sends sig to p's process group, unless p has been waited for.
func (p *Proc) signal(sig syscall.Signal) {
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.procs[p] {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

func (p *Proc) kill() { p.signal(syscall.SIGKILL) }
func (p *Proc) quit() { p.signal(syscall.SIGQUIT) }

// forwardInterrupts passes Ctrl-C (or SIGTERM, SIGHUP) on to the running processes before
// the test binary dies of it: in groups of their own, they no longer get the terminal's
// signals. A signal the test binary ignores stays ignored.
func forwardInterrupts() {
	var sigs []os.Signal
	for _, s := range []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		if !signal.Ignored(s) {
			sigs = append(sigs, s)
		}
	}
	if len(sigs) == 0 {
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, sigs...)
	go func() {
		sig := (<-c).(syscall.Signal)
		live.mu.Lock()
		for p := range live.procs {
			_ = syscall.Kill(-p.cmd.Process.Pid, sig)
		}
		live.mu.Unlock()
		signal.Stop(c)
		_ = syscall.Kill(os.Getpid(), sig) // now the default: the test binary dies of it
	}()
}

// Signal sends sig to p's process group (the process and anything it started), as a
// terminal's Ctrl-C would; nothing happens once p has been waited for.
func (p *Proc) Signal(sig syscall.Signal) { p.signal(sig) }
