// Send back-off: how a session keeps its traffic under the rate of a thin link.

package lockstep

import "time"

// Every message repeats all the inputs the peer has not acknowledged (the receiver needs
// start <= its known+1), so a message grows with the round trip. On a link slower than what
// the session offers, a queue builds up in front of the link, the round trip grows, the
// messages grow with it and the queue grows faster still: the game stalls behind seconds of
// queued, mostly redundant inputs. Two things break that loop.
//
// The cap: a message carries at most maxInputBytes of encoded inputs, oldest first; the
// rest wait for the next message (by then the peer may have acknowledged the oldest). On a
// healthy link a message never comes near the cap.
//
// The back-off: the session watches, per peer, the acknowledgement delay: from the moment a
// local frame first went on the wire to the moment the peer's acknowledgement of it arrives.
// Its minimum over the last window (about 8 to 16 s) is the floor: the path's own round trip
// plus the peer's reply time. What a smoothed sample has above the floor is queueing. While
// that exceeds backoffHigh the session sends to that peer only every backoff+1 frames (each
// message then carries those frames' inputs together), doubling the interval each time, up
// to maxBackoff+1 frames; once it is under backoffLow it steps back one frame at a time. It
// changes the level at most once per adjustment period (a smoothed round trip, and at least
// backoffHold), so it sees the effect of one change before making the next. Fewer messages
// carry the same inputs in fewer bytes (less header and less repetition), so the offered
// load falls under the link's rate and the queue drains. Keep-alives are not held back.
//
// A LAN, or any link whose delay does not grow with our traffic, keeps the delay at its
// floor and never leaves level 0, where the send rule is exactly the usual one: a message
// every frame. Jitter of a few tens of milliseconds stays under backoffHigh. A game that
// still cannot get its inputs across in time slows down through the prediction limit and time
// sync, as on any slow link. An outage is not mistaken for a queue: the late
// acknowledgements after it count for at most maxQueueingSample each.
const (
	maxInputBytes = 256                    // encoded inputs in one message; see above
	maxBackoff    = 5                      // at most a message every 6 frames (10 a second at 60 Hz)
	backoffHigh   = 100 * time.Millisecond // smoothed queueing delay that makes us send less often
	backoffLow    = 40 * time.Millisecond  // and under which we send more often again
	backoffHold   = 250 * time.Millisecond // shortest time between two level changes
	floorWindow   = 8 * time.Second        // the floor is the minimum over the last one or two windows

	maxQueueingSample = 2 * backoffHigh // the most one acknowledgement adds to the queueing estimate
)

// congestion is one peer's back-off state.
type congestion struct {
	sentAt     [ringFrames]time.Duration // when each local frame first went on the wire, by frame mod ringFrames
	floor      time.Duration             // minimum acknowledgement delay in the current window
	prevFloor  time.Duration             // and in the one before
	windowAt   time.Duration             // start of the current window
	haveFloor  bool
	havePrev   bool
	queueing   time.Duration // smoothed delay above the floor
	smoothed   time.Duration // smoothed acknowledgement delay
	backoff    int           // send every backoff+1 frames
	adjustedAt time.Duration
}

// sent notes that local frames from..to went on the wire at now for the first time.
func (c *congestion) sent(from, to Frame, now time.Duration) {
	for f := from; f <= to; f++ {
		c.sentAt[int(f)%ringFrames] = now
	}
}

// acked takes the sample of an acknowledgement of local frame f arriving at now, and moves
// the back-off level. The caller guarantees f was sent within the last ringFrames/2 frames.
func (c *congestion) acked(f Frame, now time.Duration) {
	if f < 0 {
		return
	}
	d := now - c.sentAt[int(f)%ringFrames]
	if d < 0 {
		return
	}
	if !c.haveFloor || now-c.windowAt >= floorWindow {
		c.prevFloor, c.havePrev = c.floor, c.haveFloor
		c.floor, c.windowAt, c.haveFloor = d, now, true
	}
	c.floor = min(c.floor, d)
	floor := c.floor
	if c.havePrev {
		floor = min(floor, c.prevFloor)
	}
	if c.smoothed == 0 {
		c.smoothed = d
	}
	c.smoothed = (7*c.smoothed + d) / 8
	// One sample counts for at most maxQueueingSample: the acknowledgements that follow an
	// outage come seconds late once, which is not a queue; a real queue keeps them late.
	c.queueing = (7*c.queueing + min(d-floor, maxQueueingSample)) / 8
	if now-c.adjustedAt < max(backoffHold, c.smoothed) {
		return
	}
	switch {
	case c.queueing > backoffHigh && c.backoff < maxBackoff:
		c.backoff = min(2*c.backoff+1, maxBackoff)
		c.adjustedAt = now
	case c.queueing < backoffLow && c.backoff > 0:
		c.backoff--
		c.adjustedAt = now
	}
}

// interval is how long to wait between two messages that carry nothing the peer must hear
// at once: 0 at level 0 (a message every frame, the usual rule), otherwise backoff frames and
// a half, so a loop whose ticks come a little early still sends every backoff+1 ticks.
func (c *congestion) interval(frame time.Duration) time.Duration {
	if c.backoff == 0 {
		return 0
	}
	return time.Duration(c.backoff)*frame + frame/2
}

// capInputs cuts encoded inputs b to its longest prefix of whole tokens of at most limit
// bytes (at least one token), and returns it with the number of inputs it encodes. b must
// be well formed, as appendInputs makes it.
func capInputs(b []byte, size, limit int) ([]byte, int) {
	count, end := 0, 0
	for it := (inputTokens{b: b, size: size}); it.next(); {
		if it.end > limit && count > 0 {
			break
		}
		count, end = count+it.inputs, it.end
	}
	return b[:end], count
}
