package main

import (
	"time"

	"p2pa/game"
)

// session is what the window needs from a match. The window draws from a view, a plain
// summary, so the screens and the HUD can be composed and tested without a network.
type session interface {
	// Tick runs one 60 Hz tick with this player's input.
	Tick(local game.Input)
	// State is the state to draw, nil before the match is synchronised.
	State() *game.State
	// View summarises the session for the screens and the HUD.
	View() view
	// Done reports that the match is over: -frames reached, or the session ended.
	Done() bool
	// Close ends the session and prints the final line.
	Close() error
}

type phase int

const (
	phaseWaiting phase = iota
	phaseSync
	phaseRunning
	phaseInterrupted
	phaseDisconnected
	phasePeerLeft
	phaseDesync
	phaseDone
	phaseFailed
)

// view is the session as the window shows it.
type view struct {
	Phase phase
	// Progress is the handshake's progress, 0..1, while synchronising.
	Progress float64
	// Err says what went wrong, for Failed, Desync and Disconnected.
	Err error
	// Frame is the frame drawn; Confirmed the last frame both peers' inputs are known for.
	Frame, Confirmed int32
	// Since is how long the current phase has lasted (Interrupted: since the last packet).
	Since time.Duration
	// Timeout is when an interruption becomes a disconnection (0: unknown).
	Timeout time.Duration

	// Network statistics for the HUD. Counters are cumulative; the window turns them into
	// rates.
	RTT              time.Duration // <0: not measured yet
	Advantage        float64
	RollbackFrames   int64
	BytesUp, BytesDn int64
	Delay            int
}
