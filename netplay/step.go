package netplay

import (
	"time"

	"p2pa/lockstep"
)

// stepStatus is what one frame step did.
type stepStatus uint8

const (
	stepAdvanced   stepStatus = iota + 1 // the game advanced (requests applied)
	stepWaiting                          // waiting for remote input, or caught up only; the input was not taken
	stepTimeSync                         // time sync skips this tick; the input was not taken
	stepNotRunning                       // the session is not running
)

// step is the only place the runner drives the session's frame contract (lockstep's
// Step). input is the local input for the next frame; nil means "start no new frame": only
// fold in late remote inputs (the match has played its last frame). Unless it returns
// stepAdvanced the input was not taken; it is offered again next tick.
func (r *Runner) step(now time.Duration, input []byte) stepStatus {
	res, err := r.leg().Step(now, input)
	if err != nil {
		r.fail(EndFailed, err) // a runner bug (wrong input size): stop rather than loop
		return stepNotRunning
	}
	if len(res.Requests) > 0 {
		r.apply(res.Requests)
	}
	switch res.Status {
	case lockstep.StatusAdvanced:
		return stepAdvanced
	case lockstep.StatusCaughtUp, lockstep.StatusWaiting, lockstep.StatusSendQueueFull:
		return stepWaiting
	case lockstep.StatusTimeSync:
		return stepTimeSync
	}
	return stepNotRunning
}

func (r *Runner) apply(reqs []lockstep.Request) {
	if err := lockstep.Apply(r.game, reqs); err != nil {
		r.fail(EndFailed, err)
	}
}
