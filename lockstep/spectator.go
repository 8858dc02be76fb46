// Spectators: processes that watch a match without playing in it. A spectator talks to
// player 0 only. Player 0 keeps every confirmed input of the match from frame 0 (a few bytes
// a frame: Config.Spectators > 0 turns this on) and sends each spectator the rows it does not
// hold yet, oldest first, delta-coded against the row before; the spectator acknowledges
// what it holds. Only confirmed inputs travel, so a spectator never predicts or rolls back:
// it runs the game forward on them, fast while it is far behind (a late spectator
// fast-forwards from frame 0), then one frame a tick, a few frames behind the newest row.
//
// A spectator costs the players nothing but those datagrams: player 0 holds no state per
// spectator beyond its address, key and acknowledgement, never waits for one, and forgets
// one that has been silent for DisconnectTimeout. At most Config.Spectators (up to
// MaxSpectators) watch at once; one more is refused ("no room for spectators").
//
// The handshake is the players' one with flagWatch set: the spectator's request names no
// player (watchTag), and player 0's replies carry the match's players, input size, game and
// seed, which the spectator adopts. Its proof and the datagrams after it are keyed like a
// pair of players (the match key of both session nonces, player 0's first); the spectator
// signs as watchTag.
//
// Wire: msgWatch: magic | type 7 | start frame (uvarint) | rows to the end | tag, a row being
// every player's input of one frame; msgWatchAck: magic | type 8 | frames held (uvarint) |
// tag. Player 0's goodbye (msgBye) tells a spectator the match is over; with flagLegEnded,
// that the match went on after a rejoin in a leg the spectator cannot follow, its frame
// being the last one of the leg it watched (rows of stand-in inputs for a player who may
// rejoin are never sent: a spectator only ever shows frames the match had).

package lockstep

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// watchTag stands for the spectator where a player number goes: in its handshake and in the
// tags of what it sends.
const watchTag = 0xff

const (
	watchWindow   = 600                    // rows sent ahead of the spectator's acknowledgement
	watchRewind   = 250 * time.Millisecond // no progress for this long: send again from the ack
	watchBurst    = 4                      // datagrams to one spectator per Outgoing call at most
	watchBuffer   = 3                      // frames a following spectator stays behind the newest
	watchFastStep = 300                    // frames a spectator that is behind runs in one Step
)

// watcher is player 0's view of one spectator.
type watcher struct {
	addr     netip.AddrPort
	session  uint64
	mac      *mac
	live     bool  // it acknowledged something: it holds the key
	held     Frame // frames it holds (rows 0..held-1)
	sentTo   Frame // rows sent: 0..sentTo-1
	lastRecv time.Duration
	lastSend time.Duration
	lastAck  time.Duration
}

// recordHistory appends the rows of newly confirmed frames to the history spectators get.
func (s *Session) recordHistory() {
	if s.cfg.Spectators == 0 {
		return
	}
	last := min(s.sync.confirmedInputs(), s.sync.frame-1)
	for f := s.histFrames; f <= last; f++ {
		for p := range s.sync.queues {
			s.history = append(s.history, s.sync.queues[p].input(f)...)
		}
		s.histFrames = f + 1
	}
}

func (s *Session) rowSize() int { return s.cfg.Players * s.cfg.InputSize }

func (s *Session) row(f Frame) []byte {
	n := s.rowSize()
	return s.history[int(f)*n : int(f+1)*n]
}

// receiveWatchSync answers a spectator's handshake request (player 0 only).
func (s *Session) receiveWatchSync(from netip.AddrPort, h header, m *syncMsg) {
	if h.typ != msgSyncRequest || m.player != watchTag {
		s.drops.Foreign++
		return
	}
	if s.local == 0 && s.cfg.resume != nil {
		s.queueReject(from, rejectResumed) // its history of inputs starts mid-match
		s.drops.Foreign++
		return
	}
	if s.local != 0 || s.cfg.Spectators == 0 || s.state == StateClosed {
		s.queueReject(from, rejectWatch)
		s.drops.Foreign++
		return
	}
	if !hmac.Equal(s.proof.tag(watchTag, m.signed), m.proof) {
		s.queueReject(from, rejectSecret)
		s.drops.Unauthenticated++
		return
	}
	w := s.watcherAt(from)
	if w == nil || w.session != m.session {
		if w == nil {
			s.forgetSilentWatchers()
			if len(s.watchers) >= s.cfg.Spectators {
				s.queueReject(from, rejectWatch)
				s.drops.Foreign++
				return
			}
			w = &watcher{addr: from}
			s.watchers = append(s.watchers, w)
		}
		*w = watcher{addr: from, session: m.session, mac: newMAC(matchKey(s.root, s.session, m.session))}
	}
	w.lastRecv = s.now
	reply := syncMsg{nonce: m.nonce, watch: true}
	s.fillSync(&reply)
	reply.watch = true
	s.queue(from, func(b []byte) []byte { return appendSync(b, msgSyncReply, &reply, s.proof) })
}

func (s *Session) watcherAt(from netip.AddrPort) *watcher {
	for _, w := range s.watchers {
		if w.addr == from {
			return w
		}
	}
	return nil
}

func (s *Session) forgetSilentWatchers() {
	kept := s.watchers[:0]
	for _, w := range s.watchers {
		if s.now-w.lastRecv < s.cfg.DisconnectTimeout {
			kept = append(kept, w)
		}
	}
	clear(s.watchers[len(kept):])
	s.watchers = kept
}

// receiveWatchAck takes a spectator's acknowledgement.
func (s *Session) receiveWatchAck(from netip.AddrPort, d []byte) {
	w := s.watcherAt(from)
	if w == nil || w.mac == nil {
		s.drops.Foreign++
		return
	}
	body, ok := w.mac.verify(watchTag, d)
	if !ok {
		s.drops.Unauthenticated++
		return
	}
	r := reader{b: body[2:]}
	held := Frame(r.uvarint(maxFrameOnWire))
	if r.err != nil || len(r.b) != 0 || held > s.histFrames {
		s.drops.Malformed++
		return
	}
	w.live, w.lastRecv = true, s.now
	if held > w.held {
		w.held, w.lastAck = held, s.now
	}
}

// sendWatchers sends every live spectator the rows it lacks, a few datagrams at a time.
// History is recorded on every call, watched or not, so a late spectator gets it all.
// final (Close): everything not acknowledged goes again at once, before the goodbye.
func (s *Session) sendWatchers(final bool) {
	s.recordHistory()
	if len(s.watchers) == 0 {
		return
	}
	s.forgetSilentWatchers()
	size := s.rowSize()
	for _, w := range s.watchers {
		if !w.live {
			continue
		}
		if final || w.sentTo > w.held && s.now-w.lastAck >= watchRewind {
			// No progress for a while: lost on the way, probably. Again from what it holds.
			w.sentTo, w.lastAck = w.held, s.now
		}
		for range watchBurst {
			from := max(w.sentTo, w.held)
			to := min(s.histFrames, w.held+watchWindow)
			keepAlive := s.now-w.lastSend >= s.cfg.KeepAlive
			if from >= to && !keepAlive {
				break
			}
			count := min(int(to-from), maxInputsPerSend)
			if count < 0 {
				count = 0
			}
			base := s.zeroRow // before frame 0
			if from > 0 {
				base = s.row(from - 1)
			}
			enc := appendInputs(s.encoded[:0], base, s.history[int(from)*size:int(from+Frame(count))*size], size)
			if len(enc) > maxInputBytes {
				enc, count = capInputs(enc, size, maxInputBytes)
			}
			start := from
			s.queue(w.addr, func(b []byte) []byte {
				st := len(b)
				b = binary.AppendUvarint(appendHeader(b, msgWatch, 0), uint64(start))
				b = append(b, enc...)
				return w.mac.appendTag(b, st, s.local)
			})
			w.lastSend = s.now
			w.sentTo = from + Frame(count)
			if count == 0 {
				break
			}
		}
	}
}

// byeWatchers sends every spectator what it lacks and tells it the match is over (Close),
// or, with flagLegEnded, that it goes on in a leg it cannot follow (leaveSpectators).
func (s *Session) byeWatchers(flags uint8) {
	if s.state == StateRunning {
		s.sendWatchers(true)
	}
	end := s.histFrames
	for _, w := range s.watchers {
		if !w.live {
			continue
		}
		for range 2 {
			s.queue(w.addr, func(b []byte) []byte {
				st := len(b)
				b = binary.AppendUvarint(appendHeader(b, msgBye, flags), uint64(end))
				return w.mac.appendTag(b, st, s.local)
			})
		}
	}
}

// leaveSpectators tells this leg's spectators that the match goes on in a later leg
// (Match.LeaveSpectators): every spectator is sent the rows it lacks and a goodbye saying
// so, with the last frame of this leg. The datagrams returned are to be sent at once; the
// session forgets its spectators.
func (s *Session) leaveSpectators(now time.Duration) []Datagram {
	s.now = now
	if s.outTaken {
		s.out, s.outBuf, s.outTaken = s.out[:0], s.outBuf[:0], false
	}
	s.byeWatchers(flagLegEnded)
	clear(s.watchers)
	s.watchers = s.watchers[:0]
	s.outTaken = true
	return s.out
}

// Spectators is how many spectators watch (player 0 only).
func (s *Session) Spectators() int {
	n := 0
	for _, w := range s.watchers {
		if w.live && s.now-w.lastRecv < s.cfg.DisconnectTimeout {
			n++
		}
	}
	return n
}

// Spectator watches a match: it takes player 0's confirmed inputs and returns the requests
// that run the game forward on them. Like Session it is a pure state machine: the caller
// feeds it datagrams (Receive) and the time, runs what Step returns, and sends what Outgoing
// returns. Its game is made from what the handshake tells (Players, InputSize, Game, Seed).
type Spectator struct {
	cfg   Config
	host  netip.AddrPort
	state State
	err   error
	now   time.Duration

	session      uint64
	root         []byte
	proof        *mac
	mac          *mac
	nonce        uint32
	roundTrips   int
	lastSyncSend time.Duration
	rng          uint64

	players, inputSize int
	game               string
	seed               uint64

	rows     []byte // every row received, from frame 0
	held     Frame  // rows held
	frame    Frame  // frames run
	lastRecv time.Duration
	lastAck  time.Duration
	ackHeld  Frame
	ended    bool

	reqs    []Request
	status  []InputStatus
	decoded []byte
	zero    []byte
	events  []Event
	spare   []Event
	out     []Datagram
	outBuf  []byte
}

// NewSpectator makes a spectator of the match whose player 0 is at host. Of cfg it uses
// Secret, Nonce, the timeouts and SyncRoundTrips; the rest comes from player 0.
func NewSpectator(cfg Config, host netip.AddrPort) (*Spectator, error) {
	cfg.Players, cfg.InputSize = 2, 1 // not ours to choose: only for validation
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !host.IsValid() {
		return nil, errors.New("spectator: player 0's address is not valid")
	}
	sp := &Spectator{cfg: cfg, host: unmap(host), rng: cfg.Nonce*0x9e3779b97f4a7c15 + 1,
		outBuf: make([]byte, 0, maxPendingOut*MaxDatagram)}
	sp.session = sp.next() | 1
	sp.nonce = uint32(sp.next()) | 1
	sp.root = secretKey([]byte(cfg.Secret))
	sp.proof = newMAC(sp.root)
	return sp, nil
}

func (sp *Spectator) next() uint64 {
	// splitmix64: the spectator's nonces, from Config.Nonce
	sp.rng += 0x9e3779b97f4a7c15
	z := sp.rng
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Running reports whether the handshake is done.
func (sp *Spectator) Running() bool { return sp.state == StateRunning }

// State is where the spectator is in its life.
func (sp *Spectator) State() State { return sp.state }

// Err is why the spectator stopped, or nil.
func (sp *Spectator) Err() error { return sp.err }

// Players, InputSize, Game and Seed describe the match, once Running.
func (sp *Spectator) Players() int   { return sp.players }
func (sp *Spectator) InputSize() int { return sp.inputSize }
func (sp *Spectator) Game() string   { return sp.game }
func (sp *Spectator) Seed() uint64   { return sp.seed }

// Frame is the frame the game is at once the last requests are carried out.
func (sp *Spectator) Frame() Frame { return sp.frame }

// Held is how many frames of confirmed inputs the spectator holds.
func (sp *Spectator) Held() Frame { return sp.held }

// Ended reports whether player 0 said the match is over (or went silent) and every frame
// it sent has been run.
func (sp *Spectator) Ended() bool { return sp.ended && sp.frame >= sp.held }

// Events returns what happened since the last call; valid until the next call.
func (sp *Spectator) Events() []Event {
	ev := sp.events
	sp.events, sp.spare = sp.spare[:0], ev
	return ev
}

func (sp *Spectator) emit(e Event) { sp.events = append(sp.events, e) }

func (sp *Spectator) fail(err error) {
	if sp.state == StateFailed {
		return
	}
	sp.state, sp.err = StateFailed, err
	sp.emit(Event{Kind: EventFailed, Player: -1, Err: err})
}

// Receive hands the spectator one datagram.
func (sp *Spectator) Receive(from netip.AddrPort, data []byte, now time.Duration) {
	sp.now = now
	if unmap(from) != sp.host || len(data) > MaxDatagram || sp.state == StateFailed {
		return
	}
	h, err := parseHeader(data)
	if err != nil {
		return
	}
	switch h.typ {
	case msgSyncReply, msgReject:
		sp.receiveSync(h, data)
	case msgWatch, msgBye:
		sp.receiveWatch(h, data)
	}
}

// receiveSync handles player 0's answer to our handshake.
func (sp *Spectator) receiveSync(h header, data []byte) {
	d, ok := checkCRC(data)
	if !ok || sp.state != StateSynchronizing {
		return
	}
	var m syncMsg
	if parseSync(d, h, &m) != nil || m.version != ProtocolVersion {
		if m.version != ProtocolVersion && m.version != 0 {
			sp.fail(fmt.Errorf("player 0 runs protocol %d, we run %d", m.version, ProtocolVersion))
		}
		return
	}
	if h.typ == msgReject {
		sp.fail(watchRejectError(m.code))
		return
	}
	if !m.watch || m.player != 0 || m.nonce != sp.nonce || !hmac.Equal(sp.proof.tag(0, m.signed), m.proof) {
		return
	}
	sp.mac = newMAC(matchKey(sp.root, m.session, sp.session))
	sp.players, sp.inputSize, sp.game, sp.seed = int(m.players), int(m.inputSize), string(m.game), m.seed
	if sp.players < 2 || sp.players > MaxPlayers || sp.inputSize < 1 || sp.inputSize > MaxInputSize {
		sp.fail(fmt.Errorf("player 0 describes a match of %d players, %d-byte inputs", sp.players, sp.inputSize))
		return
	}
	sp.roundTrips++
	sp.nonce = uint32(sp.next()) | 1
	sp.lastRecv = sp.now
	sp.emit(Event{Kind: EventSynchronizing, Player: 0, Progress: sp.roundTrips, Total: sp.cfg.SyncRoundTrips})
	if sp.roundTrips < sp.cfg.SyncRoundTrips {
		sp.lastSyncSend = 0 // the next request at once
		return
	}
	sp.state = StateRunning
	sp.decoded = make([]byte, sp.players*sp.inputSize)
	sp.zero = make([]byte, sp.players*sp.inputSize)
	sp.status = make([]InputStatus, sp.players)
	for i := range sp.status {
		sp.status[i] = InputConfirmed
	}
	sp.emit(Event{Kind: EventRunning, Player: -1, Seed: sp.seed})
}

// watchRejectError words player 0's refusal of a spectator.
func watchRejectError(code rejectCode) error {
	switch code {
	case rejectWatch:
		return errors.New("player 0 takes no more spectators (no room for spectators)")
	case rejectResumed:
		return errors.New("the match was resumed after a player rejoined; spectators can watch a match only from its start, and this one no longer has it")
	case rejectSecret:
		return errors.New("the secrets differ: player 0 refused our handshake")
	}
	return fmt.Errorf("player 0 refused the handshake: %v", code)
}

// receiveWatch handles player 0's confirmed rows, or its goodbye.
func (sp *Spectator) receiveWatch(h header, data []byte) {
	if sp.mac == nil || sp.state != StateRunning {
		return
	}
	body, ok := sp.mac.verify(0, data)
	if !ok {
		return
	}
	r := reader{b: body[2:]}
	f := Frame(r.uvarint(maxFrameOnWire))
	if r.err != nil {
		return
	}
	if h.typ == msgBye {
		if len(r.b) == 0 && !sp.ended {
			sp.ended = true
			e := Event{Kind: EventPeerLeft, Player: 0, Frame: f}
			if h.flags&flagLegEnded != 0 {
				e.Err = ErrLegEnded
			}
			sp.emit(e)
		}
		return
	}
	sp.lastRecv = sp.now
	sp.receiveRows(f, r.b)
}

func (sp *Spectator) receiveRows(start Frame, enc []byte) {
	size := sp.players * sp.inputSize
	if start > sp.held {
		return // a gap: what comes before it is on its way again
	}
	count, err := countInputs(enc, size)
	if err != nil || start+Frame(count) <= sp.held {
		return
	}
	base := sp.zero // the row before frame 0
	if start > 0 {
		base = sp.rows[int(start-1)*size : int(start)*size]
	}
	// decodeInputs copies base into the scratch row first, so appending to rows (which
	// base may alias) is safe.
	decodeInputs(enc, base, count, size, sp.decoded, func(i int, in []byte) {
		if f := start + Frame(i); f == sp.held {
			sp.rows = append(sp.rows, in...)
			sp.held++
		}
	})
}

// Outgoing runs the spectator's timers and returns what to send.
func (sp *Spectator) Outgoing(now time.Duration) []Datagram {
	sp.now = now
	sp.out, sp.outBuf = sp.out[:0], sp.outBuf[:0]
	switch sp.state {
	case StateSynchronizing:
		if sp.lastSyncSend == 0 || now-sp.lastSyncSend >= syncRetry {
			sp.lastSyncSend = max(now, 1)
			m := syncMsg{version: ProtocolVersion, secret: sp.cfg.Secret != "", watch: true, session: sp.session,
				nonce: sp.nonce, player: watchTag}
			sp.send(func(b []byte) []byte { return appendSync(b, msgSyncRequest, &m, sp.proof) })
		}
	case StateRunning:
		if !sp.ended && now-sp.lastRecv >= sp.cfg.DisconnectTimeout {
			sp.ended = true
			sp.emit(Event{Kind: EventDisconnected, Player: 0, Frame: sp.held})
		}
		if sp.ended {
			break
		}
		if sp.held != sp.ackHeld || now-sp.lastAck >= sp.cfg.KeepAlive || sp.lastAck == 0 {
			sp.ackHeld, sp.lastAck = sp.held, max(now, 1)
			held := sp.held
			sp.send(func(b []byte) []byte {
				st := len(b)
				b = binary.AppendUvarint(appendHeader(b, msgWatchAck, 0), uint64(held))
				return sp.mac.appendTag(b, st, watchTag)
			})
		}
	}
	return sp.out
}

func (sp *Spectator) send(build func([]byte) []byte) {
	start := len(sp.outBuf)
	sp.outBuf = build(sp.outBuf)
	sp.out = append(sp.out, Datagram{To: sp.host, Data: sp.outBuf[start:len(sp.outBuf):len(sp.outBuf)]})
}

// Step returns the requests that run the game forward on the inputs held: many frames at
// once while far behind, then one a call, watchBuffer frames behind the newest (none behind
// once player 0 has said the match is over). The requests are advances only, with every
// input confirmed; they are valid until the next call.
func (sp *Spectator) Step(now time.Duration) []Request {
	sp.now = now
	sp.reqs = sp.reqs[:0]
	if sp.state != StateRunning {
		return sp.reqs
	}
	ahead := int(sp.held - sp.frame)
	n := 0
	switch {
	case sp.ended:
		n = min(ahead, watchFastStep)
	case ahead > 2*watchBuffer:
		n = min(ahead-watchBuffer, watchFastStep)
	case ahead > watchBuffer:
		n = 1
	}
	size := sp.players * sp.inputSize
	for range n {
		sp.reqs = append(sp.reqs, Request{Kind: RequestAdvance, Frame: sp.frame,
			Inputs: sp.rows[int(sp.frame)*size : int(sp.frame+1)*size : int(sp.frame+1)*size], Status: sp.status})
		sp.frame++
	}
	return sp.reqs
}
