// Time sync: keeping the peers at the same frame by asking the one that runs ahead to wait.

package lockstep

import "time"

// timeSync samples how far this peer runs ahead of the slowest other one and, once per
// window, asks it to wait half the difference both sides see: each side skips its share, so
// the two meet in the middle and rollbacks stay short on both.
func (s *Session) timeSync() {
	adv, any := 0, false
	for _, ep := range s.peers {
		if ep == nil || ep.state != epRunning || !ep.haveReport {
			continue
		}
		a := sharedAdvantage(s.localAdvantage(ep), ep.remoteAdvantage)
		if !any || a > adv {
			adv, any = a, true
		}
	}
	if !any {
		return
	}
	if wait := s.advantages.add(adv, s.waitFrames > 0); wait > 0 {
		s.waitFrames = wait
		s.emit(Event{Kind: EventTimeSyncWait, Frames: s.waitFrames, Player: -1})
	}
}

// sharedAdvantage is this peer's share of the gap between two peers: local is how far we
// think we are ahead of the other, remote how far it thinks it is ahead of us (so about
// -local when both estimates agree). Each side waits for half the gap.
func sharedAdvantage(local, remote int) int {
	return (local - remote) / 2
}

// advantageWindow averages the advantage samples of one time-sync window, one sample a frame.
type advantageWindow struct {
	samples [timeSyncWindow]int
	count   int
}

// add records one sample. When it completes a window it returns the frames to wait: the
// window's mean rounded to the nearest frame, at most maxTimeSyncWait, and 0 when the mean is
// under half a frame. It returns 0 mid-window and while a wait is still running (waiting),
// which would otherwise be counted twice.
func (w *advantageWindow) add(adv int, waiting bool) int {
	w.samples[w.count%timeSyncWindow] = adv
	w.count++
	if w.count%timeSyncWindow != 0 || waiting {
		return 0
	}
	sum := 0
	for _, v := range w.samples {
		sum += v
	}
	wait := (sum + timeSyncWindow/2) / timeSyncWindow
	if wait < 1 {
		return 0
	}
	return min(wait, maxTimeSyncWait)
}

// localAdvantage is how many frames we are ahead of ep, by our estimate of its frame now.
func (s *Session) localAdvantage(ep *endpoint) int {
	return ep.advantage(s.sync.frame, s.now, s.cfg.FrameDuration)
}

// advantage is how many frames ours (frame) is ahead of the peer's, by the estimate of its
// frame now from its latest quality report; 0 before any.
func (ep *endpoint) advantage(frame Frame, now, frameDur time.Duration) int {
	if !ep.haveReport {
		return 0
	}
	return int(frame - estimateFrame(ep.remoteFrame, now-ep.remoteFrameAt, ep.rtt, frameDur))
}

// estimateFrame is where a peer that reported being at frame reported, elapsed ago, is now:
// the report was already half a round trip old when it arrived, and the peer has run one
// frame per frameDur since.
func estimateFrame(reported Frame, elapsed, rtt, frameDur time.Duration) Frame {
	return reported + Frame((elapsed+rtt/2)/frameDur)
}
