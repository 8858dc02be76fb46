package lockstep

import (
	"bytes"
	"fmt"
)

// syncTest drives the sync layer the way package synctest's Test drives a game: every
// frame it rolls back distance frames and re-simulates them. It is here, on the session's
// own sync layer (whose cells the session hands out), for the tests of that layer's saved
// states (TestCellChecksumFollowsSaves).
type syncTest struct {
	cfg      Config
	sync     *syncLayer
	distance int
	first    []syncTestRun
	added    []bool
}

type syncTestRun struct {
	frame Frame
	state []byte
}

func newSyncTest(cfg Config, distance int) (*syncTest, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if distance < 1 || distance > cfg.MaxPrediction {
		return nil, fmt.Errorf("check distance %d is not in 1..%d", distance, cfg.MaxPrediction)
	}
	t := &syncTest{
		cfg:      cfg,
		sync:     newSyncLayer(cfg.Players, cfg.InputSize, cfg.MaxPrediction, 0),
		distance: distance,
		first:    make([]syncTestRun, distance+2),
		added:    make([]bool, cfg.Players),
	}
	for i := range t.first {
		t.first[i].frame = NullFrame
	}
	return t, nil
}

func (t *syncTest) Frame() Frame { return t.sync.frame }

func (t *syncTest) AddLocalInput(player int, input []byte) error {
	if player < 0 || player >= t.cfg.Players || len(input) != t.cfg.InputSize || t.added[player] {
		return fmt.Errorf("player %d: a bad input", player)
	}
	t.sync.addInput(player, t.sync.frame, input)
	t.added[player] = true
	return nil
}

func (t *syncTest) AdvanceFrame() ([]Request, error) {
	if err := t.Verify(); err != nil {
		return nil, err
	}
	for p, ok := range t.added {
		if !ok {
			return nil, fmt.Errorf("player %d: no input", p)
		}
	}
	clear(t.added)
	t.sync.rollbackTo(t.sync.frame - Frame(t.distance))
	return t.sync.advance(), nil
}

func (t *syncTest) Verify() error {
	for _, r := range t.sync.reqs {
		if r.Kind != RequestSave {
			continue
		}
		rec := &t.first[int(r.Frame)%len(t.first)]
		if rec.frame != r.Frame {
			rec.frame = r.Frame
			rec.state = append(rec.state[:0], (*r.State)...)
			continue
		}
		if !bytes.Equal(rec.state, *r.State) {
			t.sync.reqs = t.sync.reqs[:0]
			return fmt.Errorf("frame %d: the re-simulated state differs", r.Frame)
		}
	}
	return nil
}

func (t *syncTest) Checksum(f Frame) (uint64, bool) { return t.sync.savedChecksum(f) }
