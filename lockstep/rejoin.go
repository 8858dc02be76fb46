// Rejoin: a later leg of a match in progress, and the state handover that brings a player
// who dropped out back into it.
//
// The model. A match is a sequence of legs. Each leg is one Session, with its own handshake
// and its own frame numbers from 0; the first leg starts from the seed, and every later leg
// starts from a saved state of the match at some frame F (Match.NextLeg), which is that
// leg's frame 0. When a player drops, the survivors' runner ends the leg at the last frame
// every survivor has confirmed, rolls its game back to that frame, and opens the next leg
// from the state there: a Session whose Config Match.NextLeg made, whose handshake waits for the missing
// seat. The player who comes back runs a fresh session, the same one that would start a new
// match: it learns from the handshake that the match is in progress, and gets the state
// handed over before it plays. So nothing of the old leg has to survive in the rejoiner's
// process, which is what a crash or kill -9 leaves it.
//
// The handshake. A session that resumes sends a resume block in every handshake message: the
// match id, F, and the length and checksum of its state. Once a session has made its round
// trips with every peer it compares the blocks: the largest F announced is where the leg
// starts. Every peer that announced that F must hold the same state (same length and
// checksum), or the leg fails: the survivors would not agree. A session with no state, or an
// older one (a survivor that confirmed less, when both sides dropped each other), receives
// the state from the donor, the lowest-numbered peer that announced it, and starts on it.
// Those that held the state start once every receiver has sent its first input: then it
// holds the state, so the donor is still there to hand it over and nobody runs ahead of
// it; a receiver starts as soon as it holds the state (two receivers must not wait for
// each other).
//
// The handover. The state is cut into chunks of stateChunk bytes that fit a datagram with
// room to spare. The receiver asks for them with state acknowledgements (the first chunk it
// lacks, and a bitmap of the 64 after it), sent whenever chunks arrived and at least every
// stateAckEvery; the donor sends what is not acknowledged, at most a window of chunks in
// flight, and sends a chunk again once it has waited handoverResend unacknowledged. The
// window opens by one chunk for every chunk acknowledged and halves whenever a chunk must
// be sent again (at most once per handoverResend; between handoverMinWindow and
// handoverMaxWindow), so a thin link's queue
// is not flooded and a fast one fills quickly. Every
// chunk and acknowledgement carries the pair's tag (wire.go), so a flipped bit or a stranger
// cannot put a byte into the state; the whole state's checksum (stateChecksum, as announced
// in the handshake) is checked before it is used, and a mismatch starts the handover over.
// A handover that makes no progress for DisconnectTimeout fails the receiver's handshake; the
// survivors keep waiting for another try until their runner's rejoin window ends.
//
// Confirmed frames stay. With Config.Rejoin, the frames a survivor plays after a dropped
// player's last real input run on a stand-in (that input repeated), and a rejoin resumes the
// match at the first of them with the player's real inputs. So they are not confirmed while
// a rejoin may come: not reported (the runner's OnConfirmed, recordings), not sent to
// spectators, not checksummed for the peers, until the runner gives up on the rejoin
// (Match.GiveUpRejoins). A frame once confirmed is never taken back, and a match that a player
// left and rejoined has run every frame on the inputs it would have run on without the
// departure.
//
// Seats. In a leg that resumes, a seat whose address was not given is open to the player who
// comes back for it, from whatever address; a seat held by a live peer stays taken ("match
// full"). A running session that lets players rejoin refuses nobody for a seat it dropped
// and may still get back (the next leg answers), and a newcomer for a seat whose player was
// heard from less than InterruptTimeout ago waits unanswered until that player proves to
// be there ("match full") or falls silent (the seat is dropped for the newcomer): a
// supervisor that restarts a killed process at once must not find its seat "taken" by the
// dead one (rejoinAttempt). A joiner that player 0 has taken does not believe another
// player's "match full": player 0 decides the seats, and that player may be between two
// legs of the match. A rejoin attempt with another secret, game or seed is refused with a reject that
// says why, and changes nothing here: the leg waits on (EventRejoinRefused). A seat taken by
// an attempt that then fell silent for InterruptTimeout before playing is open again.
//
// With Config.Rejoin a running session also helps the rejoin start: a valid handshake for a
// seat whose player has been silent for InterruptTimeout (its process was restarted and
// lost everything) drops that player at once, rather than after DisconnectTimeout; a peer
// gone quiet is sent a handshake request every syncRetry, so that a restarted player 0,
// which knows nobody's address, hears of us and starts that handshake (probeRestart); and
// a dropped peer that speaks again is not told the match is over (answerStale), because it
// may come back in the next leg. An input message that arrives while a leg is still in its
// handshake gives up its checksum report for later (a rejoiner with a wrong state reports
// it on its first messages, and would otherwise go unnoticed by the donor).
//
// Wire: state chunk: magic | type 9 | frame F (uvarint) | chunk index (uvarint) | bytes |
// tag (8). State acknowledgement: magic | type 10 | frame F (uvarint) | next (uvarint: every
// chunk before it is held) | bitmap (uvarint: bit i set when chunk next+1+i is held) | tag (8).

package lockstep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

const (
	// stateChunk is how many state bytes one chunk carries: with the header, frame, index
	// and tag the datagram stays under MaxDatagram.
	stateChunk = 480
	// The window of chunks in flight: where it starts, and its bounds (the top one keeps a
	// burst within the receiver's socket buffer). handoverResend is how long an
	// unacknowledged chunk waits before it is sent again.
	handoverStartWindow = 32
	handoverMinWindow   = 4
	handoverMaxWindow   = 256
	handoverResend      = 80 * time.Millisecond
	// stateAckEvery is the longest a receiver goes without acknowledging: its
	// acknowledgements are also its requests, so a lost one costs at most this long.
	stateAckEvery = 40 * time.Millisecond
	// resumeLen is the size of a handshake's resume block.
	resumeLen = 8 + 4 + 4 + 8
	// refusalEvery bounds how often one address's refused attempts are reported.
	refusalEvery = 5 * time.Second
)

// resumePoint makes a session a later leg of a match in progress (Match.NextLeg puts it in
// the leg's Config): it starts from state, the game's saved state at frame frame of the
// match, which is the leg's frame 0. Its peers must be the match's other players; a seat
// whose address is not given is open to the player who comes back for it (see Rejoining in
// the package doc).
type resumePoint struct {
	match uint64 // the match's id, derived from its first leg; every leg of the match has it
	frame Frame  // how many frames of the match were played before this leg
	state []byte // the game's saved state at frame; the session keeps it (to hand it over) and does not change it
}

// resumeInfo is a handshake's resume block: what its sender resumes from.
type resumeInfo struct {
	set   bool
	match uint64
	frame Frame
	size  int
	sum   uint64
}

func appendResume(b []byte, r *resumeInfo) []byte {
	b = binary.LittleEndian.AppendUint64(b, r.match)
	b = binary.LittleEndian.AppendUint32(b, uint32(r.frame))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.size))
	return binary.LittleEndian.AppendUint64(b, r.sum)
}

func parseResume(b []byte, r *resumeInfo) error {
	if len(b) != resumeLen {
		return errShort
	}
	r.match = binary.LittleEndian.Uint64(b)
	frame := binary.LittleEndian.Uint32(b[8:])
	size := binary.LittleEndian.Uint32(b[12:])
	r.sum = binary.LittleEndian.Uint64(b[16:])
	if frame > maxFrameOnWire {
		return fmt.Errorf("resume frame %d", frame)
	}
	if size == 0 || size > MaxResumeState {
		return fmt.Errorf("resume state of %d bytes", size)
	}
	r.set, r.frame, r.size = true, Frame(frame), int(size)
	return nil
}

func chunksOf(size int) int { return (size + stateChunk - 1) / stateChunk }

// handoverIn is a receiver's side of the handover.
type handoverIn struct {
	donor        *endpoint
	info         resumeInfo
	seed         uint64 // the donor's seed: the match's
	buf          []byte
	have         []bool
	next         int // every chunk before it is held
	held         int // chunks held
	dirty        bool
	lastAck      time.Duration
	lastProgress time.Duration
}

// resumeInfoOf is the block a session that resumes from r announces.
func resumeInfoOf(r *resumePoint) resumeInfo {
	return resumeInfo{set: true, match: r.match, frame: r.frame, size: len(r.state), sum: stateChecksum(r.state)}
}

// BaseFrame is the frame of the match at this leg's frame 0: 0 for the first leg,
// the frame it resumes the match from (Match.NextLeg) for a later one, and, for a session that rejoined, the frame of the state it
// was handed (once running).
func (s *Session) BaseFrame() Frame {
	if !s.resume.set {
		return 0
	}
	return s.resume.frame
}

// handover reports the state handover this session receives: the bytes held so far and the
// state's size; total is 0 when no handover is under way or done.
func (s *Session) handover() (held, total int) {
	if s.recv == nil {
		if s.rejoined {
			return s.resume.size, s.resume.size
		}
		return 0, 0
	}
	return min(s.recv.held*stateChunk, s.recv.info.size), s.recv.info.size
}

// setMatchID derives the first leg's match id once the handshake is done.
func (s *Session) setMatchID() {
	if s.matchID != 0 {
		return
	}
	p0 := s.session
	if s.local != 0 && s.peers[0] != nil {
		p0 = s.peers[0].session
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], p0)
	binary.LittleEndian.PutUint64(b[8:], s.seed)
	s.matchID = stateChecksum(b[:]) | 1
}

// resumeReady is the resume part of startIfAllSynced, once every peer made its round trips:
// it settles where the leg starts, starts or finishes a handover we need, and reports
// whether every peer that needed one holds the state.
func (s *Session) resumeReady() bool {
	target := s.resumeTarget()
	if target == NullFrame {
		return true // a first leg: nobody resumes
	}
	donor, ok := s.resumeDonor(target)
	if !ok {
		return false
	}
	if !s.resume.set || s.resume.frame < target {
		if s.recv == nil || s.recv.info.frame != target {
			s.startHandover(donor)
		}
		return false // the handover finishes in receiveState, which calls startIfAllSynced
	}
	if s.rejoined {
		return true // another receiver may still be loading; it catches up like a late peer
	}
	for _, ep := range s.peers {
		if ep != nil && (!ep.resume.set || ep.resume.frame < target) && !ep.loaded {
			return false // it is being handed the state; it plays once it holds it
		}
	}
	return true
}

// resumeTarget is the latest frame anyone resumes from (ours or a peer's), or NullFrame
// in a first leg.
func (s *Session) resumeTarget() Frame {
	target := NullFrame
	if s.resume.set {
		target = s.resume.frame
	}
	for _, ep := range s.peers {
		if ep != nil && ep.resume.set && ep.resume.frame > target {
			target = ep.resume.frame
		}
	}
	return target
}

// resumeDonor is the first peer resuming from target, after checking that everyone who
// resumes from it holds the same state. false: they differ, and the session failed.
func (s *Session) resumeDonor(target Frame) (*endpoint, bool) {
	var donor *endpoint
	for _, ep := range s.peers {
		if ep == nil || !ep.resume.set || ep.resume.frame != target {
			continue
		}
		ref := ep.resume
		if donor != nil {
			ref = donor.resume
		} else if s.resume.set && s.resume.frame == target {
			ref = s.resume
		}
		if ep.resume.size != ref.size || ep.resume.sum != ref.sum {
			s.fail(fmt.Errorf("%w: the players resuming from frame %d hold different states (checksums %016x, %016x)",
				ErrDesync, target, ref.sum, ep.resume.sum))
			return nil, false
		}
		if donor == nil {
			donor = ep
		}
	}
	return donor, true
}

// newHandoverIn is the receiving side of a handover of the state info announces, none of
// it held yet.
func newHandoverIn(info resumeInfo, now time.Duration) *handoverIn {
	return &handoverIn{info: info, buf: make([]byte, info.size), have: make([]bool, chunksOf(info.size)),
		dirty: true, lastProgress: now}
}

// chunkResult is what taking in one chunk of a handed-over state came to.
type chunkResult uint8

const (
	chunkMalformed chunkResult = iota + 1 // its index or length does not fit the state
	chunkStale                            // held already
	chunkHeld                             // new, and more are to come
	chunkCorrupt                          // the last one, but the state's checksum is wrong: it starts over
	chunkDone                             // the last one: the state is whole and checks
)

var chunkResultNames = [...]string{chunkMalformed: "malformed", chunkStale: "stale", chunkHeld: "held",
	chunkCorrupt: "corrupt", chunkDone: "done"}

func (c chunkResult) String() string {
	if int(c) < len(chunkResultNames) && chunkResultNames[c] != "" {
		return chunkResultNames[c]
	}
	return fmt.Sprintf("chunkResult(%d)", uint8(c))
}

// put takes in chunk idx of the state.
func (in *handoverIn) put(idx int, data []byte, now time.Duration) chunkResult {
	if idx >= len(in.have) || len(data) != min(stateChunk, in.info.size-idx*stateChunk) {
		return chunkMalformed
	}
	if in.have[idx] {
		return chunkStale
	}
	copy(in.buf[idx*stateChunk:], data)
	in.have[idx], in.held, in.dirty = true, in.held+1, true
	in.lastProgress = now
	for in.next < len(in.have) && in.have[in.next] {
		in.next++
	}
	if in.held < len(in.have) {
		return chunkHeld
	}
	if stateChecksum(in.buf) != in.info.sum {
		// Every chunk passed its tag, so this is a donor bug rather than the network;
		// start over rather than play on a state nobody else has.
		clear(in.have)
		in.next, in.held = 0, 0
		return chunkCorrupt
	}
	return chunkDone
}

// ack is the receiver's acknowledgement of what it holds: its request for the rest.
func (in *handoverIn) ack() stateAckMsg {
	m := stateAckMsg{frame: in.info.frame, next: in.next}
	for i := 0; i < 64 && in.next+1+i < len(in.have); i++ {
		if in.have[in.next+1+i] {
			m.bits |= 1 << i
		}
	}
	return m
}

func (s *Session) startHandover(donor *endpoint) {
	s.recv = newHandoverIn(donor.resume, s.now)
	s.recv.donor, s.recv.seed = donor, donor.resumeSeed
	s.emit(Event{Kind: EventHandover, Player: donor.player, Frame: donor.resume.frame, Total: donor.resume.size})
}

// receiveState takes in one chunk of the state we are handed.
func (s *Session) receiveState(ep *endpoint, body []byte, size int) {
	var m stateChunkMsg
	if err := parseStateChunk(body, msgState, &m); err != nil {
		s.drops.Malformed++
		return
	}
	in, idx := s.recv, m.index
	if in == nil || in.donor != ep || m.frame != in.info.frame || s.state != StateSynchronizing {
		s.drops.Stale++
		return
	}
	ep.count(size)
	if !s.takeChunk(in, ep, idx, m.data) {
		return
	}
	ep.lastRecv = s.now
	s.resume, s.resumeState, s.seed, s.matchID = in.info, in.buf, in.seed, in.info.match
	s.rejoined, s.loadPending = true, true
	s.recv = nil
	s.startIfAllSynced()
}

// takeChunk adds chunk idx of the state in is receiving from ep (handoverIn.put), counting
// what it drops; true once the state is whole and its checksum is the announced one.
func (s *Session) takeChunk(in *handoverIn, ep *endpoint, idx int, data []byte) bool {
	r := in.put(idx, data, s.now)
	switch r {
	case chunkMalformed:
		s.drops.Malformed++
		return false
	case chunkStale:
		s.drops.Stale++
		return false
	case chunkCorrupt:
		s.drops.Corrupt++
	}
	ep.lastRecv = s.now
	return r == chunkDone
}

// receiveStateAck takes in a receiver's acknowledgement: a request for what it lacks.
func (s *Session) receiveStateAck(ep *endpoint, body []byte, size int) {
	var m stateAckMsg
	if err := parseStateAck(body, &m); err != nil {
		s.drops.Malformed++
		return
	}
	frame, next := m.frame, m.next
	ep.count(size)
	ep.lastRecv = s.now
	if s.resumeState == nil || frame != s.resume.frame || s.state != StateSynchronizing {
		s.drops.Stale++ // not ours to give: a keep-alive, or an old request
		return
	}
	n := chunksOf(len(s.resumeState))
	if next > n {
		s.drops.Malformed++
		return
	}
	if ep.out == nil {
		ep.out = newHandoverWindow(n)
	}
	ep.out.ack(next, m.bits)
}

// sendHandover runs both sides of the handovers in Outgoing: a receiver's request, a
// donor's chunks.
func (s *Session) sendHandover() {
	if in := s.recv; in != nil {
		if s.now-in.lastProgress >= s.cfg.DisconnectTimeout {
			s.fail(fmt.Errorf("the state handover from player %d stalled at %d of %d bytes",
				in.donor.player, min(in.held*stateChunk, in.info.size), in.info.size))
			return
		}
		if in.dirty || s.now-in.lastAck >= stateAckEvery {
			in.dirty, in.lastAck = false, s.now
			s.queue(in.donor.addr, func(b []byte) []byte { return s.appendStateAck(b, msgStateAck, in) })
		}
	}
	for _, ep := range s.peers {
		if ep != nil && ep.out != nil && !ep.out.done && !ep.loaded && ep.mac != nil {
			s.sendChunks(ep, ep.out, msgState, s.resume.frame, s.resumeState)
		}
	}
}

// appendStateAck appends an acknowledgement (msgStateAck or msgResyncAck) of what in holds.
func (s *Session) appendStateAck(b []byte, typ msgType, in *handoverIn) []byte {
	start := len(b)
	m := in.ack()
	return in.donor.mac.appendTag(appendStateAckMsg(b, typ, &m), start, s.local)
}

// sendChunks sends ep the chunks of state (of frame f) it lacks that are not in flight,
// within window w and the room left in this call's output, as messages of type typ
// (msgState for a rejoin, msgResync for a resync).
func (s *Session) sendChunks(ep *endpoint, w *handoverWindow, typ msgType, f Frame, state []byte) {
	w.send(s.now,
		func() bool { return len(s.out) < maxPendingOut-2 }, // leave room for the handshake; the rest goes in the next call
		func(i int) {
			s.queue(ep.addr, func(b []byte) []byte { return s.appendChunkFor(b, ep.mac, typ, f, state, i) })
		})
}

// appendChunkFor appends chunk i of state, the match's at frame, as a message of type typ
// (msgState, or msgResync), tagged with key (a peer's, or a spectator's: spectator.go).
func (s *Session) appendChunkFor(b []byte, key *mac, typ msgType, frame Frame, state []byte, i int) []byte {
	start := len(b)
	end := min((i+1)*stateChunk, len(state))
	m := stateChunkMsg{frame: frame, size: len(state), index: i, data: state[i*stateChunk : end]}
	return key.appendTag(appendStateChunk(b, typ, &m), start, s.local)
}

// refuse answers a handshake the session will not take. A first leg's handshake fails on
// it, as it always did; a leg that resumes a match goes on whatever a newcomer says, so a
// bad rejoin attempt is told why and changes nothing here. true: refused without failing.
func (s *Session) refuse(from netip.AddrPort, h header, code rejectCode, m *syncMsg) bool {
	if s.cfg.resume == nil {
		return false
	}
	s.drops.Foreign++
	if h.typ != msgSyncRequest {
		return true
	}
	s.queueReject(from, code)
	s.noteRefusal(from, code, m)
	return true
}

// noteRefusal reports a refused rejoin attempt (EventRejoinRefused), once per refusalEvery
// for the same address: an attempt that missed our reject retries a few times.
func (s *Session) noteRefusal(from netip.AddrPort, code rejectCode, m *syncMsg) {
	if from != s.lastRefused || s.now-s.lastRefusedAt >= refusalEvery {
		s.lastRefused, s.lastRefusedAt = from, s.now
		s.emit(Event{Kind: EventRejoinRefused, Player: int(m.player), Addr: from, Err: s.refusalError(code, m)})
	}
}

// refusalError words why we refused a rejoin attempt, from our side.
func (s *Session) refusalError(code rejectCode, m *syncMsg) error {
	switch code {
	case rejectSecret:
		return errors.New("the secrets differ")
	case rejectSeed:
		return fmt.Errorf("it was given seed %d; the match plays seed %d", m.seed, s.seed)
	case rejectGame:
		return fmt.Errorf("it plays %q, the match plays %q", m.game, s.cfg.Game)
	case rejectMatch:
		return errors.New("it resumes another match")
	}
	return s.mismatchError(code, m)
}

// mayReseat reports whether seat ep may go to a newcomer during the handshake (see
// seatPolicy.mayReseat).
func (s *Session) mayReseat(ep *endpoint) bool { return s.seats().mayReseat(ep.holder()) }

// keepSeats is a resuming leg's part of Outgoing while it waits: a peer that finished its
// round trips hears a sync request every KeepAlive, and its reply (receiveSync) shows it is
// still there, so a survivor that dies during the pause frees its seat for its restart.
func (s *Session) keepSeats() {
	if s.cfg.resume == nil {
		return
	}
	for _, ep := range s.peers {
		if ep == nil || !ep.addrKnown || ep.mac == nil || ep.state != epRunning || ep.loaded ||
			s.now-ep.lastSyncSend < s.cfg.KeepAlive {
			continue
		}
		ep.lastSyncSend = s.now
		m := syncMsg{nonce: ep.nonce}
		s.fillSync(&m)
		s.queue(ep.addr, func(b []byte) []byte { return appendSync(b, msgSyncRequest, &m, s.proof) })
	}
}

// reseatable reports whether some seat may go to a newcomer (mayReseat).
func (s *Session) reseatable() bool {
	for _, ep := range s.peers {
		if ep != nil && s.mayReseat(ep) {
			return true
		}
	}
	return false
}

// reseat gives seat ep to a newcomer at from: its handshake starts over.
func (s *Session) reseat(ep *endpoint, from netip.AddrPort) {
	if s.recv != nil && s.recv.donor == ep {
		s.recv = nil
	}
	*ep = *newEndpoint(ep.player)
	for i := range ep.views {
		ep.views[i].last = NullFrame
	}
	ep.addr, ep.addrKnown, ep.learned = from, true, true
	ep.nonce = s.newNonce()
	ep.lastRecv = s.now
}

// reopenSeat makes seat ep of a resuming leg wait for a new attempt: at its given address
// with a fresh handshake, or, if the address was learned, from any address.
func (s *Session) reopenSeat(ep *endpoint) {
	addr, learned := ep.addr, ep.learned
	s.reseat(ep, addr)
	if learned {
		ep.addr, ep.addrKnown = netip.AddrPort{}, false
	} else {
		ep.learned, ep.sendSyncNow = false, true
	}
}

// probeRestart is a running session's part (Config.Rejoin) for a peer gone quiet: it is
// sent a handshake request every syncRetry. A live peer answers it as a stale request; a
// restarted process there (player 0 starts again on its own port and knows nobody) learns
// our address from it and starts its handshake with us, which restartedSeat then takes as
// the restart it is, a second or so after the death instead of DisconnectTimeout.
func (s *Session) probeRestart(ep *endpoint) {
	if !s.cfg.Rejoin || s.keepAliveOnly || !ep.interrupted || !ep.addrKnown || s.now-ep.lastSyncSend < syncRetry {
		return
	}
	ep.lastSyncSend = s.now
	m := syncMsg{nonce: ep.nonce}
	s.fillSync(&m)
	s.queue(ep.addr, func(b []byte) []byte { return appendSync(b, msgSyncRequest, &m, s.proof) })
}

// restartedSeat is a running session's part (Config.Rejoin): a valid handshake for seat ep,
// whose player has been silent for InterruptTimeout, means the player's process started
// again and lost the match: drop the seat now, so the next leg can wait for it. true: ep
// was dropped.
func (s *Session) restartedSeat(ep *endpoint, h header) bool {
	if !s.seats().restarted(ep.holder(), h.typ == msgSyncRequest) {
		return false
	}
	s.drop(ep, EventDisconnected)
	return true
}

// giveUpRejoins makes the stand-in inputs of the players this session dropped final (see
// Match.GiveUpRejoins).
func (s *Session) giveUpRejoins() {
	for p := range s.sync.queues {
		s.sync.queues[p].held = false
	}
}

// isHandshake reports whether a datagram is a handshake message (a sync request, reply or
// reject), by its header alone. Match routes these to the newest leg.
func isHandshake(data []byte) bool {
	h, err := parseHeader(data)
	return err == nil && (h.typ == msgSyncRequest || h.typ == msgSyncReply || h.typ == msgReject)
}

// isWatchRequest reports whether a datagram is a spectator's handshake request, by its
// header alone. Match routes these to the running leg.
func isWatchRequest(data []byte) bool {
	h, err := parseHeader(data)
	return err == nil && h.typ == msgSyncRequest && h.flags&flagWatch != 0
}

// authentic reports whether data is an input, goodbye, introduction, handover or resync datagram
// from one of this session's peers whose tag verifies under their pair's key. It changes
// nothing and counts nothing: Match, routing datagrams between two legs, asks the new leg
// first.
func (s *Session) authentic(from netip.AddrPort, data []byte) bool {
	h, err := parseHeader(data)
	if err != nil || len(data) > MaxDatagram {
		return false
	}
	switch h.typ {
	case msgInput, msgBye, msgIntro, msgState, msgStateAck, msgResync, msgResyncAck:
	default:
		return false
	}
	ep := s.peerAt(unmap(from))
	if ep == nil || ep.mac == nil {
		return false
	}
	_, ok := ep.mac.verify(ep.player, data)
	return ok
}

// peerConnected reports whether player p is a remote player still in the match (not
// dropped, not left).
func (s *Session) peerConnected(p int) bool {
	return p >= 0 && p < len(s.peers) && s.peers[p] != nil && s.peers[p].state != epGone
}
