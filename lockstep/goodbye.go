// Goodbyes for peers that did not hear ours: a peer we dropped for silence, or one still
// sending after we closed, is told the game is over as soon as it speaks again; and a
// session that was not run for a while gives its peers a moment to say so.

package lockstep

import (
	"encoding/binary"
	"time"
)

// byeReplyEvery bounds how often a peer that should know the game is over is answered with
// a goodbye: once per this interval, however many datagrams it sends. The peer stops
// sending once one of them arrives, so the cost is a few tiny datagrams.
const byeReplyEvery = 100 * time.Millisecond

// appendBye appends a goodbye for ep saying our game ends at frame end, tagged under our
// match key with ep: frames before end ran on the real inputs we know of for the receiver
// (see Receive). Close sends the same message.
func (s *Session) appendBye(b []byte, ep *endpoint, end Frame) []byte {
	start := len(b)
	b = binary.AppendUvarint(appendHeader(b, msgBye, 0), uint64(end))
	return ep.mac.appendTag(b, start, s.local)
}

// answerStale is called for an input datagram from peer ep that arrives when its inputs
// no longer matter: the game is over here, or ep was dropped. A dropped peer is often not
// gone: a process stopped for a while (SIGSTOP, a suspended laptop, a debugger) resumes and
// goes on sending, never having heard that we gave up on it; without an answer it would
// show the interruption until its own timeout and then end on a frame of its own choosing.
// So it gets a goodbye naming the frame our game ended at for it (its endFrame), and both
// sides end on that frame. A session we closed answers peers still playing with the
// goodbye Close sent, in case that was lost.
func (s *Session) answerStale(ep *endpoint) {
	var end Frame
	switch {
	case ep.mac == nil:
		return
	case ep.state == epGone && s.cfg.Rejoin:
		return // it may come back in the next leg: do not tell it the match is over
	case ep.state == epGone:
		end = ep.endFrame
	case s.state == StateClosed:
		end = s.sync.queues[s.local].known + 1
	default:
		return
	}
	if ep.byeReplied && s.now-ep.lastByeReply < byeReplyEvery {
		return
	}
	ep.byeReplied, ep.lastByeReply = true, s.now
	s.queue(ep.addr, func(b []byte) []byte { return s.appendBye(b, ep, end) })
}

// noticeOwnStall runs at the start of Outgoing. A gap of more than InterruptTimeout since
// the previous call means this process did not run (it was stopped, suspended, starved):
// the peers' silence over the gap says nothing about them, but a peer that was running has
// probably dropped us meanwhile. Rather than drop it in turn at once, on a frame of our own
// choosing, each running peer gets InterruptTimeout from now to be heard from: a peer that
// dropped us answers our next inputs with a goodbye naming its end frame (answerStale), so
// both sides end on the same frame; a peer that is gone is dropped when the grace is over.
//
// What arrives after the gap may have been sent during it and waited in the socket: it
// does not show the peer is there now. Only an acknowledgement of an input we sent after
// the gap does; until then the peer's silence counts from the grace.
//
// If the peer stays silent it is dropped, and the frame our game ends at is then capped at
// what the peer can have held of ours: one past the last input we had sent it before the
// stall (see endAfterStall).
func (s *Session) noticeOwnStall(now time.Duration) {
	before := s.lastOutgoing
	stalled := s.outgoingSeen && now-before > s.cfg.InterruptTimeout
	s.lastOutgoing, s.outgoingSeen = now, true
	for _, ep := range s.peers {
		if ep != nil {
			ep.afterStall()
		}
	}
	if !stalled || s.state != StateRunning {
		return
	}
	grace := now - (s.cfg.DisconnectTimeout - s.cfg.InterruptTimeout)
	for _, ep := range s.peers {
		if ep != nil && ep.state == epRunning {
			ep.noteStall(before, grace)
		}
	}
}

// afterStall runs on every Outgoing for a link we stalled on: once the peer holds an input
// we sent since the stall it is there; until then, inputs that arrive may have waited in
// the socket since the stall, so its silence still counts from the grace.
func (ep *endpoint) afterStall() {
	switch {
	case !ep.stalled:
	case ep.acked >= ep.stallEnd:
		ep.stalled = false // it holds an input we sent since: it is there
	default:
		ep.lastRecv = min(ep.lastRecv, ep.stallGrace)
	}
}

// noteStall notes that this process did not run since before: the peer's silence counts
// from then, or from grace at the latest, and its end is capped at one past the last input
// we had sent it.
func (ep *endpoint) noteStall(before, grace time.Duration) {
	ep.lastRecv = max(min(ep.lastRecv, before), grace)
	ep.stalled, ep.stallGrace, ep.stallEnd = true, ep.lastRecv, ep.lastSentTo+1
}

// endAfterStall is the end frame for a peer dropped for silence, end being one past the
// last input of it we hold. A peer that went silent while we were stalled has most likely
// ended its own game meanwhile, at one past the last input of ours it held, which is at
// most what we had sent it; while we were stopped it went on sending inputs for a few
// frames more, and those waited in our socket. Ending at the smaller of the two, both sides
// usually agree; when datagrams were lost they may still differ by a few frames.
func (ep *endpoint) endAfterStall(end Frame) Frame {
	if ep.stalled {
		return min(end, ep.stallEnd)
	}
	return end
}
