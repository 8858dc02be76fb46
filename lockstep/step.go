// Step: the one call a game loop makes every tick, and the typed status it returns.

package lockstep

import (
	"fmt"
	"time"
)

// Status says what a Step did. Only StatusAdvanced takes the offered input: after any other
// status the caller offers the same input again on the next tick. That is what makes a
// seeded bot repeatable: its input for frame f depends only on its seed and f, not on how
// often the network made the session wait.
type Status uint8

const (
	// StatusAdvanced: the local input was taken and the requests advance the game one new
	// frame (after a rollback, if a remote input proved a prediction wrong).
	StatusAdvanced Status = iota + 1
	// StatusCaughtUp: Step was given a nil input, so no new frame was started; the requests
	// only fold in late remote inputs (a rollback, possibly none). A match that is ending
	// calls Step(now, nil) until its last frame is confirmed. A session that rejoined a
	// match returns it once, on its first Step, with the one request that loads the state
	// it was handed (the input was not taken); so does a session that was handed the right
	// state of a resync, with the requests that load it and replay to the present.
	StatusCaughtUp
	// StatusWaiting: advancing would run more than MaxPrediction frames past the last frame
	// whose inputs are all known. The tick is skipped (keep drawing); the session recovers
	// by itself when remote inputs arrive.
	StatusWaiting
	// StatusSendQueueFull: a peer has not acknowledged so many local inputs that no more fit
	// in the ring. Like StatusWaiting, the tick is skipped and the session recovers when
	// acknowledgements arrive (or the peer is dropped).
	StatusSendQueueFull
	// StatusTimeSync: time sync asks this peer to skip this tick because it runs ahead of
	// the others (see EventTimeSyncWait). Each such tick uses up one frame of the wait.
	StatusTimeSync
	// StatusSynchronizing: the handshake is not done yet; keep calling Receive, Outgoing
	// and Step.
	StatusSynchronizing
	// StatusEnded: the session stopped for good, because of a failed handshake, a desync,
	// or Close; Err says why (nil after Close).
	StatusEnded
)

var statusNames = [...]string{
	StatusAdvanced:      "advanced",
	StatusCaughtUp:      "caught up",
	StatusWaiting:       "waiting for remote input",
	StatusSendQueueFull: "send queue full",
	StatusTimeSync:      "time sync wait",
	StatusSynchronizing: "synchronizing",
	StatusEnded:         "ended",
}

func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Stalled reports whether the session is running but could not advance this tick for want
// of the peers (StatusWaiting: their inputs; StatusSendQueueFull: their
// acknowledgements). That is what "stall" means everywhere in p2pa (netplay's
// Counters.Stalls too). A time-sync wait (StatusTimeSync) is not a stall: this peer chose
// to skip a tick to let the others catch up, and a HUD counts it apart.
func (s Status) Stalled() bool {
	return s == StatusWaiting || s == StatusSendQueueFull
}

// Step runs one tick of the game loop: it offers the local input for the current frame and
// returns what it did and the work the game must do, as requests for Apply. now is the
// caller's clock, the same one given to Receive and Outgoing. The requests are empty unless
// the status is StatusAdvanced or StatusCaughtUp; they belong to the session and are valid
// until the next call (see Request).
//
// The contract: if the status is StatusAdvanced the input was taken (it plays
// InputDelay frames from now); with any other status it was not, and the caller offers the
// same input again next tick. A nil input means "start no new frame": the session only folds
// in late remote inputs (StatusCaughtUp), which is how a match that has played its last
// frame gets that frame confirmed.
//
// Waiting for the network, time-sync waits, the handshake and the end of the session are
// statuses, not errors. The error is only for caller bugs (an input of the wrong size); the
// session is unchanged when it is returned.
func (s *Session) Step(now time.Duration, input []byte) (Status, []Request, error) {
	s.now = now
	if input != nil && len(input) != s.cfg.InputSize {
		return 0, nil, fmt.Errorf("step: input of %d bytes, want %d", len(input), s.cfg.InputSize)
	}
	switch s.state {
	case StateSynchronizing:
		return StatusSynchronizing, nil, nil
	case StateRunning:
	default:
		return StatusEnded, nil, nil
	}
	s.collectChecksums()
	if s.state != StateRunning {
		return StatusEnded, nil, nil
	}
	if s.loadPending {
		// A rejoiner's first Step: the game takes the state it was handed (rejoin.go).
		s.loadPending = false
		s.loadCell.frame, s.loadCell.state = 0, s.resumeState
		s.loadReqs = append(s.loadReqs[:0], s.loadCell.request(RequestLoad, 0))
		return StatusCaughtUp, s.loadReqs, nil
	}
	if s.replay {
		// The right state of a resync is here: load it and replay to the present (resync.go).
		return StatusCaughtUp, s.replayResync(), nil
	}
	if input == nil {
		return StatusCaughtUp, s.sync.catchup(), nil
	}
	if s.waitFrames > 0 {
		s.waitFrames--
		return StatusTimeSync, nil, nil
	}
	if !s.sync.canAdvance() {
		return StatusWaiting, nil, nil
	}
	if !s.addLocalInput(input) {
		return StatusSendQueueFull, nil, nil
	}
	reqs := s.sync.advance()
	s.timeSync()
	return StatusAdvanced, reqs, nil
}

// addLocalInput stores the input of the current frame at frame+delay. After the delay was
// raised, the frames in between get the last local input repeated; after it was lowered, the
// current frame already holds an input given under the old delay, and this one is dropped
// (those frames were promised to the peers already). false: a peer's backlog is too long.
func (s *Session) addLocalInput(input []byte) bool {
	q := &s.sync.queues[s.local]
	target := s.sync.frame + Frame(s.inputDelay)
	if q.known >= target {
		return true
	}
	if int(target-s.sync.oldestNeeded()) >= ringFrames {
		return false
	}
	for _, ep := range s.peers {
		if ep != nil && ep.state == epRunning && int(target-ep.acked) >= ringFrames/2 {
			return false
		}
	}
	for q.known < target-1 {
		// Gap frames after a raised delay repeat the last local input (a zero input before
		// the first one), as a prediction of them would.
		if !s.sync.addInput(s.local, q.known+1, q.input(q.known+1)) {
			return false
		}
	}
	return s.sync.addInput(s.local, target, input)
}

// InputDelay is the local input delay in frames (Config.InputDelay, or what SetInputDelay
// last set).
func (s *Session) InputDelay() int { return s.inputDelay }

// SetInputDelay changes the local input delay, at any time, without a desync: inputs already
// given keep their frames, so the peers keep agreeing on every frame's inputs. Raising the
// delay by k fills the k frames in between with the last local input repeated; lowering it
// by k drops the local inputs of the next k Steps that advance (those frames already hold
// inputs given under the old delay), after which inputs take effect sooner.
func (s *Session) SetInputDelay(frames int) error {
	if frames < 0 || frames > MaxInputDelay {
		return fmt.Errorf("input delay: %d is not in 0..%d", frames, MaxInputDelay)
	}
	s.inputDelay = frames
	return nil
}
