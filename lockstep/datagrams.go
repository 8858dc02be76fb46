// Datagrams in and out: Receive dispatches what arrives by message type, Outgoing runs the
// timers and returns what to send, queue builds each datagram into the shared buffer.

package lockstep

import (
	"fmt"
	"net/netip"
	"time"
)

// Datagram is a message for the caller to send. Data is valid until the next call to the
// session.
type Datagram struct {
	To   netip.AddrPort
	Data []byte
}

// Receive hands the session one datagram that arrived from from at time now. Anything that
// is not a valid message from a peer is dropped and counted (see Stats); nothing a datagram
// contains can make the session panic or desynchronize.
func (s *Session) Receive(from netip.AddrPort, data []byte, now time.Duration) {
	s.now = now
	from = unmap(from)
	if s.state == StateFailed {
		// Over: nothing a datagram says matters now, and a failed handshake must not go
		// on reporting progress after its EventFailed.
		s.drops.Stale++
		return
	}
	if len(data) > MaxDatagram {
		s.drops.Oversized++
		return
	}
	h, err := parseHeader(data)
	if err != nil {
		s.drops.Malformed++
		return
	}
	// The type only selects the integrity check; nothing else is read before it passes.
	switch h.typ {
	case msgSyncRequest, msgSyncReply, msgReject:
		if s.state == StateClosed {
			s.drops.Stale++ // the game is over here; only a peer still playing is answered
			return
		}
		d, ok := checkCRC(data)
		if !ok {
			s.drops.Corrupt++
			return
		}
		s.receiveSync(from, h, d, len(data))
	case msgWatchAck:
		s.receiveWatchAck(from, data)
	case msgStateAck:
		if w := s.watcherAt(from); w != nil {
			s.receiveWatchStateAck(w, data) // a spectator's: the state it is handed
			return
		}
		fallthrough
	case msgInput, msgBye, msgState, msgIntro, msgResync, msgResyncAck:
		if h.typ == msgBye && s.state == StateClosed {
			s.drops.Stale++ // we said goodbye first: nothing left to agree on
			return
		}
		if ep, d := s.authenticated(from, data); ep != nil {
			s.receiveFromPeer(ep, h, d[2:], len(data))
		}
	default:
		s.drops.Malformed++
	}
}

// receiveFromPeer dispatches a message whose tag proved it comes from ep; body follows the
// header, size is the datagram's.
func (s *Session) receiveFromPeer(ep *endpoint, h header, body []byte, size int) {
	switch h.typ {
	case msgInput:
		s.receiveInput(ep, h, body, size)
	case msgBye:
		s.receiveBye(ep, body, size)
	case msgState:
		s.receiveState(ep, body, size)
	case msgStateAck:
		s.receiveStateAck(ep, body, size)
	case msgIntro:
		s.receiveIntro(ep, body, size)
	case msgResync:
		s.receiveResync(ep, body, size)
	case msgResyncAck:
		s.receiveResyncAck(ep, body, size)
	}
}

// receiveBye handles a peer's goodbye: it left at frame end.
func (s *Session) receiveBye(ep *endpoint, body []byte, size int) {
	r := reader{b: body}
	end := Frame(r.uvarint(maxFrameOnWire))
	if r.err != nil || len(r.b) != 0 {
		s.drops.Malformed++
		return
	}
	ep.count(size)
	if s.cfg.resume != nil && s.state == StateSynchronizing && !ep.loaded {
		s.reopenSeat(ep) // a rejoin attempt gave up: the seat waits for another
		return
	}
	if ep.state == epGone {
		return
	}
	// Frames up to end ran on the peer's real inputs only if we hold all of them.
	ep.endFrame = min(end, s.sync.queues[ep.player].known+1)
	s.drop(ep, EventPeerLeft)
	if s.state == StateSynchronizing {
		s.fail(fmt.Errorf("player %d left before the game started", ep.player))
	}
}

// Outgoing runs the session's timers (handshake retries, keep-alives, timeouts) and returns
// the datagrams to send now. The slice and its data are valid until the next call.
func (s *Session) Outgoing(now time.Duration) []Datagram {
	s.now = now
	s.noticeOwnStall(now)
	if s.outTaken {
		s.out, s.outBuf, s.outTaken = s.out[:0], s.outBuf[:0], false
	}
	switch s.state {
	case StateSynchronizing:
		for _, ep := range s.peers {
			if ep == nil || !ep.addrKnown || ep.state != epSyncing {
				continue
			}
			if ep.sendSyncNow || now-ep.lastSyncSend >= syncRetry || ep.lastSyncSend == 0 {
				ep.sendSyncNow = false
				ep.lastSyncSend = now
				m := syncMsg{nonce: ep.nonce}
				s.fillSync(&m)
				s.queue(ep.addr, func(b []byte) []byte { return appendSync(b, msgSyncRequest, &m, s.proof) })
			}
		}
		s.sendIntros()
		s.keepSeats()
		s.sendHandover()
	case StateDesync:
		// Stopped, but still telling the peers our checksum of the desynced frame.
		for _, ep := range s.peers {
			if ep != nil && ep.state == epRunning && ep.sumSendsLeft > 0 {
				s.sendInputs(ep)
			}
		}
	case StateRunning:
		s.sendIntros()
		s.sendWatchers(false)
		s.collectChecksums()
		s.sendResync()
		for _, ep := range s.peers {
			if ep == nil || ep.state != epRunning {
				continue
			}
			s.checkTimeout(ep)
			ep.rate.update(now, ep)
			if ep.state == epRunning {
				s.sendInputs(ep)
				s.probeRestart(ep)
			}
		}
	}
	s.outTaken = true
	return s.out
}

// queue appends one datagram, built by build into the shared output buffer.
func (s *Session) queue(to netip.AddrPort, build func([]byte) []byte) {
	if s.outTaken {
		s.out, s.outBuf, s.outTaken = s.out[:0], s.outBuf[:0], false
	}
	if len(s.out) >= maxPendingOut || cap(s.outBuf)-len(s.outBuf) < MaxDatagram {
		s.drops.Overflow++
		return
	}
	start := len(s.outBuf)
	s.outBuf = build(s.outBuf)
	d := Datagram{To: to, Data: s.outBuf[start:len(s.outBuf):len(s.outBuf)]}
	s.out = append(s.out, d)
	for _, ep := range s.peers {
		if ep != nil && ep.addrKnown && ep.addr == to {
			ep.bytesOut += uint64(len(d.Data))
			ep.packetsOut++
			ep.lastSend = s.now
		}
	}
}
