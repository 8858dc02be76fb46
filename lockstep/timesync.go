// Time sync: keeping the peers at the same frame by asking the one that runs ahead to wait.

package lockstep

// timeSync samples how far this peer runs ahead of the slowest other one and, once per
// window, asks it to wait half the difference both sides see: each side skips its share, so
// the two meet in the middle and rollbacks stay short on both.
func (s *Session) timeSync() {
	adv, any := 0, false
	for _, ep := range s.peers {
		if ep == nil || ep.state != epRunning || !ep.haveReport {
			continue
		}
		a := (s.localAdvantage(ep) - ep.remoteAdvantage) / 2
		if !any || a > adv {
			adv, any = a, true
		}
	}
	if !any {
		return
	}
	s.advSamples[s.advCount%timeSyncWindow] = adv
	s.advCount++
	if s.advCount%timeSyncWindow != 0 || s.waitFrames > 0 {
		return
	}
	sum := 0
	for _, v := range s.advSamples {
		sum += v
	}
	wait := (sum + timeSyncWindow/2) / timeSyncWindow
	if wait >= 1 {
		s.waitFrames = min(wait, maxTimeSyncWait)
		s.emit(Event{Kind: EventTimeSyncWait, Frames: s.waitFrames, Player: -1})
	}
}

// localAdvantage is how many frames we are ahead of ep, by our estimate of its frame now.
func (s *Session) localAdvantage(ep *endpoint) int {
	if !ep.haveReport {
		return 0
	}
	elapsed := s.now - ep.remoteFrameAt + ep.rtt/2
	est := ep.remoteFrame + Frame(elapsed/s.cfg.FrameDuration)
	return int(s.sync.frame - est)
}
