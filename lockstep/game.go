package lockstep

// Game is what the engine needs from a simulation. A game does not have to import this
// package to satisfy it: the method set is the contract.
//
// The session itself never calls these methods; it returns Requests, and Apply runs them
// against a Game. Callers that keep their state elsewhere can execute the requests by hand.
type Game interface {
	// AdvanceFrame runs one frame. inputs holds every player's input for that frame,
	// player i at inputs[i*size:(i+1)*size]. The bytes may be any value a peer sent, so
	// decoding them must not fail. The slice is valid only during the call.
	AdvanceFrame(inputs []byte)
	// SaveState appends the complete state (everything AdvanceFrame reads) to dst and
	// returns it. Equal states must save to equal bytes: the engine compares peers and
	// re-simulations by StateChecksum of these bytes, which it computes only when needed,
	// so the bytes are all a checksum knows of the state. Write the state itself in one
	// canonical encoding (fixed byte order; no map order, pointers, padding or
	// CPU-dependent floats), not a handle to a copy kept elsewhere: a handle would load
	// back correctly, but every checksum would then compare handles and no desync would
	// ever be found.
	SaveState(dst []byte) []byte
	// LoadState replaces the state with one produced by SaveState.
	LoadState(state []byte) error
}
