package netplay

import (
	"fmt"

	"p2pa/lockstep"
)

// Phase is where a runner stands in a match's life, for a front end to show. It is the
// runner's state, not a summary of it: the runner holds one Phase and changes it only by
// the moves of the lifecycle below (moveTo).
//
// A match goes handshake, playing, ending, done. Two detours: a pause (PhasePaused) while a
// player who dropped may rejoin, which returns to PhasePlaying once the player is back or
// the window ends; and a desync that stops the match (PhaseDesynced), from which only the
// end follows.
type Phase uint8

const (
	// PhaseHandshake: the session's handshake is under way (also while a rejoiner is
	// handed the match's state), until the first Tick on the running session.
	PhaseHandshake Phase = iota + 1
	// PhasePlaying: frames are played.
	PhasePlaying
	// PhasePaused: a player dropped and the match waits for it to rejoin (Rejoin).
	PhasePaused
	// PhaseEnding: the end is decided and the runner waits for it to be confirmed and
	// acknowledged: the end frame (EndFrame) is played, or Quit was called.
	PhaseEnding
	// PhaseDesynced: a desync stopped the match (Config.Session.StopOnDesync, or desyncs
	// that came back too often): nothing more is played, and the match ends after
	// Config.DesyncLinger, or at Quit.
	PhaseDesynced
	// PhaseDone: the match is over; Result says how.
	PhaseDone
)

var phaseNames = [...]string{
	PhaseHandshake: "handshake", PhasePlaying: "playing", PhasePaused: "paused",
	PhaseEnding: "ending", PhaseDesynced: "desynced", PhaseDone: "done",
}

func (p Phase) String() string {
	if int(p) < len(phaseNames) && phaseNames[p] != "" {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// phaseMoves is the runner's lifecycle: the phases each phase may move to.
var phaseMoves = [...][]Phase{
	// The first Tick on the running session plays; Quit ends a match not yet started.
	PhaseHandshake: {PhasePlaying, PhaseEnding, PhaseDone},
	// A player who dropped is waited for (Config.Rejoin); the end frame is played, or
	// Quit; a desync stops the match.
	PhasePlaying: {PhasePaused, PhaseEnding, PhaseDesynced, PhaseDone},
	// The player is back, or the window ended (the match goes on as without rejoin); a
	// desync found while the survivors fold in their last inputs stops the match.
	PhasePaused: {PhasePlaying, PhaseDesynced, PhaseDone},
	// The end frame's checksum can still differ.
	PhaseEnding:   {PhaseDesynced, PhaseDone},
	PhaseDesynced: {PhaseDone},
}

// canMoveTo reports whether a runner in phase p may move to phase next. PhaseDone is
// reached from every other phase (a failure, Abort); nothing leaves it.
func (p Phase) canMoveTo(next Phase) bool {
	if int(p) >= len(phaseMoves) {
		return false
	}
	for _, q := range phaseMoves[p] {
		if q == next {
			return true
		}
	}
	return false
}

// Phase reports where the runner stands in the match's life.
func (r *Runner) Phase() Phase { return r.phase }

// moveTo is the one place the runner's phase changes. Staying in a phase is no move. A
// move the lifecycle does not allow is a bug in the runner: it ends the match (EndFailed,
// an error naming the move) rather than run on in a state nobody designed.
func (r *Runner) moveTo(next Phase) {
	switch {
	case r.phase == next:
	case r.phase.canMoveTo(next):
		r.phase = next
	case r.phase != PhaseDone: // once done, there is nothing left to stop
		r.fail(EndFailed, fmt.Errorf("netplay: internal error: the runner may not move from phase %v to %v", r.phase, next))
	}
}

// playOn moves to PhasePlaying (from the handshake or a pause), or on to PhaseEnding if
// the leg already stands at the match's end.
func (r *Runner) playOn() {
	r.moveTo(PhasePlaying)
	r.noteEndReached()
}

// noteEndReached moves a playing runner to PhaseEnding once the current leg has played
// the end frame. It runs wherever the frame or the end moves (step, setEnd, playOn).
func (r *Runner) noteEndReached() {
	if r.phase == PhasePlaying && r.endReached() {
		r.moveTo(PhaseEnding)
	}
}

// endReached reports whether the end of the match is decided and the leg has played it.
func (r *Runner) endReached() bool {
	return r.end != lockstep.NullFrame && r.leg().Frame() >= r.end
}
