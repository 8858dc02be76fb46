package netplay

import (
	"errors"
	"time"

	"p2pa/lockstep"
)

// stepStatus is what one frame step did.
type stepStatus uint8

const (
	stepAdvanced   stepStatus = iota + 1 // the game advanced (requests applied)
	stepWaiting                          // waiting for remote input; the input was not taken
	stepTimeSync                         // time sync skips this tick; the input was not taken
	stepNotRunning                       // the session is not running
)

// step is the only place the runner drives the session's frame contract. input is the
// local input for the next frame; nil means "take no input": fold in late remote inputs
// (the match is ending), or advance on the local inputs already queued (input delay).
// Unless it returns stepAdvanced the input was not taken; it is offered again next tick.
func (r *Runner) step(now time.Duration, input []byte) stepStatus {
	s := r.sess
	if !s.Running() {
		return stepNotRunning
	}
	if input == nil && s.LastLocalFrame() < s.Frame() {
		reqs, err := s.Catchup(now)
		if err != nil {
			return stepNotRunning
		}
		r.apply(reqs)
		return stepWaiting
	}
	if s.Wait() {
		return stepTimeSync
	}
	if input != nil {
		err := s.AddLocalInput(input)
		switch {
		case err == nil, errors.Is(err, lockstep.ErrInputAlreadyAdded):
		case errors.Is(err, lockstep.ErrPredictionThreshold), errors.Is(err, lockstep.ErrSendQueueFull):
			return stepWaiting
		default:
			return stepNotRunning
		}
	}
	reqs, err := s.Advance(now)
	switch {
	case err == nil:
		r.apply(reqs)
		return stepAdvanced
	case errors.Is(err, lockstep.ErrPredictionThreshold):
		return stepWaiting
	}
	return stepNotRunning
}

func (r *Runner) apply(reqs []lockstep.Request) {
	if err := lockstep.Apply(r.game, reqs); err != nil {
		r.fail(EndFailed, err)
	}
}
