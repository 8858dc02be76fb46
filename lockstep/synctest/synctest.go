// Package synctest checks a game's determinism without a network: a Test rolls back every
// frame and compares the re-simulated states with the first run, which catches a game that
// is not deterministic or whose SaveState misses some of its state.
//
// It is a tool for a game's own tests, beside the engine rather than part of it: it plans
// its requests itself, on lockstep's public types (Request), and its requests run
// through lockstep.Apply like a Session's. Like lockstep it is pure: no sockets,
// goroutines, clocks or globals.
package synctest

import (
	"bytes"
	"errors"
	"fmt"

	"p2pa/internal/xxh64"
	"p2pa/lockstep"
)

// DefaultDistance is how many frames a Test rolls back every frame when New is given 0.
const DefaultDistance = 8

var (
	// ErrInputAlreadyAdded: AddLocalInput was given a player's input for this frame twice.
	ErrInputAlreadyAdded = errors.New("local input for this frame already added")
	// ErrNoLocalInput: AdvanceFrame was called before every player's input was added for the
	// frame.
	ErrNoLocalInput = errors.New("no local input for this frame")
)

// MismatchError is what a Test returns when a re-simulated frame's saved state differs from
// the first simulation of that frame.
type MismatchError struct {
	Frame           lockstep.Frame
	First, Again    uint64 // checksums of the first and the re-simulated run (codec.StateChecksum)
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

// Test checks a game's determinism without a network. Every frame it rolls back distance
// frames, re-simulates them with the same inputs, and compares each re-simulated state's
// saved bytes with the first simulation of that frame (it hashes them only to report a
// mismatch). A game whose AdvanceFrame reads something SaveState does not capture, or
// anything outside its inputs and state (the clock, a global RNG, map order), fails within
// a few frames.
//
// All players are local: give each one's input with AddLocalInput, then call AdvanceFrame
// and carry out its requests (lockstep.Apply).
type Test struct {
	cfg      lockstep.Config
	distance int
	frame    lockstep.Frame // the game state is at this frame once the requests are run
	started  bool           // the initial state has been saved
	saved    []savedState   // saved states, by frame modulo len(saved)
	inputs   []byte         // every player's inputs, one row per frame modulo rows
	rows     int            // frames of inputs held: a rollback and the new frame
	reqs     []lockstep.Request
	status   []lockstep.InputStatus // every player's status: always confirmed here
	first    []firstRun             // the first simulation of recent frames, by frame modulo its length
	added    []bool                 // which players gave input for the current frame
	checked  int64                  // how many re-simulated frames were compared
	rollback int64                  // how many rollbacks were forced
}

// savedState is one saved state: where a save request puts it and a load request finds it.
type savedState struct {
	frame lockstep.Frame
	state []byte
}

type firstRun struct {
	frame lockstep.Frame
	state []byte
}

// New makes a sync test. distance 0 means DefaultDistance; it must be within
// 1..lockstep.MaxPrediction. cfg's Players (1..4) and InputSize are used, and DiffStates
// words a mismatch.
func New(cfg lockstep.Config, distance int) (*Test, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if distance == 0 {
		distance = DefaultDistance
	}
	if distance > cfg.MaxPrediction {
		cfg.MaxPrediction = distance
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("check distance: %w", err)
		}
	}
	if distance < 1 {
		return nil, fmt.Errorf("check distance: %d is not in 1..%d", distance, lockstep.MaxPrediction)
	}
	width := cfg.Players * cfg.InputSize
	t := &Test{
		cfg:      cfg,
		distance: distance,
		saved:    make([]savedState, cfg.MaxPrediction+2),
		rows:     distance + 1,
		inputs:   make([]byte, (distance+1)*width),
		reqs:     make([]lockstep.Request, 0, 2*distance+4),
		status:   make([]lockstep.InputStatus, cfg.Players),
		first:    make([]firstRun, distance+2),
		added:    make([]bool, cfg.Players),
	}
	for i := range t.saved {
		t.saved[i].frame = lockstep.NullFrame
	}
	for i := range t.first {
		t.first[i].frame = lockstep.NullFrame
	}
	for i := range t.status {
		t.status[i] = lockstep.InputConfirmed
	}
	return t, nil
}

// Frame is the frame the game state is at (after the last requests were carried out).
func (t *Test) Frame() lockstep.Frame { return t.frame }

// Rollbacks is how many rollbacks the test has forced so far.
func (t *Test) Rollbacks() int64 { return t.rollback }

// Checked is how many re-simulated frames have been compared with their first run.
func (t *Test) Checked() int64 { return t.checked }

// row is frame f's inputs, every player's (player i at [i*size:(i+1)*size]).
func (t *Test) row(f lockstep.Frame) []byte {
	width := t.cfg.Players * t.cfg.InputSize
	i := int(f) % t.rows
	return t.inputs[i*width : (i+1)*width : (i+1)*width]
}

// AddLocalInput gives player's input for the current frame.
func (t *Test) AddLocalInput(player int, input []byte) error {
	if player < 0 || player >= t.cfg.Players {
		return fmt.Errorf("player %d is not in 0..%d", player, t.cfg.Players-1)
	}
	if len(input) != t.cfg.InputSize {
		return fmt.Errorf("input of %d bytes, want %d", len(input), t.cfg.InputSize)
	}
	if t.added[player] {
		return ErrInputAlreadyAdded
	}
	copy(t.row(t.frame)[player*t.cfg.InputSize:], input)
	t.added[player] = true
	return nil
}

// AdvanceFrame checks the previous call's re-simulation, then returns the requests for this
// frame: a rollback of distance frames and the re-simulation, then the new frame. It
// returns a *MismatchError when a re-simulated state differs from the first run.
func (t *Test) AdvanceFrame() ([]lockstep.Request, error) {
	if err := t.Verify(); err != nil {
		return nil, err
	}
	for p, ok := range t.added {
		if !ok {
			return nil, fmt.Errorf("player %d: %w", p, ErrNoLocalInput)
		}
	}
	clear(t.added)
	t.reqs = t.reqs[:0]
	if !t.started {
		t.started = true
		t.reqs = append(t.reqs, t.save())
	}
	if target := t.frame - lockstep.Frame(t.distance); target >= 0 {
		t.rollback++
		now := t.frame
		t.frame = target
		t.reqs = append(t.reqs, lockstep.Request{Kind: lockstep.RequestLoad, Frame: target, State: &t.savedAt(target).state})
		for t.frame < now {
			t.reqs = append(t.reqs, t.advance(), t.save())
		}
	}
	t.reqs = append(t.reqs, t.advance(), t.save())
	return t.reqs, nil
}

func (t *Test) savedAt(f lockstep.Frame) *savedState { return &t.saved[int(f)%len(t.saved)] }

// save asks for the current frame's state, and advance runs the frame: both move on.
func (t *Test) save() lockstep.Request {
	c := t.savedAt(t.frame)
	c.frame = t.frame
	return lockstep.Request{Kind: lockstep.RequestSave, Frame: t.frame, State: &c.state}
}

func (t *Test) advance() lockstep.Request {
	r := lockstep.Request{Kind: lockstep.RequestAdvance, Frame: t.frame, Inputs: t.row(t.frame), Status: t.status}
	t.frame++
	return r
}

// Verify compares the states saved by the last requests with their first runs. AdvanceFrame
// calls it; call it once more after the last frame.
func (t *Test) Verify() error {
	for _, r := range t.reqs {
		if r.Kind != lockstep.RequestSave {
			continue
		}
		rec := &t.first[int(r.Frame)%len(t.first)]
		if rec.frame != r.Frame {
			rec.frame = r.Frame
			rec.state = append(rec.state[:0], *r.State...)
			continue
		}
		t.checked++
		if !bytes.Equal(rec.state, *r.State) {
			err := &MismatchError{
				Frame:           r.Frame,
				First:           xxh64.Sum64(rec.state),
				Again:           xxh64.Sum64(*r.State),
				FirstState:      append([]byte(nil), rec.state...),
				ResimulateState: append([]byte(nil), *r.State...),
			}
			if t.cfg.DiffStates != nil {
				err.Diff = t.cfg.DiffStates(err.FirstState, err.ResimulateState)
			}
			t.reqs = t.reqs[:0]
			return err
		}
	}
	return nil
}

// Checksum returns the checksum of the state at frame f (codec.StateChecksum, the engine's)
// if it is still remembered (the latest frames are).
func (t *Test) Checksum(f lockstep.Frame) (uint64, bool) {
	if f < 0 || f > t.frame || !t.started {
		return 0, false
	}
	c := t.savedAt(f)
	if c.frame != f {
		return 0, false
	}
	return xxh64.Sum64(c.state), true
}
