package lockstep

import "bytes"

// inputQueue holds one player's inputs by frame in a ring. Inputs arrive in frame order with
// no gaps (the protocol guarantees it), so "known" is a single frame number.
type inputQueue struct {
	size      int
	known     Frame  // last frame whose real input is here; NullFrame if none
	inputs    []byte // ring of real inputs, ringFrames*size
	used      []byte // ring: the input each simulated frame actually ran with
	zero      []byte
	connected bool // false once the player is dropped: its last input then stands for every later frame
	// final: the survivors agreed on the player's last frame (known), so no later frame of
	// it can change; until then its frames after known are not confirmed.
	final bool
	// held: the player was dropped for silence in a session whose runner may wait for it
	// to rejoin (Config.Rejoin). Its frames after known run on a stand-in (its last input
	// repeated), and a rejoin replaces them with its real inputs from known+1 on: so they
	// are not confirmed (not reported, not recorded, not sent to spectators) until the
	// runner gives up waiting (Match.GiveUpRejoins). A confirmed frame is never taken back.
	held bool
	// shared is the last frame of this player's input that every other running peer has
	// told us it holds (departure.go); the maximum frame when no third peer has to hold it
	// (two players, or the local player). Frames after it are not confirmed: a departure
	// agreed later may still freeze the player's input at a frame before them.
	shared Frame
}

func newInputQueue(size int) inputQueue {
	return inputQueue{
		size:      size,
		known:     NullFrame,
		inputs:    make([]byte, ringFrames*size),
		used:      make([]byte, ringFrames*size),
		zero:      make([]byte, size),
		connected: true,
		shared:    maxFrame,
	}
}

func (q *inputQueue) slot(ring []byte, f Frame) []byte {
	i := int(f) % ringFrames * q.size
	return ring[i : i+q.size : i+q.size]
}

// input returns the real input of frame f, or the prediction for it: the last real input
// repeated, which is right most of the time because inputs change rarely between frames.
func (q *inputQueue) input(f Frame) []byte {
	if f <= q.known {
		return q.slot(q.inputs, f)
	}
	if q.known == NullFrame {
		return q.zero
	}
	return q.slot(q.inputs, q.known)
}

// maxFrame stands for "every frame": the input of a departed player is final for ever.
const maxFrame Frame = 1<<31 - 1

// confirmedThrough is the last frame whose input will never change: known, as far as every
// other peer holds it too (shared); every frame once a departure is agreed (and no rejoin
// may replace its stand-in frames: held).
func (q *inputQueue) confirmedThrough() Frame {
	if !q.connected && q.final && !q.held {
		return maxFrame
	}
	return min(q.known, q.shared)
}

// knownThrough is the last frame whose input is here, whether or not the others hold it: what
// bounds prediction (a departure not agreed yet counts up to its current last frame).
func (q *inputQueue) knownThrough() Frame {
	if !q.connected && q.final {
		return maxFrame
	}
	return q.known
}

// syncLayer turns inputs into requests: it keeps the frame counter, every player's input
// queue and the ring of saved states, and when a real input proves a prediction wrong it
// rolls back to that frame and re-simulates up to the present.
type syncLayer struct {
	players, inputSize, maxPrediction int
	// slack is how many frames past maxPrediction the game may run ahead of the frames
	// every peer holds (confirmedInputs), when a third peer must hold them too; the ring of
	// saved states is that much longer, so a departure agreed late can still roll back.
	slack int

	frame          Frame // the game state is at this frame (this many frames simulated)
	queues         []inputQueue
	cells          []cell // saved states, by frame modulo len(cells)
	firstIncorrect Frame  // earliest frame that ran on a wrong prediction; NullFrame if none
	started        bool   // the initial state has been saved
	// keepFrom, unless NullFrame, is the first frame whose inputs must stay in the ring: a
	// resync will replay from it (resync.go). reload, if set, is the state the next
	// rollback starts from instead of a saved one: the one a resync handed over.
	keepFrom Frame
	reload   *cell

	reqs      []Request
	inputBuf  []byte        // rows of all players' inputs, one per advance request in a call
	statusBuf []InputStatus // rows of all players' input statuses, likewise

	// Totals for stats.
	rollbacks        int64 // how many rollbacks
	rollbackFrames   int64 // frames re-simulated
	maxRollbackDepth int
	lastRollback     int // depth of the rollback in the latest advance call
	rollbackRows     int // input rows the latest rollback used
}

func newSyncLayer(players, inputSize, maxPrediction, slack int) *syncLayer {
	s := &syncLayer{
		players:        players,
		inputSize:      inputSize,
		maxPrediction:  maxPrediction,
		slack:          slack,
		firstIncorrect: NullFrame,
		keepFrom:       NullFrame,
		cells:          make([]cell, maxPrediction+slack+2),
		inputBuf:       make([]byte, (maxPrediction+slack+3)*players*inputSize),
		statusBuf:      make([]InputStatus, (maxPrediction+slack+3)*players),
		reqs:           make([]Request, 0, 2*(maxPrediction+slack)+6),
	}
	for range players {
		s.queues = append(s.queues, newInputQueue(inputSize))
	}
	for i := range s.cells {
		s.cells[i].frame = NullFrame
	}
	return s
}

// confirmedInputs is the last frame for which every player's input is known and final.
func (s *syncLayer) confirmedInputs() Frame {
	c := maxFrame
	for i := range s.queues {
		c = min(c, s.queues[i].confirmedThrough())
	}
	return c
}

// knownInputs is the last frame for which every player's input is here.
func (s *syncLayer) knownInputs() Frame {
	c := maxFrame
	for i := range s.queues {
		c = min(c, s.queues[i].knownThrough())
	}
	return c
}

// confirmedFrame is the latest state that was computed from known inputs only, once the
// pending requests have been carried out.
func (s *syncLayer) confirmedFrame() Frame {
	return min(s.confirmedInputs()+1, s.frame)
}

// canAdvance reports whether one more frame stays within the prediction window.
func (s *syncLayer) canAdvance() bool {
	return int(s.frame-s.knownInputs()) <= s.maxPrediction &&
		int(s.frame-s.confirmedInputs()) <= s.maxPrediction+s.slack
}

// freeze makes last the final real input of departed player p: from last+1 on, its input
// of last stands for every frame. Frames already run with another input for p after last
// are re-simulated on the next advance.
func (s *syncLayer) freeze(p int, last Frame) {
	q := &s.queues[p]
	if last >= q.known {
		return
	}
	q.known = last
	for f := max(last+1, s.frame-Frame(len(s.cells))); f < s.frame; f++ {
		if !bytes.Equal(q.slot(q.used, f), q.input(f)) {
			if s.firstIncorrect == NullFrame || f < s.firstIncorrect {
				s.firstIncorrect = f
			}
			break
		}
	}
}

// addInput stores a real input for player p at frame f. Only the next frame after the last
// known one is accepted; anything else is a duplicate or a gap and is ignored (false).
func (s *syncLayer) addInput(p int, f Frame, in []byte) bool {
	q := &s.queues[p]
	if f != q.known+1 || len(in) != q.size {
		return false
	}
	// The ring must not overwrite inputs still needed to re-simulate from the oldest state.
	if int(f-s.oldestNeeded()) >= ringFrames {
		return false
	}
	copy(q.slot(q.inputs, f), in)
	q.known = f
	if f < s.frame && !bytes.Equal(q.slot(q.used, f), in) {
		if s.firstIncorrect == NullFrame || f < s.firstIncorrect {
			s.firstIncorrect = f
		}
	}
	return true
}

// oldestNeeded is the first frame whose inputs a rollback (or a resync: keepFrom) might
// still need.
func (s *syncLayer) oldestNeeded() Frame {
	f := min(s.confirmedInputs()+1, s.frame)
	if s.keepFrom != NullFrame {
		f = min(f, s.keepFrom)
	}
	return max(0, f)
}

func (s *syncLayer) cell(f Frame) *cell {
	return &s.cells[int(f)%len(s.cells)]
}

// advance plans one frame: a rollback first if a prediction was wrong, then save-free
// advance of the current frame followed by a save of the result. The returned requests are
// valid until the next call.
func (s *syncLayer) advance() []Request {
	s.reqs = s.reqs[:0]
	s.lastRollback = 0
	if !s.started {
		s.started = true
		s.reqs = append(s.reqs, s.saveRequest())
	}
	s.rollback()
	s.reqs = append(s.reqs, s.advanceRequest(s.rollbackRows))
	s.frame++
	s.reqs = append(s.reqs, s.saveRequest())
	return s.reqs
}

// rollback appends the requests that reload the first mispredicted frame (or the state a
// resync handed over: reload) and re-simulate up to the present.
func (s *syncLayer) rollback() {
	row := 0
	load := (*cell)(nil)
	if s.reload != nil {
		load, s.firstIncorrect = s.reload, s.reload.frame
		s.reload = nil
		s.growRows(int(s.frame-load.frame) + 1)
	} else if s.firstIncorrect != NullFrame && s.firstIncorrect < s.frame {
		load = s.cell(s.firstIncorrect)
	}
	if load != nil {
		target := s.firstIncorrect
		depth := int(s.frame - target)
		s.rollbacks++
		s.rollbackFrames += int64(depth)
		s.maxRollbackDepth = max(s.maxRollbackDepth, depth)
		s.lastRollback = depth
		now := s.frame
		s.frame = target
		s.reqs = append(s.reqs, load.request(RequestLoad, target))
		if load != s.cell(target) {
			// A state from outside the ring (a resync's): the ring's cell of its frame
			// holds the state it replaces, and a later rollback to that frame (its inputs
			// may not all be here yet) must find this one.
			s.reqs = append(s.reqs, s.saveRequest())
		}
		for s.frame < now {
			s.reqs = append(s.reqs, s.advanceRequest(row))
			row++
			s.frame++
			s.reqs = append(s.reqs, s.saveRequest())
		}
	}
	s.firstIncorrect = NullFrame
	s.rollbackRows = row
}

// growRows makes room in the input and status buffers for rows advance requests (a
// resync's replay is deeper than any rollback).
func (s *syncLayer) growRows(rows int) {
	width := s.players * s.inputSize
	if len(s.inputBuf) < rows*width {
		s.inputBuf = make([]byte, rows*width)
		s.statusBuf = make([]InputStatus, rows*s.players)
	}
}

// catchup plans only the pending rollback, if any, and no new frame.
func (s *syncLayer) catchup() []Request {
	s.reqs = s.reqs[:0]
	s.lastRollback = 0
	if !s.started {
		return s.reqs
	}
	s.rollback()
	return s.reqs
}

// rollbackTo forces a rollback to frame f on the next advance (the sync test uses it).
func (s *syncLayer) rollbackTo(f Frame) {
	if f >= 0 && f < s.frame && (s.firstIncorrect == NullFrame || f < s.firstIncorrect) {
		s.firstIncorrect = f
	}
}

func (s *syncLayer) saveRequest() Request {
	c := s.cell(s.frame)
	c.frame = s.frame
	c.summed = false // the save about to run replaces state
	return c.request(RequestSave, s.frame)
}

// advanceRequest gathers every player's input for the current frame into row and records
// which inputs the frame ran with, so a later real input can be checked against them.
func (s *syncLayer) advanceRequest(row int) Request {
	width := s.players * s.inputSize
	buf := s.inputBuf[row*width : (row+1)*width : (row+1)*width]
	status := s.statusBuf[row*s.players : (row+1)*s.players : (row+1)*s.players]
	for p := range s.queues {
		q := &s.queues[p]
		in := q.input(s.frame)
		copy(buf[p*s.inputSize:], in)
		copy(q.slot(q.used, s.frame), in)
		switch {
		case s.frame <= q.known:
			status[p] = InputConfirmed
		case q.connected:
			status[p] = InputPredicted
		default:
			status[p] = InputDisconnected
		}
	}
	return Request{Kind: RequestAdvance, Frame: s.frame, Inputs: buf, Status: status}
}

// savedCell returns the cell holding frame f's saved state, if the ring still holds it.
func (s *syncLayer) savedCell(f Frame) (*cell, bool) {
	if f < 0 || f > s.frame || !s.started {
		return nil, false
	}
	c := s.cell(f)
	if c.frame != f {
		return nil, false
	}
	return c, true
}

// savedChecksum returns the checksum of the state saved for frame f, if the ring still holds
// it, hashing the state on first use.
func (s *syncLayer) savedChecksum(f Frame) (uint64, bool) {
	c, ok := s.savedCell(f)
	if !ok {
		return 0, false
	}
	return c.checksum(), true
}
