// Inputs: the local player's, advancing the game on them, and the input messages that carry
// inputs, acknowledgements, quality reports and checksums between running peers.

package lockstep

import "time"

func (s *Session) receiveInput(ep *endpoint, h header, body []byte, size int) {
	var m inputMsg
	if err := parseInput(body, h.flags, s.cfg.InputSize, &m); err != nil {
		s.drops.Malformed++
		return
	}
	if s.state == StateSynchronizing {
		s.inputWhileSyncing(ep, h, &m)
		return
	}
	if s.state != StateRunning || ep.state != epRunning {
		s.drops.Stale++   // the game or this peer is over: nothing it says matters now
		s.answerStale(ep) // but the peer may not know it yet
		return
	}
	ep.count(size)
	if h.flags&flagRoster != 0 && !s.receiveRoster(ep, &m) {
		s.drops.Malformed++
		return
	}
	malformed := s.drops.Malformed
	fresh := false
	if m.ack > ep.acked {
		// A peer cannot have inputs we never sent: such an ack is forged or corrupt.
		if m.ack > s.sync.queues[s.local].known {
			s.drops.Malformed++
			return
		}
		ep.acked = m.ack
		ep.congestion.acked(m.ack, s.now)
		fresh = true
	}
	if s.receiveInputs(ep, &m) {
		fresh = true
	}
	if h.flags&flagQuality != 0 && ep.receiveQuality(&m, s.now) {
		fresh = true
	}
	if !fresh {
		// Nothing new: a duplicate or a replay (or a bad one, counted already). Only news
		// proves the peer is alive.
		if s.drops.Malformed == malformed {
			s.drops.Stale++
		}
		return
	}
	ep.lastRecv = s.now
	if ep.interrupted {
		ep.interrupted = false
		s.emit(Event{Kind: EventResumed, Player: ep.player})
	}
	if h.flags&flagChecksum != 0 {
		s.remoteChecksum(ep, m.sumFrame, m.sum)
	}
}

// inputWhileSyncing handles an input message from a peer that finished its handshake
// before us; its inputs come again until we ack. A peer we are waiting for to load a
// handed-over state plays on it now.
func (s *Session) inputWhileSyncing(ep *endpoint, h header, m *inputMsg) {
	ep.lastRecv = s.now
	if h.flags&flagChecksum != 0 {
		// Its checksum report rides on only a few messages: keep it for when we have
		// that frame (a rejoiner whose state is wrong reports it on its first ones).
		s.remoteChecksum(ep, m.sumFrame, m.sum)
	}
	if !ep.loaded && ep.state == epRunning {
		ep.loaded = true
		s.startIfAllSynced()
	}
}

// receiveQuality takes in the quality report of an input message: the round trip and the
// peer's frame and advantage. false: the report is a replay. Quality reports carry the
// sender's clock, which only moves forward: an older or repeated one is a replay and must
// not count as a sign of life or skew the RTT.
func (ep *endpoint) receiveQuality(m *inputMsg, now time.Duration) bool {
	if ep.havePing && int32(m.ping-ep.lastPing) <= 0 {
		return false
	}
	ep.lastPing, ep.lastPingAt, ep.havePing = m.ping, now, true
	if m.echo != 0 {
		rtt := time.Duration(uint32(micros(now))-m.echo-m.held) * time.Microsecond
		if rtt >= 0 && rtt < 10*time.Second {
			if ep.rtt == 0 {
				ep.rtt = rtt
			} else {
				ep.rtt = (3*ep.rtt + rtt) / 4
			}
		}
	}
	if m.frame >= ep.remoteFrame {
		ep.remoteFrame, ep.remoteFrameAt = m.frame, now
		ep.remoteAdvantage = int(m.advantage)
		ep.haveReport = true
	}
	return true
}

// fillQuality puts our quality report into m: our clock, the echo of the peer's, our frame
// and our advantage over the peer.
func (ep *endpoint) fillQuality(m *inputMsg, now time.Duration, frame Frame, advantage int) {
	ep.lastQuality = now
	m.ping = micros(now)
	if ep.havePing {
		m.echo = ep.lastPing
		m.held = uint32((now - ep.lastPingAt) / time.Microsecond)
	}
	m.frame = frame
	m.advantage = int32(advantage)
}

func micros(d time.Duration) uint32 {
	v := uint32(d / time.Microsecond)
	if v == 0 {
		v = 1
	}
	return v
}

// receiveInputs adds the new inputs of a message to the peer's queue; false if none were new.
func (s *Session) receiveInputs(ep *endpoint, m *inputMsg) bool {
	if m.count == 0 {
		return false
	}
	q := &s.sync.queues[ep.player]
	last := m.start + Frame(m.count) - 1
	if last <= q.known {
		return false
	}
	// The encoding is relative to input start-1, which we must hold: the sender starts
	// right after our acknowledgement, so a later start is a forged or corrupt message.
	if m.start > q.known+1 || int(q.known-m.start) >= ringFrames/2 {
		s.drops.Malformed++
		return false
	}
	base := q.zero
	if m.start > 0 {
		base = q.slot(q.inputs, m.start-1)
	}
	added := false
	decodeInputs(m.inputs, base, m.count, s.cfg.InputSize, s.decoded, func(i int, in []byte) {
		f := m.start + Frame(i)
		if f == q.known+1 && s.sync.addInput(ep.player, f, in) {
			added = true
		}
	})
	if added {
		ep.oweAck = true
	}
	return added
}

// inputsDue reports whether ep has something new to hear (inputs from..to among them),
// unless its link is backed off.
func (s *Session) inputsDue(ep *endpoint, from, to Frame, since time.Duration) bool {
	if wait := ep.congestion.interval(s.cfg.FrameDuration); wait > 0 && since < wait {
		return false // backed off: what is new waits for the next message
	}
	return to > ep.lastSentTo || ep.oweAck || ep.sumSendsLeft > 0 || ep.rosterDirty ||
		(from <= to && since >= 2*s.cfg.FrameDuration)
}

// sendInputs sends ep the local inputs it has not acknowledged (oldest first, up to
// maxInputBytes of them), with our acknowledgement of its inputs, when there is something
// new to say or the keep-alive is due. A peer behind a congested link hears from us only
// every few frames (see backoff.go).
func (s *Session) sendInputs(ep *endpoint) {
	q := &s.sync.queues[s.local]
	from, to := ep.acked+1, q.known
	since := s.now - ep.lastSend
	if !s.inputsDue(ep, from, to, since) && since < s.cfg.KeepAlive {
		return
	}
	var flags uint8
	m := inputMsg{start: from, ack: s.sync.queues[ep.player].known}
	// A keep-alive always carries a quality report: its fresh clock reading is what proves
	// us alive to a peer that ignores replays. Otherwise one every qualityInterval is enough.
	if since >= s.cfg.KeepAlive || s.now-ep.lastQuality >= qualityInterval || ep.lastQuality == 0 {
		flags |= flagQuality
		ep.fillQuality(&m, s.now, s.sync.frame, s.localAdvantage(ep))
	}
	if len(s.peers) > 2 {
		flags |= flagRoster
		s.fillRoster(ep, &m)
		ep.rosterDirty = false
	}
	if (ep.sumSendsLeft > 0 || s.pinned) && s.latestSum.set {
		flags |= flagChecksum
		ep.sumSendsLeft = max(ep.sumSendsLeft-1, 0)
		m.sumFrame, m.sum = s.latestSum.frame, s.latestSum.sum
	}
	count := min(int(to-from+1), maxInputsPerSend)
	if count < 0 {
		count = 0
	}
	size := s.cfg.InputSize
	for i := range count {
		copy(s.scratch[i*size:], q.slot(q.inputs, from+Frame(i)))
	}
	base := q.zero
	if from > 0 {
		base = q.slot(q.inputs, from-1)
	}
	m.inputs = appendInputs(s.encoded[:0], base, s.scratch[:count*size], size)
	if len(m.inputs) > maxInputBytes {
		// Over the cap: keep the oldest inputs, whole tokens of them, which encode exactly
		// the first count inputs; the rest go in a later message.
		m.inputs, count = capInputs(m.inputs, size, maxInputBytes)
	}
	m.count = count
	s.queue(ep.addr, func(b []byte) []byte {
		start := len(b)
		return ep.mac.appendTag(appendInput(b, &m, flags), start, s.local)
	})
	if last := from + Frame(count) - 1; last > ep.lastSentTo {
		ep.congestion.sent(max(ep.lastSentTo+1, from), last, s.now)
		ep.lastSentTo = last
	}
	ep.oweAck = false
}
