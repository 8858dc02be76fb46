package lockstep

// Game is what the engine needs from a simulation. A game does not have to import this
// package to satisfy it: the method set is the contract.
//
// The session itself never calls these methods; it returns Requests, and Apply runs them
// against a Game. Callers that keep their state elsewhere can execute the requests by hand.
//
// A game that wants to know each player's InputStatus (for example to show a disconnected
// player greyed out, or to let a bot take over its side) has one more method,
//
//	AdvanceFrameWithStatus(inputs []byte, status []InputStatus)
//
// which Apply calls instead of AdvanceFrame. status[i] is player i's; the slice is valid
// only during the call. The statuses are local knowledge, not agreed between peers: a frame
// runs predicted first and confirmed after a rollback, and each peer learns of a
// disconnect at its own moment. So they may steer what is shown (a "reconnecting" badge, a
// greyed-out player), never the simulated state, or peers desync.
type Game interface {
	// AdvanceFrame runs one frame. inputs holds every player's input for that frame,
	// player i at inputs[i*size:(i+1)*size]. The bytes may be any value a peer sent, so
	// decoding them must not fail. The slice is valid only during the call.
	AdvanceFrame(inputs []byte)
	// SaveState appends the complete state (everything AdvanceFrame reads) to dst and
	// returns it. Equal states must save to equal bytes: the engine compares peers and
	// re-simulations by the checksum of these bytes (codec.StateChecksum), which it
	// computes only when needed, so the bytes are all a checksum knows of the state.
	// Write the state itself in one canonical encoding (fixed byte order; no map order,
	// pointers, padding or CPU-dependent floats), not a handle to a copy kept elsewhere: a
	// handle would load back correctly, but every checksum would then compare handles and
	// no desync would ever be found.
	SaveState(dst []byte) []byte
	// LoadState replaces the state with one produced by SaveState.
	LoadState(state []byte) error
}
