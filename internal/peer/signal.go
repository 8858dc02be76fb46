package peer

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"p2pa/lockstep"
)

// Interrupted is the error of a match stopped by a signal (Ctrl-C, kill) before it reached
// its -frames, or stopped by one at all when no -frames was given: a script must be able to
// tell a finished match from one somebody stopped. ExitCode gives the status, as a shell
// reports a process the signal killed: 128 + the signal's number.
type Interrupted struct {
	Signal os.Signal
	Frame  int64 // the frame the match ended at; -1 if it had not started
	Frames int   // -frames, 0 if none was given
}

func (e *Interrupted) Error() string {
	if e.Frame < 0 {
		return fmt.Sprintf("stopped by signal (%v) before the match started", e.Signal)
	}
	if e.Frames > 0 {
		return fmt.Sprintf("stopped by signal (%v) at frame %d, before -frames %d", e.Signal, e.Frame, e.Frames)
	}
	return fmt.Sprintf("stopped by signal (%v) at frame %d", e.Signal, e.Frame)
}

// ExitCode is 130 for SIGINT, 143 for SIGTERM: 128 + the signal's number.
func (e *Interrupted) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// ExitCode is the exit status both binaries give for err, the error that ended the run:
// 0 for none, 2 for bad arguments (UsageError), 128+N for a match stopped by signal N
// before its end (Interrupted), 1 otherwise.
func ExitCode(err error) int {
	var usage *UsageError
	var intr *Interrupted
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		return 2
	case errors.As(err, &intr):
		return intr.ExitCode()
	}
	return 1
}

// Stop is Quit on a signal: the match ends as cleanly as on Quit, and Close then returns
// an *Interrupted unless -frames had been reached or the match had already ended.
func (m *Match) Stop(sig os.Signal) {
	if m.r.Done() {
		return // the match was over already; the signal only ends the program
	}
	if m.signal == nil {
		m.signal = sig
	}
	m.Quit()
}

// interrupted is the error Close adds for a match stopped by a signal, nil if there was
// none or the match had reached its -frames anyway.
func (m *Match) interrupted() error {
	if m.signal == nil {
		return nil
	}
	end := m.r.EndFrame()
	if m.opts.Frames > 0 && m.r.Result().Confirmed && end >= lockstep.Frame(m.opts.Frames) {
		return nil
	}
	frame := int64(-1)
	if m.state != nil {
		frame = int64(max(end, 0))
	}
	return &Interrupted{Signal: m.signal, Frame: frame, Frames: m.opts.Frames}
}
