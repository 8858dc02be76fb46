package netplay

import (
	"fmt"

	"p2pa/lockstep"
)

// Phase is where a runner stands in a match's life, for a front end to show. The runner
// moves through them in order, but for a pause (PhasePaused), which returns to
// PhasePlaying once the player is back or the window ends.
type Phase uint8

const (
	// PhaseHandshake: the session's handshake is under way (also while a rejoiner is
	// handed the match's state).
	PhaseHandshake Phase = iota + 1
	// PhasePlaying: frames are played.
	PhasePlaying
	// PhasePaused: a player dropped and the match waits for it to rejoin (Rejoin).
	PhasePaused
	// PhaseEnding: the end is decided (EndFrame, a Quit, a desync) and the runner waits
	// for it to be confirmed and acknowledged.
	PhaseEnding
	// PhaseDone: the match is over; Result says how.
	PhaseDone
)

var phaseNames = [...]string{
	PhaseHandshake: "handshake", PhasePlaying: "playing", PhasePaused: "paused",
	PhaseEnding: "ending", PhaseDone: "done",
}

func (p Phase) String() string {
	if int(p) < len(phaseNames) && phaseNames[p] != "" {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Phase reports where the runner stands in the match's life.
func (r *Runner) Phase() Phase {
	switch {
	case r.done:
		return PhaseDone
	case r.wait != nil:
		return PhasePaused
	case r.desynced || r.quitting || r.end != lockstep.NullFrame && r.leg().Frame() >= r.end:
		return PhaseEnding
	case r.leg().Running():
		return PhasePlaying
	}
	return PhaseHandshake
}
