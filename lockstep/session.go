// The P2P session: the Session type, its construction, accessors, events and shutdown.
// The rest of it lives by concern: endpoint.go (remote players), datagrams.go (Receive and
// Outgoing), handshake.go, inputs.go (inputs and advancing), timesync.go, checksums.go, stats.go.

package lockstep

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"
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

// Session is a peer-to-peer rollback session for one local player. It is a pure state
// machine: the caller feeds it received datagrams (Receive) and, once a tick, the local input
// and the time (Step), and carries out what it returns: requests for the game (Step) and
// datagrams to send (Outgoing). It never blocks, reads a clock or starts a goroutine, so
// tests drive several sessions in one goroutine on a virtual clock.
//
// One tick of a game loop (the package doc shows it in full, and ExampleSession runs it):
//
//	for each datagram received: s.Receive(from, data, now)
//	status, reqs, err := s.Step(now, input) // err: a caller bug only
//	lockstep.Apply(game, reqs)
//	if status == lockstep.StatusAdvanced { input = next input } // else offer it again
//	for _, d := range s.Outgoing(now) { send d.Data to d.To }
//	for _, e := range s.Events() { show e }
type Session struct {
	cfg   Config
	local int
	state State
	err   error
	sync  *syncLayer
	peers []*endpoint // by player; nil for the local player
	rng   *rand.Rand
	now   time.Duration

	identity // who we are to the others: nonce, keys, seed

	inputDelay int // Config.InputDelay until SetInputDelay changes it
	waitFrames int
	advantages advantageWindow

	outbox // datagrams and encoding buffers between two Outgoing calls

	events, spareEvents []Event

	checksums // our confirmed-frame checksums and the desync we found (checksums.go)
	resyncs   // the votes and handovers that mend a desync (resync.go)

	drops dropCounts

	legState      // what this leg of the match starts from and the handover we receive (rejoin.go)
	spectatorHost // the spectators we feed, and the history kept for them (spectator.go)
}

// identity is who this session is to the others: its nonce and keys, and the seed once the
// handshake agreed on it.
type identity struct {
	// session is our session nonce; root keys the secret proofs and the match keys.
	session uint64
	root    []byte
	proof   *mac
	game    []byte // cfg.Game, for the wire
	seed    uint64
	agreed  bool // the handshake finished: seed is player 0's
}

// outbox holds the datagrams queued for the next Outgoing call and the buffers encoding
// reuses, so that a steady frame allocates nothing.
type outbox struct {
	out      []Datagram
	outBuf   []byte
	outTaken bool
	scratch  []byte // inputs copied out of the ring for encoding
	decoded  []byte // one decoded input
	encoded  []byte // encoded inputs of the message being built
	// the previous Outgoing call, to notice when this process did not run (goodbye.go)
	lastOutgoing time.Duration
	outgoingSeen bool
}

// checksums is our side of desync detection: the checksums of our confirmed frames, the
// latest report to send, and the first frame found to differ.
type checksums struct {
	nextChecksum Frame
	localSums    [checksumHistory]localChecksum
	latestSum    checksumReport
	desyncFrame  Frame
	desyncState  []byte
}

// legState is what a leg of a match (the session a start, a rejoin or a resync opens) starts
// from, and the handover of a state we receive.
type legState struct {
	resume        resumeInfo // what this leg starts from: Match.NextLeg's, or the state handed to us
	resumeState   []byte     // that state's bytes, for a handover
	matchID       uint64
	recv          *handoverIn // the handover we receive, while under way
	rejoined      bool        // we started on a state handed over by a peer
	loadPending   bool        // the first Step loads it
	loadReqs      []Request
	loadCell      cell
	lastRefused   netip.AddrPort
	lastRefusedAt time.Duration
	keepAliveOnly bool // a leg kept alive while the next opens: no restart probes
}

// spectatorHost is a player's side of spectating (Config.Spectators > 0): the spectators
// it feeds, and the confirmed rows it keeps for them (the last 10 to 20 seconds' worth) and
// the state they start from.
type spectatorHost struct {
	watchers           []*watcher
	history            []byte // the confirmed rows of match frames histStart..histEnd-1
	histStart, histEnd Frame
	histSet            bool // the session ran and history starts at histStart
	// histState is the game's state at histStart, which a spectator that holds less is
	// handed (nil at frame 0); histInfo describes it. snapState is a copy of the state at
	// snapFrame, the next histState (trimHistory).
	histState []byte
	histInfo  resumeInfo
	snapState []byte
	snapFrame Frame
	zeroRow   []byte
}

// NewSession makes a session for local player localPlayer. peers holds every player's
// address by player number; the local entry is ignored, and an invalid (zero) address means
// "learn it from the first handshake that claims this player", which is how player 0 waits
// for player 1 without knowing its address.
func NewSession(cfg Config, localPlayer int, peers []netip.AddrPort) (*Session, error) {
	cfg = cfg.WithDefaults()
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
		cfg:   cfg,
		local: localPlayer,
		sync:  newSyncLayer(cfg.Players, cfg.InputSize, cfg.MaxPrediction, departureSlack(cfg)),
		peers: make([]*endpoint, cfg.Players),
		rng:   rand.New(rand.NewPCG(cfg.Nonce, 0x70327061)),
		outbox: outbox{
			outBuf:  make([]byte, 0, maxPendingOut*MaxDatagram),
			out:     make([]Datagram, 0, maxPendingOut),
			scratch: make([]byte, maxInputsPerSend*cfg.InputSize),
			decoded: make([]byte, cfg.InputSize),
			encoded: make([]byte, 0, 2*MaxDatagram),
		},
		events:      make([]Event, 0, 16),
		spareEvents: make([]Event, 0, 16),
		checksums:   checksums{desyncFrame: NullFrame},
		resyncs:     resyncs{vote: NullFrame, settled: NullFrame},
		inputDelay:  cfg.InputDelay,
	}
	if cfg.Spectators > 0 {
		s.watchers = make([]*watcher, 0, cfg.Spectators)
		s.zeroRow = make([]byte, cfg.Players*cfg.InputSize)
	}
	s.session = s.rng.Uint64() | 1
	s.root = secretKey([]byte(cfg.Secret))
	s.proof = newMAC(s.root)
	s.game = []byte(cfg.Game)
	if localPlayer == 0 || cfg.resume != nil {
		s.seed = cfg.Seed // a leg that resumes knows the match's seed, whoever it is
	}
	if r := cfg.resume; r != nil {
		s.resume, s.resumeState, s.matchID = resumeInfoOf(r), r.state, r.match
	}
	for p, addr := range peers {
		if p == localPlayer {
			continue
		}
		ep := newEndpoint(p)
		for i := range ep.views {
			ep.views[i].last = NullFrame
		}
		if addr.IsValid() {
			ep.addr, ep.addrKnown = unmap(addr), true
			ep.sendSyncNow = true
		} else {
			ep.learned = true
		}
		ep.nonce = s.newNonce()
		s.peers[p] = ep
	}
	return s, nil
}

// State is where a session, a spectator or the link to one peer (PeerStats.State) is in its
// life: synchronizing, then running, then one of the ends: StateFailed, StateDesync or
// StateClosed for a session, StateGone for a link.
type State uint8

const (
	// StateSynchronizing: the handshake is under way.
	StateSynchronizing State = iota
	// StateRunning: every peer is synchronized; Step advances the game.
	StateRunning
	// StateFailed: the handshake failed (Err says why).
	StateFailed
	// StateDesync: the peers' checksums of a confirmed frame differed (Err is an ErrDesync).
	StateDesync
	// StateClosed: Close was called.
	StateClosed
	// StateGone (a link's only): the player said goodbye or was dropped after a silence.
	StateGone
)

var stateNames = [...]string{
	StateSynchronizing: "synchronizing",
	StateRunning:       "running",
	StateFailed:        "failed",
	StateDesync:        "desync",
	StateClosed:        "closed",
	StateGone:          "gone",
}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// dropCounts is where the session counts the datagrams it ignored: the fields of
// Stats.Dropped, which is assigned from it (the compiler keeps the two alike).
type dropCounts struct {
	Malformed, Oversized, Corrupt, Unauthenticated, Foreign, WrongTag, WrongVersion, Stale, Overflow uint64
}

func (s *Session) newNonce() uint32 { return s.rng.Uint32() | 1 }

func (s *Session) logger() *slog.Logger { return s.cfg.Logger }

func (s *Session) debug(msg string, args ...any) {
	if l := s.logger(); l != nil {
		l.Debug(msg, args...)
	}
}

// Running reports whether the handshake is done and the session can advance.
func (s *Session) Running() bool { return s.state == StateRunning }

// Err is why the session stopped (handshake failure, desync), or nil.
func (s *Session) Err() error { return s.err }

// State is where the session is in its life.
func (s *Session) State() State { return s.state }

// Seed is the agreed RNG seed, player 0's proposal. ok is false until the handshake is done
// (player 1 learns the seed from it), so a game cannot start on a seed that is not agreed;
// the EventRunning event carries the same seed.
func (s *Session) Seed() (seed uint64, ok bool) {
	if !s.agreed {
		return 0, false
	}
	return s.seed, true
}

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

// LastLocalFrame is the last frame that has local input (the current frame plus the input
// delay, minus one, once this frame's input is added).
func (s *Session) LastLocalFrame() Frame { return s.sync.queues[s.local].known }

// knownFrame is the last frame for which player p's real input is here (NullFrame if none,
// or if p is not a player): how far a remote player's inputs have arrived (PeerStats.Received).
func (s *Session) knownFrame(p int) Frame {
	if p < 0 || p >= len(s.sync.queues) {
		return NullFrame
	}
	return s.sync.queues[p].known
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

// Checksum is the checksum of frame f's saved state, while the session still remembers it
// (the last MaxPrediction+1 frames). The state is hashed on the first call, then cached.
func (s *Session) Checksum(f Frame) (uint64, bool) { return s.sync.savedChecksum(f) }

// SavedState is the saved state of frame f, while the session still remembers it. The
// slice belongs to the session: copy it to keep it.
func (s *Session) SavedState(f Frame) ([]byte, bool) {
	c, ok := s.sync.savedCell(f)
	if !ok {
		return nil, false
	}
	return c.state, true
}

// PeerAddr is player p's address, once known (invalid otherwise).
func (s *Session) PeerAddr(p int) netip.AddrPort {
	if p < 0 || p >= len(s.peers) || s.peers[p] == nil || !s.peers[p].addrKnown {
		return netip.AddrPort{}
	}
	return s.peers[p].addr
}

// EndFrame is the last frame every player played with real inputs: the frame at which the
// first peer left or was dropped; NullFrame while everyone is connected. Both sides of a
// game that ended with a goodbye agree on it and on its checksum. With three or four
// players it counts a departure once the survivors agreed on its frame.
func (s *Session) EndFrame() Frame {
	end := NullFrame
	for _, ep := range s.peers {
		if ep != nil && ep.departed && (end == NullFrame || ep.endFrame < end) {
			end = ep.endFrame
		}
	}
	return end
}

// ConnectedPeers is how many remote players are still in the match (not dropped, not left).
// With three or four players the survivors of a departure play on; a runner ends the match
// at a departure only when this is 0.
func (s *Session) ConnectedPeers() int {
	n := 0
	for _, ep := range s.peers {
		if ep != nil && ep.state != epGone {
			n++
		}
	}
	return n
}

// Unacknowledged is the largest number of local inputs some connected peer has not
// acknowledged yet, or of rows kept for spectators that some spectator we feed does not hold
// yet. A peer that wants to leave waits for 0, so that the other side holds every input it
// played and both agree on the end, and its spectators see the match to that end: the last
// rows are kept for them only once the peers acknowledged our last inputs, a round trip
// before the end, and would otherwise go out only with the goodbye, which may be lost.
func (s *Session) Unacknowledged() int {
	n := 0
	q := &s.sync.queues[s.local]
	for _, ep := range s.peers {
		if ep != nil && ep.state == epRunning {
			n = max(n, int(q.known-ep.acked))
		}
	}
	return max(n, s.unwatchedRows())
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

func (s *Session) fail(err error) {
	if s.state == StateFailed {
		return
	}
	s.state = StateFailed
	s.err = err
	s.emit(Event{Kind: EventFailed, Err: err, Player: -1})
}

// Close says goodbye to every peer and stops the session. The goodbye datagrams are the
// ones returned here (with anything else still queued): send them all, since Outgoing
// returns nothing once the session is closed. A peer that wants the other side to hold
// every input it played waits for Unacknowledged() == 0 before calling Close.
func (s *Session) Close(now time.Duration) []Datagram {
	s.now = now
	if s.outTaken {
		s.out, s.outBuf, s.outTaken = s.out[:0], s.outBuf[:0], false
	}
	for _, ep := range s.peers {
		if ep != nil && ep.addrKnown && ep.mac != nil && ep.state != epGone {
			end := s.sync.queues[s.local].known + 1
			for range 2 {
				s.queue(ep.addr, func(b []byte) []byte { return s.appendBye(b, ep, end) })
			}
		}
	}
	s.byeWatchers()
	if s.state == StateRunning || s.state == StateSynchronizing {
		s.state = StateClosed
	}
	s.outTaken = true
	return s.out
}
