// Resync: mending a desync without ending the match (the default; Config.StopOnDesync
// turns it off).
//
// The model. The peers compare the checksums of confirmed frames every ChecksumInterval
// frames (checksums.go). When a peer finds one that differs from its own, at frame F, it
// opens a vote on F: from then on every input message it sends carries its checksum of F
// (not only the first checksumRepeats of them), so every peer hears every other's even on
// a lossy link, and the peers that had not noticed the mismatch notice it. A peer decides
// once it holds the checksum of F of every player still in the match, its own among them.
// The right state is the one most of them hold; when two groups are as large (and always
// with two players) it is the one the lowest-numbered player holds, player 0 while it is
// there. All peers decide from the same checksums by the same rule, so they agree without
// another round trip. The donor is the lowest-numbered player holding the right state;
// every player holding another one is a receiver; the others (bystanders) go on.
//
// The handover. The donor kept its state of F (checksums.go keeps the state of every
// checksum frame for desync dumps) and hands it to each receiver in chunks, with the
// window, acknowledgements and resends of a rejoin's handover (rejoin.go, handover.go),
// as msgResync and msgResyncAck messages (below), while the match goes on: nobody pauses.
// A receiver keeps its confirmed inputs from F in the ring meanwhile (syncLayer.keepFrom),
// stops reporting checksums (its states from F on are wrong), and plays on. Once it holds
// the whole state and its checksum is the agreed one, its next Step loads it and replays
// every frame from F to the present on the inputs it holds, as one deep rollback: the
// game gets a Load request and Advance and Save requests as in any rollback, and the Step
// returns StatusCaughtUp (the input was not taken). Its checksum of F is then the right
// one, and it collects the checksums after F afresh from the replayed states.
//
// Every peer emits one EventResync per receiver: a bystander when it decides, the donor
// when the receiver acknowledged the whole state, the receiver when it loaded it. Each
// also keeps its own state of F for forensics (DesyncState), as a desync that stops does.
// Mismatches at F and before are settled once the peer decided; while a resync is under
// way on a peer, a mismatch at a later frame is not voted on (the replay mends it).
//
// Desyncs that come back. A peer counts the votes it opened in the last minute (by the
// now it is given); the (maxDesyncsPerMinute+1)th within a minute stops the session as
// StopOnDesync does, with an EventDesync whose Err says the game is not deterministic: a
// game that diverges on every frame must not loop through resyncs. A receiver whose
// replay cannot be done (its inputs from F are no longer in the ring) or whose handover
// makes no progress for DisconnectTimeout stops the same way.
//
// Wire: resync chunk: magic | type 11 | frame F (uvarint) | state size (uvarint) | chunk
// index (uvarint) | bytes | tag (8). Resync acknowledgement: magic | type 12 | frame F
// (uvarint) | next (uvarint) | bitmap (uvarint) | tag (8), laid out as a rejoin's (type
// 10). A peer that does not know the types drops them as malformed.

package lockstep

import (
	"fmt"
	"time"
)

const (
	// maxDesyncsPerMinute is how many desyncs within desyncWindow a session resyncs;
	// one more stops it.
	maxDesyncsPerMinute = 3
	desyncWindow        = time.Minute
)

// resyncs is a session's side of resyncs.
type resyncs struct {
	vote    Frame           // the frame whose checksums we are gathering; NullFrame: none
	settled Frame           // the latest frame a vote decided: its mismatches are over
	pinned  bool            // every input message carries latestSum (the vote's frame)
	desyncs []time.Duration // when the votes of the last desyncWindow opened

	resyncEvent Event // the latest decision's event, the player to fill in

	// donor: the state we hand over, and its frame
	donation      []byte
	donationFrame Frame

	// receiver: the handover we receive, the state to replay from once it is whole, and
	// the handover we finished (a late chunk is answered with a full acknowledgement)
	resyncIn   *handoverIn
	replayCell cell
	replay     bool
	resyncDone *handoverIn
}

// linkResync is a peer's side of resyncs.
type linkResync struct {
	heard     [checksumHistory]checksumReport // the peer's checksum reports, by frame
	resyncOut *handoverWindow                 // our handover of the right state to it
	// resyncAsked: it acknowledged our handover once. Chunks may reach it before it
	// decided too (then it drops them): its first acknowledgement, which says what it
	// holds, has the rest sent at once rather than after handoverResend.
	resyncAsked bool
}

// resyncCompare takes in one comparison of our checksum of frame f with a peer's.
func (s *Session) resyncCompare(f Frame, local, remote uint64) {
	if f <= s.settled || s.resyncBusy() {
		return
	}
	if s.vote == NullFrame {
		if local == remote {
			return
		}
		if !s.openVote(f) {
			return
		}
	}
	if f == s.vote {
		s.decide()
	}
}

// resyncBusy reports whether a resync is under way here: we receive or replay a state, or
// hand one over.
func (s *Session) resyncBusy() bool {
	if s.resyncIn != nil || s.replay {
		return true
	}
	for _, ep := range s.peers {
		if ep != nil && ep.resyncOut != nil && !ep.resyncOut.done && ep.state == epRunning {
			return true
		}
	}
	return false
}

// openVote starts gathering every player's checksum of frame f, or stops the session if
// desyncs came back too often. false: it stopped.
func (s *Session) openVote(f Frame) bool {
	kept := s.desyncs[:0]
	for _, at := range s.desyncs {
		if s.now-at < desyncWindow {
			kept = append(kept, at)
		}
	}
	s.desyncs = append(kept, s.now)
	if len(s.desyncs) > maxDesyncsPerMinute {
		player, remote := s.firstDiffering(f)
		s.stopDesync(player, f, remote, fmt.Errorf("%d desyncs within %v: the game is not deterministic",
			len(s.desyncs), desyncWindow))
		return false
	}
	s.vote = f
	s.latestSum, s.pinned = s.localSums[s.sumIndex(f)].checksumReport, true
	return true
}

// firstDiffering is the lowest-numbered peer whose checksum of f we heard differ from
// ours, and that checksum.
func (s *Session) firstDiffering(f Frame) (int, uint64) {
	i := s.sumIndex(f)
	for _, ep := range s.peers {
		if ep != nil && ep.heard[i].set && ep.heard[i].frame == f && ep.heard[i].sum != s.localSums[i].sum {
			return ep.player, ep.heard[i].sum
		}
	}
	return s.local, s.localSums[i].sum
}

// agreedState is the vote's rule: of the checksums of the players in (sums by player), the
// one most of them hold, the lowest-numbered player's among groups as large; and the
// lowest-numbered player holding it, the donor.
func agreedState(sums *[MaxPlayers]uint64, in *[MaxPlayers]bool) (right uint64, donor int) {
	best, bestN := -1, 0
	for p := range MaxPlayers {
		if !in[p] {
			continue
		}
		n := 0
		for q := range MaxPlayers {
			if in[q] && sums[q] == sums[p] {
				n++
			}
		}
		if n > bestN {
			best, bestN = p, n
		}
	}
	return sums[best], best
}

// decide settles the open vote once every player still in the match has told its
// checksum of the vote's frame: it starts the handovers we take part in and says what
// was decided.
func (s *Session) decide() {
	f := s.vote
	i := s.sumIndex(f)
	rec := &s.localSums[i]
	var sums [MaxPlayers]uint64
	var in [MaxPlayers]bool
	sums[s.local], in[s.local] = rec.sum, true
	for _, ep := range s.peers {
		if ep == nil || ep.state == epGone {
			continue
		}
		h := ep.heard[i]
		if !h.set || h.frame != f {
			return // not yet
		}
		sums[ep.player], in[ep.player] = h.sum, true
	}
	right, donor := agreedState(&sums, &in)
	s.vote, s.settled = NullFrame, f
	s.desyncFrame, s.desyncState = f, append(s.desyncState[:0], rec.state...)
	s.resyncEvent = Event{Kind: EventResync, Frame: f, Donor: donor, Local: rec.sum, Remote: right}
	if donor == s.local {
		s.donation, s.donationFrame = append(s.donation[:0], rec.state...), f
	}
	for p := range MaxPlayers {
		if !in[p] || sums[p] == right {
			continue
		}
		switch {
		case p == s.local:
			s.receiveResyncFrom(s.peers[donor], f, right)
		case donor == s.local:
			s.peers[p].resyncOut, s.peers[p].resyncAsked = newHandoverWindow(chunksOf(len(s.donation))), false
		default:
			s.emitResync(p)
		}
		if s.state != StateRunning {
			return
		}
	}
}

func (s *Session) emitResync(player int) {
	e := s.resyncEvent
	e.Player = player
	s.emit(e)
}

// receiveResyncFrom starts receiving the right state of frame f from donor, or stops the
// session if our inputs from f are no longer there to replay.
func (s *Session) receiveResyncFrom(donor *endpoint, f Frame, right uint64) {
	for p := range s.sync.queues {
		if int(s.sync.queues[p].known-f) >= ringFrames {
			s.stopDesync(donor.player, f, right, fmt.Errorf("the inputs from frame %d are no longer here to replay", f))
			return
		}
	}
	s.sync.keepFrom = f
	s.resyncIn = &handoverIn{donor: donor, info: resumeInfo{frame: f, sum: right}, dirty: true, lastProgress: s.now}
}

// Resyncing reports whether a resync's handover is under way here: we hand the right state
// to a peer or receive it. A runner then calls Outgoing as datagrams arrive, not only once
// a frame, so the handover takes round trips rather than frames (as in a handshake).
func (s *Session) Resyncing() bool { return s.state == StateRunning && s.resyncBusy() }

// replaying reports whether our states from a resync's frame on are wrong: the right one
// is on its way, or here and not replayed yet.
func (s *Session) replaying() bool { return s.resyncIn != nil || s.replay }

// receiveResync takes in one chunk of the right state, as a receiver.
func (s *Session) receiveResync(ep *endpoint, body []byte, size int) {
	var m stateChunkMsg
	if err := parseStateChunk(body, msgResync, &m); err != nil {
		s.drops.Malformed++
		return
	}
	in := s.resyncIn
	if in == nil || in.donor != ep || m.frame != in.info.frame || s.state != StateRunning {
		if d := s.resyncDone; d != nil && d.donor == ep && d.info.frame == m.frame {
			d.dirty = true // the donor missed our last acknowledgement: say it again
		}
		s.drops.Stale++
		return
	}
	ep.count(size)
	if in.buf == nil {
		in.info.size = m.size
		in.buf, in.have = make([]byte, m.size), make([]bool, chunksOf(m.size))
	} else if m.size != in.info.size {
		s.drops.Malformed++
		return
	}
	if !s.takeChunk(in, ep, m.index, m.data) {
		return
	}
	s.resyncIn, s.resyncDone = nil, in
	s.replayCell.frame, s.replayCell.state, s.replayCell.summed = in.info.frame, in.buf, false
	s.replay = true
}

// receiveResyncAck takes in a receiver's acknowledgement, as the donor.
func (s *Session) receiveResyncAck(ep *endpoint, body []byte, size int) {
	var m stateAckMsg
	if err := parseStateAck(body, &m); err != nil {
		s.drops.Malformed++
		return
	}
	w := ep.resyncOut
	if w == nil || m.frame != s.donationFrame {
		s.drops.Stale++
		return
	}
	if m.next > len(w.acked) {
		s.drops.Malformed++
		return
	}
	ep.count(size)
	ep.lastRecv = s.now
	done := w.done
	w.ack(m.next, m.bits)
	if !ep.resyncAsked {
		ep.resyncAsked = true
		w.unsend()
	}
	if w.done && !done {
		s.emitResync(ep.player)
	}
}

// sendResync runs both sides of the resync handovers in Outgoing: a receiver's
// acknowledgements, a donor's chunks.
func (s *Session) sendResync() {
	if in := s.resyncIn; in != nil {
		if s.now-in.lastProgress >= s.cfg.DisconnectTimeout {
			s.stopDesync(in.donor.player, in.info.frame, in.info.sum, fmt.Errorf("the resync from player %d stalled at %d of %d bytes",
				in.donor.player, min(in.held*stateChunk, in.info.size), in.info.size))
			return
		}
		if in.dirty || s.now-in.lastAck >= stateAckEvery {
			in.dirty, in.lastAck = false, s.now
			s.queue(in.donor.addr, func(b []byte) []byte { return s.appendStateAck(b, msgResyncAck, in) })
		}
	}
	if d := s.resyncDone; d != nil && d.dirty && d.donor.state == epRunning {
		d.dirty = false
		s.queue(d.donor.addr, func(b []byte) []byte { return s.appendStateAck(b, msgResyncAck, d) })
	}
	for _, ep := range s.peers {
		if ep != nil && ep.resyncOut != nil && !ep.resyncOut.done && ep.state == epRunning {
			s.sendChunks(ep, ep.resyncOut, msgResync, s.donationFrame, s.donation)
		}
	}
}

// resyncTick retries an open vote (a player that left no longer counts).
func (s *Session) resyncTick() {
	if s.vote != NullFrame && s.state == StateRunning {
		s.decide()
	}
}

// replayResync is a receiver's Step once the right state is here: the requests that load
// it and replay every frame from its frame to the present.
func (s *Session) replayResync() []Request {
	s.replay = false
	f := s.replayCell.frame
	s.sync.reload = &s.replayCell
	reqs := s.sync.catchup()
	s.sync.keepFrom = NullFrame
	// Our checksum of f is the right one now, and those after it are collected afresh
	// from the replayed states.
	rec := &s.localSums[s.sumIndex(f)]
	rec.sum, rec.state = s.replayCell.checksum(), append(rec.state[:0], s.replayCell.state...)
	if s.latestSum.frame == f {
		s.latestSum = rec.checksumReport
	}
	for i := range s.localSums {
		if s.localSums[i].frame > f {
			s.localSums[i].set = false
		}
	}
	s.nextChecksum = f + Frame(s.cfg.ChecksumInterval)
	s.emitResync(s.local)
	return reqs
}
