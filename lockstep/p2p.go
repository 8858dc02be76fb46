package lockstep

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Datagram is a message for the caller to send. Data is valid until the next call to the
// session.
type Datagram struct {
	To   netip.AddrPort
	Data []byte
}

type sessionState uint8

const (
	stateSyncing sessionState = iota
	stateRunning
	stateFailed
	stateDesync
	stateClosed
)

var stateNames = [...]string{"synchronizing", "running", "failed", "desync", "closed"}

func (s sessionState) String() string { return stateNames[s] }

type endpointState uint8

const (
	epSyncing endpointState = iota
	epRunning
	epGone
)

const (
	syncRetry        = 100 * time.Millisecond
	qualityInterval  = 500 * time.Millisecond // RTT, frame advantage: slow-moving figures
	maxPendingOut    = 32                     // datagrams queued between two Outgoing calls; more are dropped
	checksumRepeats  = 3                      // a checksum report rides on this many messages, in case one is lost
	checksumHistory  = 8
	timeSyncWindow   = 32
	maxTimeSyncWait  = 8
	maxInputsPerSend = 255
)

// endpoint is our view of one remote player.
type endpoint struct {
	player    int
	addr      netip.AddrPort
	addrKnown bool
	tag       uint16 // the peer's tag, learned in the handshake
	tagKnown  bool
	state     endpointState

	// handshake
	nonce        uint32
	roundTrips   int
	lastSyncSend time.Duration
	sendSyncNow  bool

	// inputs
	acked        Frame // last frame of our inputs the peer has
	lastSentTo   Frame // last local frame we have put on the wire
	oweAck       bool
	lastSend     time.Duration
	lastRecv     time.Duration
	interrupted  bool
	lastQuality  time.Duration
	sumSendsLeft int

	// quality
	rtt             time.Duration
	havePing        bool
	lastPing        uint32
	lastPingAt      time.Duration
	remoteFrame     Frame
	remoteFrameAt   time.Duration
	remoteAdvantage int
	haveReport      bool

	pendingSums [checksumHistory]checksumReport // the peer's reports we could not check yet
	endFrame    Frame                           // once gone: the last frame played with its real inputs

	// traffic
	bytesIn, bytesOut, packetsIn, packetsOut uint64
	rate                                     rateWindow
}

type checksumReport struct {
	frame Frame
	sum   uint64
	set   bool
}

type localChecksum struct {
	checksumReport
	state []byte
}

// rateWindow turns running totals into per-second rates, refreshed once a second.
type rateWindow struct {
	start                        time.Duration
	bytesIn, bytesOut            uint64 // totals at start
	packetsIn, packetsOut        uint64
	bpsIn, bpsOut, ppsIn, ppsOut uint64
}

// Session is a peer-to-peer rollback session for one local player. It is a pure state
// machine: the caller feeds it received datagrams (Receive), the local input
// (AddLocalInput) and the time, and carries out what it returns: requests for the game
// (Advance) and datagrams to send (Outgoing). It never blocks, reads a clock or starts a
// goroutine, so tests drive several sessions in one goroutine on a virtual clock.
//
// One tick of a game loop:
//
//	for each datagram received: s.Receive(from, data, now)
//	if s.Running() && !s.Wait() {
//		s.AddLocalInput(input)
//		reqs, err := s.Advance(now) // ErrPredictionThreshold: skip this tick
//		lockstep.Apply(game, reqs)
//	}
//	for _, d := range s.Outgoing(now) { send d.Data to d.To }
//	for _, e := range s.Events() { show e }
type Session struct {
	cfg   Config
	local int
	state sessionState
	err   error
	sync  *syncLayer
	peers []*endpoint // by player; nil for the local player
	rng   *rand.Rand
	tag   uint16
	game  []byte // cfg.Game, for the wire
	seed  uint64
	now   time.Duration

	out      []Datagram
	outBuf   []byte
	outTaken bool
	scratch  []byte // inputs copied out of the ring for encoding
	decoded  []byte // one decoded input
	encoded  []byte // encoded inputs of the message being built

	events, spareEvents []Event

	waitFrames   int
	advSamples   [timeSyncWindow]int
	advCount     int
	nextChecksum Frame
	localSums    [checksumHistory]localChecksum
	latestSum    checksumReport
	desyncFrame  Frame
	desyncState  []byte

	drops DropStats
}

// DropStats counts datagrams the session ignored, by reason.
type DropStats struct {
	Malformed    uint64 // truncated, bad magic, unknown type, bad encoding
	Oversized    uint64 // longer than MaxDatagram
	Foreign      uint64 // from an address that is not a peer
	WrongTag     uint64 // from a peer's address but another session (a leftover process)
	WrongVersion uint64 // another protocol version
	Stale        uint64 // nothing new: duplicates and replays of old datagrams
	Overflow     uint64 // replies dropped because too many were queued in one tick
}

// Total is the number of dropped datagrams.
func (d DropStats) Total() uint64 {
	return d.Malformed + d.Oversized + d.Foreign + d.WrongTag + d.WrongVersion + d.Stale + d.Overflow
}

// NewSession makes a session for local player localPlayer. peers holds every player's
// address by player number; the local entry is ignored, and an invalid (zero) address means
// "learn it from the first handshake that claims this player", which is how player 0 waits
// for player 1 without knowing its address.
func NewSession(cfg Config, localPlayer int, peers []netip.AddrPort) (*Session, error) {
	if cfg.Players == 0 {
		cfg.Players = 2
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Players < 2 {
		return nil, fmt.Errorf("players: a P2P session needs 2..%d, not %d", MaxPlayers, cfg.Players)
	}
	if localPlayer < 0 || localPlayer >= cfg.Players {
		return nil, fmt.Errorf("local player %d is not in 0..%d", localPlayer, cfg.Players-1)
	}
	if len(peers) != cfg.Players {
		return nil, fmt.Errorf("peers: %d addresses for %d players", len(peers), cfg.Players)
	}
	s := &Session{
		cfg:          cfg,
		local:        localPlayer,
		sync:         newSyncLayer(cfg.Players, cfg.InputSize, cfg.MaxPrediction),
		peers:        make([]*endpoint, cfg.Players),
		rng:          rand.New(rand.NewPCG(cfg.Nonce, 0x70327061)),
		outBuf:       make([]byte, 0, maxPendingOut*MaxDatagram),
		out:          make([]Datagram, 0, maxPendingOut),
		scratch:      make([]byte, maxInputsPerSend*cfg.InputSize),
		decoded:      make([]byte, cfg.InputSize),
		encoded:      make([]byte, 0, 2*MaxDatagram),
		events:       make([]Event, 0, 16),
		spareEvents:  make([]Event, 0, 16),
		desyncFrame:  NullFrame,
		nextChecksum: 0,
	}
	s.tag = uint16(s.rng.Uint32()) | 1
	s.game = []byte(cfg.Game)
	if localPlayer == 0 {
		s.seed = cfg.Seed
	}
	for p, addr := range peers {
		if p == localPlayer {
			continue
		}
		ep := &endpoint{player: p, acked: NullFrame, lastSentTo: NullFrame, remoteFrame: NullFrame, endFrame: NullFrame}
		if addr.IsValid() {
			ep.addr, ep.addrKnown = unmap(addr), true
			ep.sendSyncNow = true
		}
		ep.nonce = s.newNonce()
		s.peers[p] = ep
	}
	return s, nil
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (s *Session) newNonce() uint32 { return s.rng.Uint32() | 1 }

func (s *Session) logger() *slog.Logger { return s.cfg.Logger }

func (s *Session) debug(msg string, args ...any) {
	if l := s.logger(); l != nil {
		l.Debug(msg, args...)
	}
}

// Running reports whether the handshake is done and the session can advance.
func (s *Session) Running() bool { return s.state == stateRunning }

// Err is why the session stopped (handshake failure, desync), or nil.
func (s *Session) Err() error { return s.err }

// State names the session's state for display: synchronizing, running, failed, desync, closed.
func (s *Session) State() string { return s.state.String() }

// Seed is the agreed RNG seed: player 0's. Valid once Running.
func (s *Session) Seed() uint64 { return s.seed }

// LocalPlayer is the player this session plays for.
func (s *Session) LocalPlayer() int { return s.local }

// Frame is the frame the game state is at once the last requests are carried out.
func (s *Session) Frame() Frame { return s.sync.frame }

// ConfirmedFrame is the latest frame whose state was computed from every player's real
// inputs (once the last requests are carried out). Its checksum is final.
func (s *Session) ConfirmedFrame() Frame {
	c := s.sync.confirmedFrame()
	if s.sync.firstIncorrect != NullFrame {
		c = min(c, s.sync.firstIncorrect)
	}
	return c
}

// Checksum is the saved checksum of frame f, while the session still remembers it (the
// last MaxPrediction+1 frames).
func (s *Session) Checksum(f Frame) (uint64, bool) { return s.sync.savedChecksum(f) }

// SavedState is the saved state of frame f, while the session still remembers it. The
// slice belongs to the session: copy it to keep it.
func (s *Session) SavedState(f Frame) ([]byte, bool) {
	if _, ok := s.sync.savedChecksum(f); !ok {
		return nil, false
	}
	return s.sync.cell(f).State, true
}

// Events returns what happened since the last call. The slice is valid until the next call.
func (s *Session) Events() []Event {
	ev := s.events
	s.events, s.spareEvents = s.spareEvents[:0], ev
	return ev
}

func (s *Session) emit(e Event) {
	if s.cfg.Logger != nil { // formatting costs allocations; pay them only when logging
		s.debug("event", "event", e.String())
	}
	s.events = append(s.events, e)
}

// Wait reports whether time sync asks this peer to skip the current tick (it runs ahead of
// the others). Each true answer uses up one frame of the wait.
func (s *Session) Wait() bool {
	if s.waitFrames > 0 && s.state == stateRunning {
		s.waitFrames--
		return true
	}
	return false
}

func (s *Session) fail(err error) {
	if s.state == stateFailed {
		return
	}
	s.state = stateFailed
	s.err = err
	s.emit(Event{Kind: EventFailed, Err: err, Player: -1})
}

// --- receiving -------------------------------------------------------------------------

// Receive hands the session one datagram that arrived from from at time now. Anything that
// is not a valid message from a peer is dropped and counted (see Stats); nothing a datagram
// contains can make the session panic or desynchronize.
func (s *Session) Receive(from netip.AddrPort, data []byte, now time.Duration) {
	s.now = now
	from = unmap(from)
	if len(data) > MaxDatagram {
		s.drops.Oversized++
		return
	}
	h, body, err := parseHeader(data)
	if err != nil {
		s.drops.Malformed++
		return
	}
	switch h.typ {
	case msgSyncRequest, msgSyncReply, msgReject:
		s.receiveSync(from, h, body, len(data))
	case msgInput:
		ep := s.endpointFor(from, h.tag)
		if ep == nil {
			return
		}
		s.receiveInput(ep, h, body, len(data))
	case msgBye:
		ep := s.endpointFor(from, h.tag)
		if ep == nil {
			return
		}
		r := reader{b: body}
		end := Frame(r.uvarint(maxFrameOnWire))
		if r.err != nil || len(r.b) != 0 {
			s.drops.Malformed++
			return
		}
		ep.count(len(data))
		if ep.state != epGone {
			// Frames up to end ran on the peer's real inputs only if we hold all of them.
			ep.endFrame = min(end, s.sync.queues[ep.player].known+1)
			s.drop(ep, EventPeerLeft)
			if s.state == stateSyncing {
				s.fail(fmt.Errorf("player %d left before the game started", ep.player))
			}
		}
	default:
		s.drops.Malformed++
	}
}

func (ep *endpoint) count(n int) {
	ep.bytesIn += uint64(n)
	ep.packetsIn++
}

// endpointFor finds the running peer a datagram claims to come from, counting it if none.
func (s *Session) endpointFor(from netip.AddrPort, tag uint16) *endpoint {
	for _, ep := range s.peers {
		if ep != nil && ep.addrKnown && ep.addr == from {
			if !ep.tagKnown || ep.tag != tag {
				s.drops.WrongTag++
				return nil
			}
			return ep
		}
	}
	s.drops.Foreign++
	return nil
}

func (s *Session) peerAt(from netip.AddrPort) *endpoint {
	for _, ep := range s.peers {
		if ep != nil && ep.addrKnown && ep.addr == from {
			return ep
		}
	}
	return nil
}

// waitingForUnknown reports whether some player's address is still to be learned.
func (s *Session) waitingForUnknown() bool {
	for _, ep := range s.peers {
		if ep != nil && !ep.addrKnown {
			return true
		}
	}
	return false
}

func (s *Session) receiveSync(from netip.AddrPort, h header, body []byte, size int) {
	var m syncMsg
	if err := parseSync(body, &m); err != nil {
		s.drops.Malformed++
		return
	}
	known := s.peerAt(from)
	// Only a peer we know, or someone answering for a player we wait for, may end our
	// handshake; otherwise a stray datagram could stop a running game.
	mayTalk := known != nil || (s.state == stateSyncing && s.waitingForUnknown())
	if m.version != ProtocolVersion {
		s.drops.WrongVersion++
		if !mayTalk || s.state != stateSyncing {
			return
		}
		if h.typ != msgReject {
			s.queueReject(from, rejectVersion)
		}
		s.fail(fmt.Errorf("peer runs protocol %d, we run %d", m.version, ProtocolVersion))
		return
	}
	if h.typ == msgReject {
		if known == nil || s.state != stateSyncing {
			s.drops.Foreign++
			return
		}
		known.count(size)
		s.fail(s.mismatchError(m.code, &m))
		return
	}
	if code := s.mismatch(&m); code != 0 {
		if !mayTalk || s.state != stateSyncing {
			s.drops.Foreign++
			return
		}
		s.queueReject(from, code)
		s.fail(s.mismatchError(code, &m))
		return
	}
	ep := s.peers[m.player]
	switch {
	case ep.addrKnown && ep.addr != from:
		s.drops.Foreign++
		return
	case !ep.addrKnown:
		if s.state != stateSyncing {
			s.drops.Foreign++
			return
		}
		ep.addr, ep.addrKnown = from, true
		if s.cfg.Logger != nil {
			s.debug("peer address learned", "player", ep.player, "addr", from)
		}
	}
	if !ep.tagKnown || ep.tag != h.tag {
		if ep.state != epSyncing {
			s.drops.WrongTag++ // a leftover process from an earlier game on the same address
			return
		}
		ep.tag, ep.tagKnown = h.tag, true
		ep.roundTrips = 0
	}
	ep.count(size)
	if ep.state == epSyncing {
		// Once running, only input messages with news prove the peer alive: anyone can
		// replay an old handshake datagram.
		ep.lastRecv = s.now
	}
	if m.player == 0 && s.state == stateSyncing {
		s.seed = m.seed
	}
	if h.typ == msgSyncRequest {
		// Answer in every state: the peer may still be finishing its handshake after ours.
		reply := syncMsg{nonce: m.nonce}
		s.fillSync(&reply)
		s.queue(ep.addr, func(b []byte) []byte { return appendSync(b, msgSyncReply, s.tag, &reply) })
		return
	}
	if ep.state != epSyncing || m.nonce != ep.nonce {
		s.drops.Stale++
		return
	}
	ep.roundTrips++
	ep.nonce = s.newNonce()
	s.emit(Event{Kind: EventSynchronizing, Player: ep.player, Progress: ep.roundTrips, Total: s.cfg.SyncRoundTrips})
	if ep.roundTrips < s.cfg.SyncRoundTrips {
		ep.sendSyncNow = true
		return
	}
	ep.state = epRunning
	s.startIfAllSynced()
}

func (s *Session) startIfAllSynced() {
	if s.state != stateSyncing {
		return
	}
	for _, ep := range s.peers {
		if ep != nil && ep.state == epSyncing {
			return
		}
	}
	s.state = stateRunning
	for _, ep := range s.peers {
		if ep != nil {
			ep.lastRecv = s.now
		}
	}
	// With input delay d, the first d frames have no local input: they run with none.
	zero := make([]byte, s.cfg.InputSize)
	for f := range Frame(s.cfg.InputDelay) {
		s.sync.addInput(s.local, f, zero)
	}
	s.emit(Event{Kind: EventRunning, Player: -1})
}

func (s *Session) fillSync(m *syncMsg) {
	m.version = ProtocolVersion
	m.player = uint8(s.local)
	m.players = uint8(s.cfg.Players)
	m.inputSize = uint8(s.cfg.InputSize)
	m.seed = s.seed
	m.game = s.game
}

// mismatch checks a handshake message against our configuration.
func (s *Session) mismatch(m *syncMsg) rejectCode {
	switch {
	case int(m.players) != s.cfg.Players:
		return rejectPlayers
	case int(m.inputSize) != s.cfg.InputSize:
		return rejectInputSize
	case string(m.game) != s.cfg.Game:
		return rejectGame
	case int(m.player) >= s.cfg.Players || int(m.player) == s.local:
		return rejectPlayerNumber
	}
	return 0
}

// mismatchError words a mismatch from our side; m holds the peer's values.
func (s *Session) mismatchError(code rejectCode, m *syncMsg) error {
	switch code {
	case rejectVersion:
		if m.version == ProtocolVersion {
			return fmt.Errorf("peer refused our protocol %d", ProtocolVersion)
		}
		return fmt.Errorf("peer runs protocol %d, we run %d", m.version, ProtocolVersion)
	case rejectPlayers:
		return fmt.Errorf("peer expects %d players, we expect %d", m.players, s.cfg.Players)
	case rejectInputSize:
		return fmt.Errorf("peer sends %d-byte inputs, we expect %d", m.inputSize, s.cfg.InputSize)
	case rejectGame:
		return fmt.Errorf("peer plays %q, we play %q", m.game, s.cfg.Game)
	case rejectPlayerNumber:
		if int(m.player) == s.local {
			return fmt.Errorf("both peers are player %d", m.player)
		}
		return fmt.Errorf("peer is player %d, which is not a remote player in a %d-player game", m.player, s.cfg.Players)
	}
	return fmt.Errorf("peer refused the handshake (reason %d)", code)
}

func (s *Session) queueReject(to netip.AddrPort, code rejectCode) {
	m := syncMsg{code: code}
	s.fillSync(&m)
	s.queue(to, func(b []byte) []byte { return appendSync(b, msgReject, s.tag, &m) })
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

func (s *Session) receiveInput(ep *endpoint, h header, body []byte, size int) {
	var m inputMsg
	if err := parseInput(body, h.flags, s.cfg.InputSize, &m); err != nil {
		s.drops.Malformed++
		return
	}
	if s.state == stateSyncing {
		// The peer finished its handshake before us; its inputs come again until we ack.
		ep.lastRecv = s.now
		return
	}
	if s.state != stateRunning || ep.state != epRunning {
		s.drops.Stale++ // the game or this peer is over: nothing it says matters now
		return
	}
	ep.count(size)
	malformed := s.drops.Malformed
	fresh := false
	if m.ack > ep.acked {
		// A peer cannot have inputs we never sent: such an ack is forged or corrupt.
		if m.ack > s.sync.queues[s.local].known {
			s.drops.Malformed++
			return
		}
		ep.acked = m.ack
		fresh = true
	}
	if s.receiveInputs(ep, &m) {
		fresh = true
	}
	// Quality reports carry the sender's clock, which only moves forward: an older or
	// repeated one is a replay and must not count as a sign of life or skew the RTT.
	if h.flags&flagQuality != 0 && (!ep.havePing || int32(m.ping-ep.lastPing) > 0) {
		fresh = true
		ep.lastPing, ep.lastPingAt, ep.havePing = m.ping, s.now, true
		if m.echo != 0 {
			rtt := time.Duration(uint32(micros(s.now))-m.echo-m.held) * time.Microsecond
			if rtt >= 0 && rtt < 10*time.Second {
				if ep.rtt == 0 {
					ep.rtt = rtt
				} else {
					ep.rtt = (3*ep.rtt + rtt) / 4
				}
			}
		}
		if m.frame >= ep.remoteFrame {
			ep.remoteFrame, ep.remoteFrameAt = m.frame, s.now
			ep.remoteAdvantage = int(m.advantage)
			ep.haveReport = true
		}
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

// --- advancing -------------------------------------------------------------------------

// AddLocalInput gives the local player's input for the current frame (it takes effect
// InputDelay frames later). It returns ErrPredictionThreshold, without keeping the input,
// when the session cannot advance this tick; ErrInputAlreadyAdded if this frame already has
// it (the previous tick could not advance).
func (s *Session) AddLocalInput(input []byte) error {
	if s.state != stateRunning {
		return s.notRunning()
	}
	if len(input) != s.cfg.InputSize {
		return fmt.Errorf("input of %d bytes, want %d", len(input), s.cfg.InputSize)
	}
	q := &s.sync.queues[s.local]
	target := s.sync.frame + Frame(s.cfg.InputDelay)
	if q.known >= target {
		return ErrInputAlreadyAdded
	}
	if !s.sync.canAdvance() {
		return ErrPredictionThreshold
	}
	for _, ep := range s.peers {
		if ep != nil && ep.state == epRunning && int(target-ep.acked) >= ringFrames/2 {
			return ErrSendQueueFull
		}
	}
	if !s.sync.addInput(s.local, target, input) {
		return ErrSendQueueFull
	}
	return nil
}

func (s *Session) notRunning() error {
	if s.err != nil {
		return fmt.Errorf("%w: %w", ErrNotRunning, s.err)
	}
	return ErrNotRunning
}

// Advance returns the requests for this frame: a rollback and re-simulation if a remote
// input proved a prediction wrong, then the new frame. The requests are valid until the
// next call and must all be carried out before the session is called again.
func (s *Session) Advance(now time.Duration) ([]Request, error) {
	s.now = now
	if s.state != stateRunning {
		return nil, s.notRunning()
	}
	s.collectChecksums()
	if s.state != stateRunning {
		return nil, s.notRunning()
	}
	if s.sync.queues[s.local].known < s.sync.frame {
		return nil, ErrNoLocalInput
	}
	if !s.sync.canAdvance() {
		return nil, ErrPredictionThreshold
	}
	reqs := s.sync.advance()
	s.timeSync()
	return reqs, nil
}

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

// --- checksums -------------------------------------------------------------------------

// collectChecksums records the checksum of each checksum frame once its state is final:
// computed from real inputs only, after any re-simulation (a frame's checksum taken before
// its rollback would raise a false alarm).
func (s *Session) collectChecksums() {
	if s.cfg.ChecksumInterval < 0 || !s.sync.started {
		return
	}
	final := s.ConfirmedFrame()
	for ; s.nextChecksum <= final; s.nextChecksum += Frame(s.cfg.ChecksumInterval) {
		f := s.nextChecksum
		c := s.sync.cell(f)
		if c.Frame != f {
			continue
		}
		rec := &s.localSums[int(f/Frame(s.cfg.ChecksumInterval))%checksumHistory]
		rec.frame, rec.sum, rec.set = f, c.Checksum, true
		rec.state = append(rec.state[:0], c.State...)
		s.latestSum = rec.checksumReport
		for _, ep := range s.peers {
			if ep == nil {
				continue
			}
			ep.sumSendsLeft = checksumRepeats
			for i := range ep.pendingSums {
				if p := &ep.pendingSums[i]; p.set && p.frame == f {
					p.set = false
					s.compareChecksum(ep, f, p.sum)
				}
			}
		}
	}
}

func (s *Session) remoteChecksum(ep *endpoint, f Frame, sum uint64) {
	if s.cfg.ChecksumInterval <= 0 || f%Frame(s.cfg.ChecksumInterval) != 0 {
		return
	}
	if f < s.nextChecksum {
		s.compareChecksum(ep, f, sum)
		return
	}
	p := &ep.pendingSums[int(f/Frame(s.cfg.ChecksumInterval))%checksumHistory]
	p.frame, p.sum, p.set = f, sum, true
}

func (s *Session) compareChecksum(ep *endpoint, f Frame, remote uint64) {
	rec := &s.localSums[int(f/Frame(s.cfg.ChecksumInterval))%checksumHistory]
	if !rec.set || rec.frame != f || rec.sum == remote || s.state == stateDesync {
		return
	}
	s.state = stateDesync
	s.err = fmt.Errorf("%w at frame %d: our checksum %016x, player %d's %016x", ErrDesync, f, rec.sum, ep.player, remote)
	s.desyncFrame = f
	s.desyncState = append([]byte(nil), rec.state...)
	s.emit(Event{Kind: EventDesync, Player: ep.player, Frame: f, Local: rec.sum, Remote: remote})
	// Make sure every peer hears our checksum of that frame, so all of them stop too.
	s.latestSum = rec.checksumReport
	for _, p := range s.peers {
		if p != nil {
			p.sumSendsLeft = checksumRepeats
		}
	}
}

// DesyncState returns the frame at which a desync was detected and our saved state of it,
// for forensics (compare it with the peer's). ok is false if there was no desync.
func (s *Session) DesyncState() (f Frame, state []byte, ok bool) {
	return s.desyncFrame, s.desyncState, s.desyncFrame != NullFrame
}

// --- sending ---------------------------------------------------------------------------

// Outgoing runs the session's timers (handshake retries, keep-alives, timeouts) and returns
// the datagrams to send now. The slice and its data are valid until the next call.
func (s *Session) Outgoing(now time.Duration) []Datagram {
	s.now = now
	if s.outTaken {
		s.out, s.outBuf, s.outTaken = s.out[:0], s.outBuf[:0], false
	}
	switch s.state {
	case stateSyncing:
		for _, ep := range s.peers {
			if ep == nil || !ep.addrKnown || ep.state != epSyncing {
				continue
			}
			if ep.sendSyncNow || now-ep.lastSyncSend >= syncRetry || ep.lastSyncSend == 0 {
				ep.sendSyncNow = false
				ep.lastSyncSend = now
				m := syncMsg{nonce: ep.nonce}
				s.fillSync(&m)
				s.queue(ep.addr, func(b []byte) []byte { return appendSync(b, msgSyncRequest, s.tag, &m) })
			}
		}
	case stateDesync:
		// Stopped, but still telling the peers our checksum of the desynced frame.
		for _, ep := range s.peers {
			if ep != nil && ep.state == epRunning && ep.sumSendsLeft > 0 {
				s.sendInputs(ep)
			}
		}
	case stateRunning:
		s.collectChecksums()
		for _, ep := range s.peers {
			if ep == nil || ep.state != epRunning {
				continue
			}
			s.checkTimeout(ep)
			ep.rate.update(now, ep)
			if ep.state == epRunning {
				s.sendInputs(ep)
			}
		}
	}
	s.outTaken = true
	return s.out
}

func (s *Session) checkTimeout(ep *endpoint) {
	silence := s.now - ep.lastRecv
	switch {
	case silence >= s.cfg.DisconnectTimeout:
		s.drop(ep, EventDisconnected)
	case silence >= s.cfg.InterruptTimeout && !ep.interrupted:
		ep.interrupted = true
		s.emit(Event{Kind: EventInterrupted, Player: ep.player, Timeout: s.cfg.DisconnectTimeout - silence})
	}
}

// drop gives up on a peer: from now on its last input stands in for all its frames, so the
// local game goes on without waiting.
func (s *Session) drop(ep *endpoint, why EventKind) {
	ep.state = epGone
	q := &s.sync.queues[ep.player]
	if why != EventPeerLeft {
		ep.endFrame = q.known + 1
	}
	q.connected = false
	s.emit(Event{Kind: why, Player: ep.player, Frame: ep.endFrame})
}

// EndFrame is the last frame every player played with real inputs: the frame at which the
// first peer left or was dropped; NullFrame while everyone is connected. Both sides of a
// game that ended with a goodbye agree on it and on its checksum.
func (s *Session) EndFrame() Frame {
	end := NullFrame
	for _, ep := range s.peers {
		if ep != nil && ep.state == epGone && (end == NullFrame || ep.endFrame < end) {
			end = ep.endFrame
		}
	}
	return end
}

// Unacknowledged is the largest number of local inputs some connected peer has not
// acknowledged yet. A peer that wants to leave waits for 0, so that the other side holds
// every input it played and both agree on the end.
func (s *Session) Unacknowledged() int {
	n := 0
	q := &s.sync.queues[s.local]
	for _, ep := range s.peers {
		if ep != nil && ep.state == epRunning {
			n = max(n, int(q.known-ep.acked))
		}
	}
	return n
}

// PeerAddr is player p's address, once known (invalid otherwise).
func (s *Session) PeerAddr(p int) netip.AddrPort {
	if p < 0 || p >= len(s.peers) || s.peers[p] == nil || !s.peers[p].addrKnown {
		return netip.AddrPort{}
	}
	return s.peers[p].addr
}

// ConfirmedInputs appends every player's real input of frame f (player i at
// [i*size:(i+1)*size]) to dst; ok is false if f is not confirmed or no longer remembered
// (the last 128 frames are). Recordings of a match are made of these.
func (s *Session) ConfirmedInputs(dst []byte, f Frame) ([]byte, bool) {
	if f < 0 || f > s.sync.confirmedInputs() || int(s.sync.frame-f) >= ringFrames/2 {
		return dst, false
	}
	for p := range s.sync.queues {
		dst = append(dst, s.sync.queues[p].input(f)...)
	}
	return dst, true
}

// LastLocalFrame is the last frame that has local input (the current frame plus the input
// delay, minus one, once this frame's input is added).
func (s *Session) LastLocalFrame() Frame { return s.sync.queues[s.local].known }

// Catchup carries out a pending rollback without advancing to a new frame: a session that
// stopped adding input (the game is ending) still folds in late remote inputs, so its
// confirmed frame can reach the end.
func (s *Session) Catchup(now time.Duration) ([]Request, error) {
	s.now = now
	if s.state != stateRunning {
		return nil, s.notRunning()
	}
	return s.sync.catchup(), nil
}

// sendInputs sends ep every local input it has not acknowledged, with our acknowledgement of
// its inputs, when there is something new to say or the keep-alive is due.
func (s *Session) sendInputs(ep *endpoint) {
	q := &s.sync.queues[s.local]
	from, to := ep.acked+1, q.known
	since := s.now - ep.lastSend
	due := to > ep.lastSentTo || ep.oweAck || since >= s.cfg.KeepAlive || ep.sumSendsLeft > 0 ||
		(from <= to && since >= 2*s.cfg.FrameDuration)
	if !due {
		return
	}
	var flags uint8
	m := inputMsg{start: from, ack: s.sync.queues[ep.player].known}
	// A keep-alive always carries a quality report: its fresh clock reading is what proves
	// us alive to a peer that ignores replays. Otherwise one every qualityInterval is enough.
	if since >= s.cfg.KeepAlive || s.now-ep.lastQuality >= qualityInterval || ep.lastQuality == 0 {
		flags |= flagQuality
		ep.lastQuality = s.now
		m.ping = micros(s.now)
		if ep.havePing {
			m.echo = ep.lastPing
			m.held = uint32((s.now - ep.lastPingAt) / time.Microsecond)
		}
		m.frame = s.sync.frame
		m.advantage = int32(s.localAdvantage(ep))
	}
	if ep.sumSendsLeft > 0 && s.latestSum.set {
		flags |= flagChecksum
		ep.sumSendsLeft--
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
	for {
		m.count = count
		m.inputs = appendInputs(s.encoded[:0], base, s.scratch[:count*size], size)
		if len(m.inputs) <= MaxDatagram-64 || count <= 1 {
			break
		}
		count /= 2
	}
	s.queue(ep.addr, func(b []byte) []byte { return appendInput(b, s.tag, &m, flags) })
	ep.lastSentTo = max(ep.lastSentTo, from+Frame(count)-1)
	ep.oweAck = false
}

// Close says goodbye to every peer (the datagrams come from the next Outgoing, or are
// returned here) and stops the session.
func (s *Session) Close(now time.Duration) []Datagram {
	s.now = now
	if s.outTaken {
		s.out, s.outBuf, s.outTaken = s.out[:0], s.outBuf[:0], false
	}
	for _, ep := range s.peers {
		if ep != nil && ep.addrKnown && ep.tagKnown && ep.state != epGone {
			end := s.sync.queues[s.local].known + 1
			for range 2 {
				s.queue(ep.addr, func(b []byte) []byte {
					return binary.AppendUvarint(appendHeader(b, msgBye, 0, s.tag), uint64(end))
				})
			}
		}
	}
	if s.state == stateRunning || s.state == stateSyncing {
		s.state = stateClosed
	}
	s.outTaken = true
	return s.out
}
