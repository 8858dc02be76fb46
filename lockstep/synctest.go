package lockstep

import (
	"bytes"
	"fmt"
)

// SyncTest checks a game's determinism without a network. Every frame it rolls back
// checkDistance frames, re-simulates them with the same inputs, and compares each
// re-simulated state's saved bytes with the first simulation of that frame (it hashes
// them only to report a mismatch). A game whose Step
// reads something Save does not capture, or anything outside its inputs and state (the
// clock, a global RNG, map order), fails within a few frames.
//
// All players are local: give each one's input with AddLocalInput, then call AdvanceFrame.
type SyncTest struct {
	cfg      Config
	sync     *syncLayer
	distance int
	first    []firstRun // the first simulation of recent frames, by frame modulo its length
	added    []bool     // which players gave input for the current frame
	checked  int64      // how many re-simulated frames were compared
}

type firstRun struct {
	frame Frame
	state []byte
}

// NewSyncTest makes a sync-test session. checkDistance 0 means DefaultCheckDistance; it must
// be within 1..cfg.MaxPrediction (after defaults).
func NewSyncTest(cfg Config, checkDistance int) (*SyncTest, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if checkDistance == 0 {
		checkDistance = DefaultCheckDistance
	}
	if checkDistance > cfg.MaxPrediction {
		cfg.MaxPrediction = checkDistance
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("check distance: %w", err)
		}
	}
	if checkDistance < 1 {
		return nil, fmt.Errorf("check distance: %d is not in 1..%d", checkDistance, MaxPrediction)
	}
	t := &SyncTest{
		cfg:      cfg,
		sync:     newSyncLayer(cfg.Players, cfg.InputSize, cfg.MaxPrediction, 0),
		distance: checkDistance,
		first:    make([]firstRun, checkDistance+2),
		added:    make([]bool, cfg.Players),
	}
	for i := range t.first {
		t.first[i].frame = NullFrame
	}
	return t, nil
}

// Frame is the frame the game state is at (after the last requests were carried out).
func (t *SyncTest) Frame() Frame { return t.sync.frame }

// Rollbacks is how many rollbacks the test has forced so far.
func (t *SyncTest) Rollbacks() int64 { return t.sync.rollbacks }

// Checked is how many re-simulated frames have been compared with their first run.
func (t *SyncTest) Checked() int64 { return t.checked }

// AddLocalInput gives player's input for the current frame.
func (t *SyncTest) AddLocalInput(player int, input []byte) error {
	if player < 0 || player >= t.cfg.Players {
		return fmt.Errorf("player %d is not in 0..%d", player, t.cfg.Players-1)
	}
	if len(input) != t.cfg.InputSize {
		return fmt.Errorf("input of %d bytes, want %d", len(input), t.cfg.InputSize)
	}
	if t.added[player] {
		return ErrInputAlreadyAdded
	}
	t.sync.addInput(player, t.sync.frame, input)
	t.added[player] = true
	return nil
}

// AdvanceFrame checks the previous call's re-simulation, then returns the requests for this
// frame: a rollback of checkDistance frames and the re-simulation, then the new frame. It
// returns a *MismatchError when a re-simulated state differs from the first run.
func (t *SyncTest) AdvanceFrame() ([]Request, error) {
	if err := t.Verify(); err != nil {
		return nil, err
	}
	for p, ok := range t.added {
		if !ok {
			return nil, fmt.Errorf("player %d: %w", p, ErrNoLocalInput)
		}
	}
	clear(t.added)
	t.sync.rollbackTo(t.sync.frame - Frame(t.distance))
	return t.sync.advance(), nil
}

// Verify compares the states saved by the last requests with their first runs. AdvanceFrame
// calls it; call it once more after the last frame.
func (t *SyncTest) Verify() error {
	for _, r := range t.sync.reqs {
		if r.Kind != RequestSave {
			continue
		}
		rec := &t.first[int(r.Frame)%len(t.first)]
		if rec.frame != r.Frame {
			rec.frame = r.Frame
			rec.state = append(rec.state[:0], r.Cell.State...)
			continue
		}
		t.checked++
		if !bytes.Equal(rec.state, r.Cell.State) {
			err := &MismatchError{
				Frame:           r.Frame,
				First:           StateChecksum(rec.state),
				Again:           r.Cell.Checksum(),
				FirstState:      append([]byte(nil), rec.state...),
				ResimulateState: append([]byte(nil), r.Cell.State...),
			}
			if t.cfg.DiffStates != nil {
				err.Diff = t.cfg.DiffStates(err.FirstState, err.ResimulateState)
			}
			t.sync.reqs = t.sync.reqs[:0]
			return err
		}
	}
	return nil
}

// Checksum returns the checksum of the state at frame f if it is still remembered (the
// latest frames are).
func (t *SyncTest) Checksum(f Frame) (uint64, bool) { return t.sync.savedChecksum(f) }
