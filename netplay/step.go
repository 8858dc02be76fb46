package netplay

import (
	"time"

	"p2pa/lockstep"
)

// step is the only place the runner drives the session's frame contract (lockstep's
// Step). input is the local input for the next frame; nil means "start no new frame": only
// fold in late remote inputs (the match has played its last frame). Unless it returns
// StatusAdvanced the input was not taken; it is offered again next tick. A runner bug (a
// wrong input size) ends the match: StatusEnded.
func (r *Runner) step(now time.Duration, input []byte) lockstep.Status {
	status, reqs, err := r.leg().Step(now, input)
	if err != nil {
		r.fail(EndFailed, err) // a runner bug (wrong input size): stop rather than loop
		return lockstep.StatusEnded
	}
	if len(reqs) > 0 {
		r.apply(reqs)
	}
	r.noteEndReached()
	return status
}

func (r *Runner) apply(reqs []lockstep.Request) {
	if err := lockstep.Apply(r.game, reqs); err != nil {
		r.fail(EndFailed, err)
	}
}
