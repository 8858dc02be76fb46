// Spectators: processes that watch a match without playing in it. A spectator talks to one
// player at a time, its feeder: player 0, until it leaves. Every player with
// Config.Spectators > 0 keeps the match's recent confirmed inputs (a few bytes a frame, 10
// to 20 seconds' worth: trimHistory) and the game's state where they start (none at frame
// 0, from which a spectator starts on the seed); its feeder sends each spectator the rows
// it does not hold yet, oldest first, delta-coded (the first row of each datagram against
// the zero row, flagFreshBase); the spectator acknowledges what it holds. Only confirmed
// inputs travel, so a spectator never predicts or rolls back: it runs the game forward on
// them, fast while it is far behind (a late spectator is handed the state the rows start
// from, or starts at frame 0, and fast-forwards), then one frame a tick, a few frames
// behind the newest row. A row is kept for
// spectators only once every running peer holds every input in it (our own included, once
// acknowledged): a player that vanishes right after cannot have shown a spectator a frame
// the survivors play otherwise.
//
// A spectator costs the players nothing but those datagrams: its feeder holds no state per
// spectator beyond its address, key and acknowledgement, never waits for one, and forgets
// one that has been silent for DisconnectTimeout. At most Config.Spectators (up to
// MaxSpectators) watch one player at once; one more is refused ("no room for spectators").
//
// Legs. The rows are numbered in match frames. A rejoin resumes the match at the last
// frame any spectator was told of (frames played on a stand-in are not confirmed), so a
// watching spectator holds at most the next leg's first frame: while the pause lasts the
// old leg feeds it (and meets new ones), and when the next leg runs it takes them over with
// the rows they lack (Match.Resumed, takeSpectators). A spectator that holds less than a
// feeder's history reaches back to (it came late, it asked a player that rejoined, or the
// match went on from a state it never saw) is handed the state the history starts from:
// offered
// (msgWatchState, the resume block of a handshake) until the spectator asks for its chunks
// with state acknowledgements, then sent as to a rejoiner (handoverWindow). The spectator
// loads it (a RequestLoad from Step) and takes the rows after it.
//
// Departures. The feeder tells each spectator where the other players are, as it sees
// them, every watchPlayersEvery (msgWatchPlayers, an introduction's list). When it leaves a
// match that goes on (two or more others play on), its goodbye carries flagFeederLeaves, and
// the spectator turns to the lowest-numbered player it knows of that has not left: a new
// handshake with it, after which it feeds the spectator from the frame it holds. A feeder
// that goes silent for DisconnectTimeout is left the same way. Frames held keep running
// meanwhile; nothing restarts. If nobody takes the spectator (a refusal, or silence for
// DisconnectTimeout), watching ends where the feeder left.
//
// The handshake is the players' one with flagWatch set: the spectator's request names no
// player (watchTag), and the feeder's replies carry its player number, the match's
// players, input size, game and seed, which the spectator adopts (a later feeder must
// describe the same match). Its proof and the datagrams after it are keyed like a pair of
// players (the match key of both session nonces, the feeder's first: the nonce of the leg
// that met the spectator, which a reply names); the spectator signs as watchTag.
//
// Wire: msgWatch: magic | type 7 (flagFreshBase) | start frame (uvarint) | rows to the end |
// tag, a row being every player's input of one frame; msgWatchAck: magic | type 8 | frames
// held (uvarint) | tag; msgWatchPlayers: magic | type 13 | an introduction's list (intro.go)
// | tag; msgWatchState: magic | type 14 | resume block (match id, frame, size, checksum) |
// tag; then the state's chunks (msgState) and the spectator's state acknowledgements
// (msgStateAck, signed as watchTag) as in rejoin.go. The feeder's goodbye (msgBye, its last
// frame) tells a spectator the match is over for it; with flagFeederLeaves, that it goes on
// without the feeder.

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
	// watchPlayersEvery is how often a spectator is told the players' addresses again.
	watchPlayersEvery = time.Second
	// watchKeep bounds the history a player keeps for spectators: 10 s at 60 Hz, between
	// one and two of them kept (trimHistory).
	watchKeep = 600
)

// watcher is a feeding player's view of one spectator.
type watcher struct {
	addr    netip.AddrPort
	session uint64 // the spectator's session nonce
	// keySession is our session nonce its key was made with (the leg's that met it)
	keySession uint64
	mac        *mac
	live       bool  // it acknowledged something: it holds the key
	held       Frame // match frames it holds (it can run every frame before held)
	sentTo     Frame // rows sent up to here
	lastRecv   time.Duration
	lastSend   time.Duration
	lastAck    time.Duration
	// lastPlayers is when it was last told the players' addresses (msgWatchPlayers).
	lastPlayers time.Duration
	// The state it is handed when it holds less than our history reaches back to: offered
	// (msgWatchState) every handoverResend until it asks for chunks, then sent as to a
	// rejoiner; outFrame is the frame of the state out hands over.
	out      *handoverWindow
	outFrame Frame
	offerAt  time.Duration
}

// recordHistory appends the rows of newly confirmed frames to the history spectators get:
// only those whose every input every running peer holds (our own inputs too, once each
// acknowledged them), so that were we to vanish, the survivors would still play every frame
// a spectator was shown on the inputs it was shown, and it can turn to one of them.
func (s *Session) recordHistory() {
	if s.cfg.Spectators == 0 || s.state != StateRunning {
		return
	}
	last := min(s.sync.confirmedInputs(), s.sync.frame-1)
	for _, ep := range s.peers {
		if ep != nil && ep.state == epRunning {
			last = min(last, ep.acked)
		}
	}
	s.recordThrough(last)
	s.trimHistory()
}

// recordThrough appends the rows of this leg's frames up to last (confirmed ones). The
// history is kept in match frames: a later leg's first row is the match's frame BaseFrame.
func (s *Session) recordThrough(last Frame) {
	base := s.BaseFrame()
	if !s.histSet || s.histEnd < base {
		s.startHistory(base)
	}
	for f := s.histEnd - base; f <= last; f++ {
		for p := range s.sync.queues {
			s.history = append(s.history, s.sync.queues[p].input(f)...)
		}
		s.histEnd = base + f + 1
	}
}

// startHistory starts an empty history at the match's frame base, this leg's first: from
// the state the leg starts from (none at frame 0, which every spectator starts from).
func (s *Session) startHistory(base Frame) {
	s.history, s.histStart, s.histEnd, s.histSet = s.history[:0], base, base, true
	s.histState, s.histInfo, s.snapState, s.snapFrame = nil, resumeInfo{}, nil, base
	if base > 0 {
		s.histState, s.histInfo = s.resumeState, s.resume
	}
}

// trimHistory bounds the history. Every watchKeep frames it keeps a copy of the game's
// state at the newest row (from the ring of saved states: confirmed, since every row before
// it is), and drops the rows before the copy it kept the time before, which becomes the
// state a spectator that holds less is handed. So a player holds between watchKeep and
// 2×watchKeep rows and two states; a spectator that watches holds far more recent frames.
func (s *Session) trimHistory() {
	if s.histEnd-max(s.snapFrame, s.histStart) < watchKeep {
		return
	}
	st, ok := s.SavedState(s.histEnd - s.BaseFrame())
	if !ok {
		return // not saved yet, or no longer: the next call
	}
	if s.snapState != nil && s.snapFrame > s.histStart {
		n := s.rowSize()
		s.history = append(s.history[:0], s.history[int(s.snapFrame-s.histStart)*n:]...)
		s.histStart, s.histState = s.snapFrame, s.snapState
		s.histInfo = resumeInfo{set: true, match: s.matchID, frame: s.histStart, size: len(s.histState), sum: stateChecksum(s.histState)}
	}
	s.snapState, s.snapFrame = append([]byte(nil), st...), s.histEnd
}

func (s *Session) rowSize() int { return s.cfg.Players * s.cfg.InputSize }

// rows is the history of match frames from up to to.
func (s *Session) rows(from, to Frame) []byte {
	n := s.rowSize()
	return s.history[int(from-s.histStart)*n : int(to-s.histStart)*n]
}

// takeSpectators is the new leg's side of Match.Resumed: it takes over the spectators of
// old, the leg before, and the history they may still need. old's frames up to end (this
// leg's frame 0) were confirmed there; a rejoin resumes the match at the last frame any
// spectator was told of, so a spectator holds at most this leg's first frame and needs
// only the rows after what it holds. A spectator that holds less than the history
// reaches back to is handed this leg's state.
func (s *Session) takeSpectators(old *Session, end Frame) {
	if old.cfg.Spectators == 0 || s.cfg.Spectators == 0 {
		return
	}
	if old.state == StateRunning {
		old.recordThrough(min(end-1, old.sync.confirmedInputs(), old.sync.frame-1))
	}
	base := s.BaseFrame()
	if !s.histSet {
		s.startHistory(base)
	}
	if old.histSet && old.histStart <= base && old.histEnd >= base && s.histStart == base {
		// The rows before this leg, then this leg's, from the state the old history
		// starts at.
		n := s.rowSize()
		h := make([]byte, 0, int(s.histEnd-old.histStart)*n)
		h = append(h, old.history[:int(base-old.histStart)*n]...)
		s.history, s.histStart = append(h, s.history...), old.histStart
		s.histState, s.histInfo = old.histState, old.histInfo
		s.snapState, s.snapFrame = old.snapState, old.snapFrame
	}
	for _, w := range old.watchers {
		if s.watcherAt(w.addr) != nil || len(s.watchers) >= s.cfg.Spectators {
			continue
		}
		w.out, w.sentTo = nil, w.held // a handover of the old leg's state is over
		s.watchers = append(s.watchers, w)
	}
	clear(old.watchers)
	old.watchers = old.watchers[:0]
}

// receiveWatchSync answers a spectator's handshake request. Every player that keeps a
// history (Config.Spectators > 0) answers: player 0 feeds the spectators, and when it
// leaves a match that goes on they turn to the lowest-numbered player still in it.
func (s *Session) receiveWatchSync(from netip.AddrPort, h header, m *syncMsg) {
	if h.typ != msgSyncRequest || m.player != watchTag {
		s.drops.Foreign++
		return
	}
	if s.cfg.Spectators == 0 || s.state == StateClosed {
		s.queueReject(from, rejectWatch)
		s.drops.Foreign++
		return
	}
	if !hmac.Equal(s.proof.tag(watchTag, m.signed), m.proof) {
		s.queueReject(from, rejectSecret)
		s.drops.Unauthenticated++
		return
	}
	if s.local != 0 && !s.agreed && s.cfg.resume == nil {
		// We do not know the match's seed yet (player 0 tells it in our handshake): the
		// spectator asks again.
		s.drops.Stale++
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
		*w = watcher{addr: from, session: m.session, keySession: s.session,
			mac: newMAC(matchKey(s.root, s.session, m.session))}
	}
	w.lastRecv = s.now
	reply := syncMsg{nonce: m.nonce}
	s.fillSync(&reply)
	reply.watch, reply.seed = true, s.seed // the match's seed, whatever we were given
	// The session nonce its key was made with: a leg before this one's, if it took the
	// spectator over from there (takeSpectators).
	reply.session = w.keySession
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

// watcherBody checks that d comes from spectator w and returns what follows its header.
func (s *Session) watcherBody(w *watcher, d []byte) ([]byte, bool) {
	if w.mac == nil {
		s.drops.Foreign++
		return nil, false
	}
	body, ok := w.mac.verify(watchTag, d)
	if !ok {
		s.drops.Unauthenticated++
		return nil, false
	}
	return body[2:], true
}

// receiveWatchAck takes a spectator's acknowledgement.
func (s *Session) receiveWatchAck(from netip.AddrPort, d []byte) {
	w := s.watcherAt(from)
	if w == nil {
		s.drops.Foreign++
		return
	}
	body, ok := s.watcherBody(w, d)
	if !ok {
		return
	}
	r := reader{b: body}
	held := Frame(r.uvarint(maxFrameOnWire))
	if r.err != nil || len(r.b) != 0 {
		s.drops.Malformed++
		return
	}
	if held > s.histEnd {
		// It was fed by another player that confirmed more so far (it turned to us when
		// that one left); it waits for our history to catch up.
		s.drops.Stale++
		w.lastRecv = s.now
		return
	}
	w.live, w.lastRecv = true, s.now
	if held > w.held {
		w.held, w.lastAck = held, s.now
	}
}

// receiveWatchStateAck takes a spectator's request for chunks of the state it is handed.
func (s *Session) receiveWatchStateAck(w *watcher, d []byte) {
	body, ok := s.watcherBody(w, d)
	if !ok {
		return
	}
	var m stateAckMsg
	if err := parseStateAck(body, &m); err != nil {
		s.drops.Malformed++
		return
	}
	w.lastRecv = s.now
	if s.histState == nil || m.frame != s.histInfo.frame || !w.live {
		s.drops.Stale++
		return
	}
	n := chunksOf(len(s.histState))
	if m.next > n {
		s.drops.Malformed++
		return
	}
	if w.out == nil || w.outFrame != m.frame {
		w.out, w.outFrame = newHandoverWindow(n), m.frame
	}
	w.out.ack(m.next, m.bits)
}

// sendWatchers sends every live spectator the rows it lacks, a few datagrams at a time, or
// the state it needs first; and, now and then, the players' addresses. History is recorded
// on every call, watched or not, so a late spectator gets it all.
// final (Close): everything not acknowledged goes again at once, before the goodbye.
func (s *Session) sendWatchers(final bool) {
	s.recordHistory()
	if len(s.watchers) == 0 {
		return
	}
	s.forgetSilentWatchers()
	for _, w := range s.watchers {
		if !w.live {
			continue
		}
		if s.now-w.lastPlayers >= watchPlayersEvery || w.lastPlayers == 0 {
			s.tellPlayers(w)
		}
		if w.held < s.histStart {
			s.handState(w)
			continue
		}
		if final || w.sentTo > w.held && s.now-w.lastAck >= watchRewind {
			// No progress for a while: lost on the way, probably. Again from what it holds.
			w.sentTo, w.lastAck = w.held, s.now
		}
		s.sendRows(w)
	}
}

// sendRows sends spectator w the rows it lacks (or a keep-alive): the first row of each
// datagram coded against the zero row (flagFreshBase), so a spectator that was handed a
// state, or turned to us from another player, needs no row before it.
func (s *Session) sendRows(w *watcher) {
	size := s.rowSize()
	for range watchBurst {
		from := max(w.sentTo, w.held)
		to := min(s.histEnd, w.held+watchWindow)
		keepAlive := s.now-w.lastSend >= s.cfg.KeepAlive
		if from >= to && !keepAlive {
			break
		}
		count := max(min(int(to-from), maxInputsPerSend), 0)
		enc := appendInputs(s.encoded[:0], s.zeroRow, s.rows(from, from+Frame(count)), size)
		if len(enc) > maxInputBytes {
			enc, count = capInputs(enc, size, maxInputBytes)
		}
		start := from
		s.queue(w.addr, func(b []byte) []byte {
			st := len(b)
			b = binary.AppendUvarint(appendHeader(b, msgWatch, flagFreshBase), uint64(start))
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

// handState hands spectator w the state our history starts from: it holds less than the
// history reaches back to (it came late to a long match, or to a player that rejoined, or
// the match went on from a state it never saw). The state is offered until the spectator
// asks for its chunks, which then go as to a rejoiner (handoverWindow).
func (s *Session) handState(w *watcher) {
	if s.histState == nil {
		return // a history that starts at frame 0 needs none: cannot happen
	}
	if w.out != nil && w.outFrame != s.histInfo.frame {
		w.out, w.offerAt = nil, 0 // the history moved on (trimHistory): offer the new state
	}
	if w.out == nil {
		if s.now-w.offerAt >= handoverResend || w.offerAt == 0 {
			w.offerAt = max(s.now, 1)
			s.queue(w.addr, func(b []byte) []byte {
				st := len(b)
				return w.mac.appendTag(appendResume(appendHeader(b, msgWatchState, 0), &s.histInfo), st, s.local)
			})
			w.lastSend = s.now
		}
		return
	}
	w.out.send(s.now,
		func() bool { return len(s.out) < maxPendingOut-2 },
		func(i int) {
			s.queue(w.addr, func(b []byte) []byte { return s.appendChunkFor(b, w.mac, msgState, s.histInfo.frame, s.histState, i) })
			w.lastSend = s.now
		})
}

// tellPlayers tells spectator w where the other players are, as we see them, so that it
// knows whom to turn to if we leave (msgWatchPlayers: an introduction's list).
func (s *Session) tellPlayers(w *watcher) {
	w.lastPlayers = max(s.now, 1)
	s.queue(w.addr, func(b []byte) []byte {
		st := len(b)
		b = s.appendAddrList(appendHeader(b, msgWatchPlayers, 0), nil, true)
		return w.mac.appendTag(b, st, s.local)
	})
}

// byeWatchers sends every spectator what it lacks and a goodbye: the match is over for us
// (Close). With flagFeederLeaves the match goes on without us, and the spectator turns to
// the lowest-numbered player still in it, whose address it was just told again.
func (s *Session) byeWatchers() {
	if s.state == StateRunning {
		s.sendWatchers(true)
	}
	flags := uint8(0)
	if s.ConnectedPeers() >= 2 {
		flags = flagFeederLeaves // two others play on (a 2-player match ends with us)
	}
	end := s.histEnd
	for _, w := range s.watchers {
		if !w.live {
			continue
		}
		if flags != 0 {
			s.tellPlayers(w)
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

// unwatchedRows is the largest number of kept rows some spectator we feed, and have heard
// from within DisconnectTimeout, does not hold yet (Unacknowledged).
func (s *Session) unwatchedRows() int {
	n := 0
	for _, w := range s.watchers {
		if w.live && s.now-w.lastRecv < s.cfg.DisconnectTimeout && w.held < s.histEnd {
			n = max(n, int(s.histEnd-w.held))
		}
	}
	return n
}

// Spectators is how many spectators this player feeds.
func (s *Session) Spectators() int {
	n := 0
	for _, w := range s.watchers {
		if w.live && s.now-w.lastRecv < s.cfg.DisconnectTimeout {
			n++
		}
	}
	return n
}

// Spectator watches a match: it takes a player's confirmed inputs (player 0's, then, if
// player 0 leaves a match that goes on, the lowest-numbered player's still in it) and
// returns the requests that run the game forward on them. Like Session it is a pure state
// machine: the caller feeds it datagrams (Receive) and the time, runs what Step returns,
// and sends what Outgoing returns. Its game is made from what the handshake tells
// (Players, InputSize, Game, Seed).
type Spectator struct {
	cfg   Config
	host  netip.AddrPort // the feeder's address
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

	// feeder is the player who feeds us; addrs the players' addresses as it last told
	// them; left the players who left or refused us, not to be turned to again.
	feeder int
	addrs  [MaxPlayers]netip.AddrPort
	left   [MaxPlayers]bool
	// switching: the feeder left a match that goes on, and the handshake with the next
	// one (at host) is under way since switchAt; the frames held still run meanwhile.
	switching bool
	switchAt  time.Duration
	// leaver is the last feeder that went away (lostHow: EventPeerLeft, it said goodbye;
	// EventDisconnected, it went silent) at leftAt.
	leaver  int
	leftAt  Frame
	lostHow EventKind

	rows     []byte // every row received, from frame rowBase
	rowBase  Frame
	held     Frame // rows held: frames before held can run
	frame    Frame // frames run
	lastRecv time.Duration
	lastAck  time.Duration
	ackHeld  Frame
	ended    bool

	// the state the feeder hands us (it does not hold the rows we lack), and, once whole,
	// the load the next Step starts with
	recv        *handoverIn
	loadCell    cell
	loadPending bool

	reqs    []Request
	status  []InputStatus
	decoded []byte
	zero    []byte
	events  []Event
	spare   []Event
	out     []Datagram
	outBuf  []byte
}

// NewSpectator makes a spectator of the match whose player 0 is at host (another player's
// address works too: that player feeds it). Of cfg it uses Secret, Nonce, the timeouts and
// SyncRoundTrips; the rest comes from the player.
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

// Feeder is the player whose confirmed inputs the spectator takes (0 until player 0
// leaves a match that goes on).
func (sp *Spectator) Feeder() int { return sp.feeder }

// Frame is the frame the game is at once the last requests are carried out.
func (sp *Spectator) Frame() Frame { return sp.frame }

// Held is how many frames of confirmed inputs the spectator holds.
func (sp *Spectator) Held() Frame { return sp.held }

// Ended reports whether the match is over for the spectator (its feeder said goodbye with
// nobody to turn to, or went silent) and every frame it held has been run.
func (sp *Spectator) Ended() bool { return sp.ended && sp.frame >= sp.held && !sp.loadPending }

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
	case msgWatch, msgBye, msgWatchPlayers, msgWatchState, msgState:
		sp.receiveWatch(h, data)
	}
}

// receiveSync handles the feeder's answer to our handshake.
func (sp *Spectator) receiveSync(h header, data []byte) {
	m, ok := sp.parseReply(h, data)
	if !ok {
		return
	}
	if h.typ == msgReject {
		sp.refused(m.code)
		return
	}
	if sp.switching && int(m.player) != sp.feeder || int(m.player) >= MaxPlayers {
		return
	}
	if !m.watch || m.nonce != sp.nonce || !hmac.Equal(sp.proof.tag(int(m.player), m.signed), m.proof) {
		return
	}
	if !sp.takeDescription(&m) {
		return
	}
	sp.mac = newMAC(matchKey(sp.root, m.session, sp.session))
	sp.roundTrips++
	sp.nonce = uint32(sp.next()) | 1
	sp.lastRecv = sp.now
	sp.emit(Event{Kind: EventSynchronizing, Player: sp.feeder, Progress: sp.roundTrips, Total: sp.cfg.SyncRoundTrips})
	if sp.roundTrips < sp.cfg.SyncRoundTrips {
		sp.lastSyncSend = 0 // the next request at once
		return
	}
	sp.synced()
}

// parseReply reads a handshake reply or refusal we may take now: one in our handshake, or
// in our turn to another feeder. A reply from another protocol version fails us.
func (sp *Spectator) parseReply(h header, data []byte) (m syncMsg, ok bool) {
	d, ok := checkCRC(data)
	if !ok || sp.state != StateSynchronizing && !sp.switching {
		return m, false
	}
	if parseSync(d, h, &m) != nil || m.version != ProtocolVersion {
		if m.version != ProtocolVersion && m.version != 0 {
			sp.fail(fmt.Errorf("player %d runs protocol %d, we run %d", sp.feeder, m.version, ProtocolVersion))
		}
		return m, false
	}
	return m, true
}

// refused takes a player's refusal: while turning to another feeder, the next one is
// asked (if any); a first feeder's refusal fails us.
func (sp *Spectator) refused(code rejectCode) {
	if sp.switching && !sp.turnToNext() { // that one takes no spectators: the next, if any
		sp.giveUp()
	}
	if sp.switching || sp.ended {
		return
	}
	sp.fail(watchRejectError(code))
}

// takeDescription adopts the match the first feeder describes, or checks that a later
// feeder describes the same one. false: it does not (we may have failed).
func (sp *Spectator) takeDescription(m *syncMsg) bool {
	if sp.switching {
		if int(m.players) != sp.players || int(m.inputSize) != sp.inputSize || string(m.game) != sp.game || m.seed != sp.seed {
			sp.fail(fmt.Errorf("player %d describes another match (%d players, %q, seed %d) than player 0 did",
				m.player, m.players, m.game, m.seed))
			return false
		}
		return true
	}
	sp.feeder = int(m.player)
	sp.players, sp.inputSize, sp.game, sp.seed = int(m.players), int(m.inputSize), string(m.game), m.seed
	if sp.players < 2 || sp.players > MaxPlayers || sp.inputSize < 1 || sp.inputSize > MaxInputSize || sp.feeder >= sp.players {
		sp.fail(fmt.Errorf("player %d describes a match of %d players, %d-byte inputs", sp.feeder, sp.players, sp.inputSize))
		return false
	}
	sp.addrs[sp.feeder] = sp.host
	return true
}

// synced ends a handshake whose round trips are done: a turn to another feeder goes on
// from what we hold; a first handshake starts watching.
func (sp *Spectator) synced() {
	if sp.switching {
		sp.switching, sp.lastAck = false, 0 // acknowledge what we hold at once
		sp.emit(Event{Kind: EventResumed, Player: sp.feeder, Frame: sp.held, Err: sp.lostError()})
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

// watchRejectError words a player's refusal of a spectator.
func watchRejectError(code rejectCode) error {
	switch code {
	case rejectWatch:
		return errors.New("player 0 takes no more spectators (no room for spectators)")
	case rejectResumed:
		return errors.New("the match was resumed after a player rejoined, and player 0 runs a version whose spectators can watch a match only from its start")
	case rejectSecret:
		return errors.New("the secrets differ: player 0 refused our handshake")
	}
	return fmt.Errorf("player 0 refused the handshake: %v", code)
}

// turnToNext makes the lowest-numbered player we know of, other than those that left,
// the feeder: its handshake starts (switching). false: there is nobody to turn to, and
// the match is over for us.
func (sp *Spectator) turnToNext() bool {
	sp.left[sp.feeder] = true
	for p := range sp.players {
		if sp.left[p] || !sp.addrs[p].IsValid() {
			continue
		}
		sp.feeder, sp.host = p, sp.addrs[p]
		sp.switching, sp.switchAt = true, sp.now
		sp.roundTrips, sp.lastSyncSend, sp.mac, sp.recv = 0, 0, nil, nil
		sp.nonce = uint32(sp.next()) | 1
		return true
	}
	return false
}

// lose notes that the feeder is gone, how (EventPeerLeft: it said goodbye at frame f;
// EventDisconnected: it went silent), before the spectator turns to the next player.
func (sp *Spectator) lose(how EventKind, f Frame) {
	sp.leaver, sp.leftAt, sp.lostHow = sp.feeder, f, how
}

// giveUp ends watching when the feeder is gone and nobody took its place: the match is
// over for us where the feeder left it (EventPeerLeft) or went silent (EventDisconnected).
func (sp *Spectator) giveUp() {
	sp.ended, sp.switching = true, false
	sp.emit(Event{Kind: sp.lostHow, Player: sp.leaver, Frame: sp.leftAt})
}

// lostError words why the spectator's last feeder is gone (a spectator's EventResumed).
func (sp *Spectator) lostError() error {
	if sp.lostHow == EventDisconnected {
		return fmt.Errorf("player %d stopped answering", sp.leaver)
	}
	return fmt.Errorf("player %d left the match", sp.leaver)
}

// receiveWatch handles the feeder's rows, its goodbye, the players' addresses and the
// state it hands us.
func (sp *Spectator) receiveWatch(h header, data []byte) {
	if sp.mac == nil || sp.state != StateRunning || sp.switching {
		return
	}
	body, ok := sp.mac.verify(sp.feeder, data)
	if !ok {
		return
	}
	body = body[2:]
	switch h.typ {
	case msgWatchPlayers:
		sp.receivePlayers(body)
		return
	case msgWatchState:
		sp.receiveOffer(body)
		return
	case msgState:
		sp.receiveChunk(body)
		return
	}
	r := reader{b: body}
	f := Frame(r.uvarint(maxFrameOnWire))
	if r.err != nil {
		return
	}
	if h.typ == msgBye {
		if len(r.b) != 0 || sp.ended {
			return
		}
		sp.lose(EventPeerLeft, f)
		if h.flags&flagFeederLeaves == 0 || !sp.turnToNext() {
			sp.giveUp()
		} // else the match goes on: we watch on through the next player
		return
	}
	sp.lastRecv = sp.now
	sp.receiveRows(f, r.b, h.flags&flagFreshBase != 0)
}

// receivePlayers takes in the feeder's list of the other players' addresses.
func (sp *Spectator) receivePlayers(body []byte) {
	list, err := parseIntro(body, sp.players)
	if err != nil {
		return
	}
	sp.lastRecv = sp.now
	for p := range sp.players {
		if p != sp.feeder {
			sp.addrs[p] = netip.AddrPort{}
		}
	}
	for _, in := range list.list[:list.n] {
		if in.player != sp.feeder {
			sp.addrs[in.player] = unmap(in.addr)
		}
	}
}

// receiveOffer takes in the feeder's offer of a state: it does not hold the rows we lack,
// and starts us from the match's frame the state is at.
func (sp *Spectator) receiveOffer(body []byte) {
	var info resumeInfo
	if parseResume(body, &info) != nil {
		return
	}
	sp.lastRecv = sp.now
	if info.frame <= sp.held || sp.recv != nil && sp.recv.info == info {
		return // we hold more, or it is under way
	}
	sp.recv = newHandoverIn(info, sp.now)
	sp.emit(Event{Kind: EventHandover, Player: sp.feeder, Frame: info.frame, Total: info.size})
}

// receiveChunk takes in one chunk of the state we are handed; once whole, the next Step
// loads it and the rows go on from its frame.
func (sp *Spectator) receiveChunk(body []byte) {
	var m stateChunkMsg
	in := sp.recv
	if parseStateChunk(body, msgState, &m) != nil || in == nil || m.frame != in.info.frame {
		return
	}
	sp.lastRecv = sp.now
	if in.put(m.index, m.data, sp.now) != chunkDone {
		return
	}
	sp.recv = nil
	sp.loadCell = cell{frame: in.info.frame, state: in.buf}
	sp.loadPending = true
	sp.rows, sp.rowBase, sp.held = sp.rows[:0], in.info.frame, in.info.frame
}

func (sp *Spectator) receiveRows(start Frame, enc []byte, fresh bool) {
	size := sp.players * sp.inputSize
	if start > sp.held || start < sp.rowBase && !fresh {
		return // a gap: what comes before it is on its way again
	}
	count, err := countInputs(enc, size)
	if err != nil || start+Frame(count) <= sp.held {
		return
	}
	base := sp.zero // the row before frame 0, or what the first row is coded against
	if start > 0 && !fresh {
		if start-1 < sp.rowBase {
			return // coded against a row we never held (we were handed a state after it)
		}
		base = sp.rows[int(start-1-sp.rowBase)*size : int(start-sp.rowBase)*size]
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
	switch {
	case sp.state == StateSynchronizing:
		sp.sendSyncRequest()
	case sp.state != StateRunning || sp.ended:
	case sp.switching:
		if now-sp.switchAt >= sp.cfg.DisconnectTimeout && !sp.turnToNext() {
			sp.giveUp()
			break
		}
		sp.sendSyncRequest()
	default:
		if now-sp.lastRecv >= sp.cfg.DisconnectTimeout {
			// The feeder went silent (killed, say): turn to the next player, who holds
			// every frame we were shown (recordHistory), or end there.
			sp.lose(EventDisconnected, sp.held)
			if !sp.turnToNext() {
				sp.giveUp()
				break
			}
			sp.sendSyncRequest()
			break
		}
		if in := sp.recv; in != nil && (in.dirty || now-in.lastAck >= stateAckEvery) {
			in.dirty, in.lastAck = false, now
			m := in.ack()
			sp.send(func(b []byte) []byte {
				st := len(b)
				return sp.mac.appendTag(appendStateAckMsg(b, msgStateAck, &m), st, watchTag)
			})
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

// sendSyncRequest sends the feeder our handshake request, every syncRetry.
func (sp *Spectator) sendSyncRequest() {
	if sp.lastSyncSend != 0 && sp.now-sp.lastSyncSend < syncRetry {
		return
	}
	sp.lastSyncSend = max(sp.now, 1)
	m := syncMsg{version: ProtocolVersion, secret: sp.cfg.Secret != "", watch: true, session: sp.session,
		nonce: sp.nonce, player: watchTag}
	sp.send(func(b []byte) []byte { return appendSync(b, msgSyncRequest, &m, sp.proof) })
}

func (sp *Spectator) send(build func([]byte) []byte) {
	start := len(sp.outBuf)
	sp.outBuf = build(sp.outBuf)
	sp.out = append(sp.out, Datagram{To: sp.host, Data: sp.outBuf[start:len(sp.outBuf):len(sp.outBuf)]})
}

// Step returns the requests that run the game forward on the inputs held: many frames at
// once while far behind, then one a call, watchBuffer frames behind the newest (none behind
// once the match is over for us). The requests are advances, with every input confirmed,
// after a load of the state the feeder handed us, if it did; they are valid until the
// next call.
func (sp *Spectator) Step(now time.Duration) []Request {
	sp.now = now
	sp.reqs = sp.reqs[:0]
	if sp.state != StateRunning {
		return sp.reqs
	}
	if sp.loadPending {
		sp.loadPending = false
		sp.reqs = append(sp.reqs, sp.loadCell.request(RequestLoad, sp.loadCell.frame))
		sp.frame = sp.loadCell.frame
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
	if k := int(sp.frame-sp.rowBase) - 1; k > 2*watchKeep {
		// Rows run long ago are not needed again (the row before the next one is kept,
		// which a feeder of an older version codes against): the spectator holds as few
		// as a player does.
		sp.rows = append(sp.rows[:0], sp.rows[k*size:]...)
		sp.rowBase += Frame(k)
	}
	for range n {
		i := int(sp.frame - sp.rowBase)
		sp.reqs = append(sp.reqs, Request{Kind: RequestAdvance, Frame: sp.frame,
			Inputs: sp.rows[i*size : (i+1)*size : (i+1)*size], Status: sp.status})
		sp.frame++
	}
	return sp.reqs
}
