package lockstep

import (
	"errors"
	"fmt"
)

// Frame numbers a simulation step. The state "at frame f" is the state after f steps; the
// inputs "of frame f" are the ones that step f consumes to get from state f to state f+1.
type Frame int32

// NullFrame stands for "no frame yet".
const NullFrame Frame = -1

// Errors the sessions return (a Session reports stalls as a Status, not an error). They are values so callers can test them with errors.Is.
var (
	// ErrInputAlreadyAdded: SyncTest.AddLocalInput was given a player's input for this
	// frame twice.
	ErrInputAlreadyAdded = errors.New("local input for this frame already added")
	// ErrNoLocalInput: SyncTest.AdvanceFrame was called before every player's input was
	// added for the frame.
	ErrNoLocalInput = errors.New("no local input for this frame")
	// ErrDesync: the peers' checksums of a confirmed frame differ; the session stops.
	ErrDesync = errors.New("desync")
	// ErrLegEnded is a spectator's EventPeerLeft Err when player 0 said the match went on
	// after a rejoin, in a leg spectators cannot follow: the event's Frame is the last
	// frame of the match it saw, which the match did have (Session.LeaveSpectators).
	ErrLegEnded = errors.New("the match went on after a player rejoined, in a leg spectators cannot follow")
)

// MismatchError is what a SyncTest returns when a re-simulated frame's saved state differs
// from the first simulation of that frame.
type MismatchError struct {
	Frame           Frame
	First, Again    uint64 // checksums of the first and the re-simulated run
	Diff            string // field-by-field difference, when Config.DiffStates is set
	FirstState      []byte
	ResimulateState []byte
}

func (e *MismatchError) Error() string {
	msg := fmt.Sprintf("synctest: frame %d checksum %016x on first run, %016x after rollback", e.Frame, e.First, e.Again)
	if e.Diff != "" {
		msg += "\n" + e.Diff
	}
	return msg
}
