package lockstep

import "errors"

// Frame numbers a simulation step. The state "at frame f" is the state after f steps; the
// inputs "of frame f" are the ones that step f consumes to get from state f to state f+1.
type Frame int32

// NullFrame stands for "no frame yet".
const NullFrame Frame = -1

// Errors the sessions return (a Session reports stalls as a Status, not an error). They are values so callers can test them with errors.Is.
var (
	// ErrDesync: the peers' checksums of a confirmed frame differ; the session stops.
	ErrDesync = errors.New("desync")
)
