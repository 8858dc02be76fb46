package lockstep

import "fmt"

// RequestKind says what a Request asks the game to do.
type RequestKind uint8

const (
	// RequestSave: save the current state into Request.State.
	RequestSave RequestKind = iota + 1
	// RequestLoad: replace the current state with the one in Request.State.
	RequestLoad
	// RequestAdvance: run one frame with Request.Inputs.
	RequestAdvance
)

func (k RequestKind) String() string {
	switch k {
	case RequestSave:
		return "save"
	case RequestLoad:
		return "load"
	case RequestAdvance:
		return "advance"
	}
	return fmt.Sprintf("RequestKind(%d)", uint8(k))
}

// Request is one piece of work for the game. Requests must be carried out in order, and all of
// them before the session is called again. State and Inputs belong to the session: they are
// valid until the next call to it, and reused afterwards so a steady frame allocates nothing.
type Request struct {
	Kind  RequestKind
	Frame Frame // the state's frame before the request runs
	// Inputs (RequestAdvance): every player's input, player i at [i*size:(i+1)*size].
	Inputs []byte
	// Status (RequestAdvance): for each player, whether its input in Inputs is real, a
	// prediction that a rollback may still correct, or its last input standing in for a
	// player that has left.
	Status []InputStatus
	// State (RequestSave, RequestLoad): the saved state of Frame, in the session's ring of
	// saved states. RequestLoad loads *State; RequestSave saves into it, reusing its buffer
	// from frame to frame:
	//
	//	*r.State = g.SaveState((*r.State)[:0])
	State *[]byte

	cell *cell // the ring's cell that State is in; nil for requests made elsewhere (synctest)
}

// cell holds one saved state in a session's ring. Saving does not hash: the session
// computes the state's checksum (stateChecksum of state) only for the frames that need
// one, once.
type cell struct {
	frame  Frame
	state  []byte
	sum    uint64 // stateChecksum(state), once summed
	summed bool   // reset whenever the session hands the cell out for a save, and by Apply's save
}

// request asks the game to save its state of frame f into c (RequestSave) or to load c's
// (RequestLoad).
func (c *cell) request(kind RequestKind, f Frame) Request {
	return Request{Kind: kind, Frame: f, State: &c.state, cell: c}
}

// checksum returns stateChecksum(c.state), computing it on first use after a save.
func (c *cell) checksum() uint64 {
	if !c.summed {
		c.sum, c.summed = stateChecksum(c.state), true
	}
	return c.sum
}

// InputStatus says where one player's input for a frame came from.
type InputStatus uint8

const (
	// InputConfirmed: the player's real input; it will never change.
	InputConfirmed InputStatus = iota + 1
	// InputPredicted: the player's input has not arrived, so its last input stands in for it;
	// if the real one differs, a rollback re-runs the frame with it.
	InputPredicted
	// InputDisconnected: the player has left or was dropped; its last input stands in for
	// all its later frames, for good.
	InputDisconnected
)

var inputStatusNames = [...]string{
	InputConfirmed:    "confirmed",
	InputPredicted:    "predicted",
	InputDisconnected: "disconnected",
}

func (s InputStatus) String() string {
	if int(s) < len(inputStatusNames) && inputStatusNames[s] != "" {
		return inputStatusNames[s]
	}
	return fmt.Sprintf("InputStatus(%d)", uint8(s))
}

// statusGame is a Game with the optional method AdvanceFrameWithStatus (see Game).
type statusGame interface {
	Game
	AdvanceFrameWithStatus(inputs []byte, status []InputStatus)
}

// Apply carries out reqs against g, in order. A g that has AdvanceFrameWithStatus (see
// Game) gets each frame's input statuses too.
func Apply(g Game, reqs []Request) error {
	sg, withStatus := g.(statusGame)
	for i := range reqs {
		r := &reqs[i]
		switch r.Kind {
		case RequestAdvance:
			if withStatus {
				sg.AdvanceFrameWithStatus(r.Inputs, r.Status)
			} else {
				g.AdvanceFrame(r.Inputs)
			}
		case RequestSave:
			*r.State = g.SaveState((*r.State)[:0])
			if r.cell != nil {
				r.cell.summed = false // in case it was hashed before the save ran
			}
		case RequestLoad:
			if err := g.LoadState(*r.State); err != nil {
				return fmt.Errorf("load state of frame %d: %w", r.Frame, err)
			}
		default:
			return fmt.Errorf("unknown request kind %d", r.Kind)
		}
	}
	return nil
}
