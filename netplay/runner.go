package netplay

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"p2pa/lockstep"
	"p2pa/transport"
)

const (
	// DefaultLinger bounds how long a finishing runner waits for its peers to acknowledge
	// its last inputs (and, after Quit, for its end frame to be confirmed).
	DefaultLinger = 3 * time.Second
	// DefaultDesyncLinger is how long a runner goes on after a desync, so the session can repeat
	// its checksum to the peers (it rides on a few messages) before the runner leaves.
	DefaultDesyncLinger = 500 * time.Millisecond
)

// InputFunc returns the local player's input for frame f, appended to dst (of capacity
// Config.Session.InputSize). It is called once per frame: the runner keeps the input until
// the session takes it, so a scripted or bot source sees every frame exactly once.
type InputFunc func(f lockstep.Frame, dst []byte) []byte

// Config describes one player's side of a match.
type Config struct {
	// Session is the engine's configuration; InputSize is required. New fills a zero
	// Session.Nonce from crypto/rand, so no two runs share session keys and a leftover
	// process of an earlier match is not believed; tests that must replay exactly set it.
	// New also fills player 0's zero Session.Seed at random (unless SeedGiven): the
	// handshake hands player 0's seed to every other player, whose own Seed is not used,
	// so both sides of a match start from the same seed without agreeing on one
	// beforehand. Only NewGame sees that agreed seed. A Game built before New cannot: build
	// it from a value every peer knows (a constant, or one exchanged out of band), or use
	// NewGame.
	Session lockstep.Config
	// Player is the local player; Peers holds every player's address by player number (the
	// local entry is ignored; a zero address is learned from the handshake).
	Player int
	Peers  []netip.AddrPort
	Conn   transport.Conn
	Clock  transport.Clock
	// Game is the simulation. If nil, NewGame makes it once the handshake is done, from the
	// agreed seed (player 0's Session.Seed).
	Game    lockstep.Game
	NewGame func(seed uint64) (lockstep.Game, error)
	// Input gives the local input; nil plays zero input.
	Input InputFunc
	// InputEachTick asks Input afresh on every tick until the session takes an input,
	// instead of once per frame: a human's input goes stale while the session stalls. A
	// bot that must see every frame exactly once leaves it false.
	InputEachTick bool
	// FinishAt, if positive, ends the match at that frame (see the package doc).
	FinishAt lockstep.Frame
	// Linger bounds the wait for acknowledgements at the end; default DefaultLinger.
	Linger time.Duration
	// DesyncLinger is how long the match goes on after a desync, so the session can tell
	// the peers its checksum; default DefaultDesyncLinger. Negative: the match stays on
	// (the session stops advancing) until Quit, for a screen that shows the desync.
	DesyncLinger time.Duration
	// Hold is for a test harness that compares peers frame by frame: the runner plays to
	// FinishAt whatever the peers do (one that leaves or vanishes does not move the end),
	// then only folds in late inputs and answers; it never ends the match by itself (a
	// desync stops it advancing, a failure still ends it).
	Hold bool
	// OnEvent, if set, receives every session event as it is surfaced, its Frame counted in
	// the match's frames (after a rejoin the leg's frames start from the match's frame there).
	// A refusal the runner takes up (AdoptPlayerCount) is not passed on: OnSetup is asked
	// instead, and a failure to adopt is the Result.
	OnEvent func(lockstep.Event)
	// AdoptPlayerCount is for a joiner that was not told how many play (its
	// Session.Players is a guess): when the match refuses its handshake for the player
	// count alone (a lockstep.SetupError from player 0, who decides the count), the runner
	// takes the match's count and starts its handshake over with it, once, on a new first
	// leg. A second refusal ends the match (EndFailed). Player 0 never adopts a count. The
	// game's player count changes with it, so OnSetup is required.
	AdoptPlayerCount bool
	// OnSetup is asked, when the runner adopts the match's player count, before the
	// handshake starts over: it says what the runner plays with that many players (Setup).
	// An error refuses to play such a match: it ends the match (EndFailed, the error as it
	// is, for a front end to word it), as does a count that has no seat for Player.
	OnSetup func(players int) (Setup, error)
	// OnConfirmed, if set, is called once for every confirmed frame, in order, with the
	// inputs that produced it and its checksum (see Confirmed). Recordings are made of
	// these. A frame reported is never taken back: while a player who dropped may rejoin,
	// the frames played on its stand-in input are not confirmed, and a rejoin resumes the
	// match at the first of them (see rejoin.go).
	OnConfirmed func(Confirmed)
	// Rejoin is how long the others wait for a player who dropped (went silent, or whose
	// process restarted) to come back; 0 ends the match at the drop, as without it (with
	// three or four players the survivors then play on). While they wait the match is
	// paused; the player rejoins by starting its side again, with the same configuration
	// (see Rejoin in the package doc). DefaultRejoin is p2pa's.
	Rejoin time.Duration
	// OnRejoin, if set, receives what happens to rejoins: a pause, its end, a refused
	// attempt, and on the one who rejoins, the handover.
	OnRejoin func(RejoinEvent)
	// OnNoAnswer, if set, is told while a player whose address we know has not answered
	// the handshake: after NoAnswerAfter, then less and less often (see NoAnswer). Without
	// it a wrong address looks like a hang: the runner waits for an answer indefinitely.
	OnNoAnswer func(NoAnswer)
}

// Setup is what a runner that adopts the match's player count starts over with
// (Config.OnSetup).
type Setup struct {
	// Game is the game for the new count; nil keeps Config.Game (a game that does not
	// depend on the count) or NewGame (which makes the game after the handshake: it must
	// then make one for the new count).
	Game lockstep.Game
	// Description, if not empty, replaces Session.Game, the game's description the
	// handshake compares: for a game whose description changes with the count.
	Description string
}

// Readable is implemented by a Conn that can signal arrivals (transport.UDP does). Run
// waits on it instead of polling.
type Readable interface {
	Readable() <-chan struct{}
}

// Counters are what the runner did, tick by tick.
type Counters struct {
	Ticks    int // calls to Tick
	Advanced int // ticks that advanced a frame
	Stalls   int // ticks the session stalled (lockstep.Status.Stalled: for want of the peers)
	Waits    int // ticks skipped for time sync
	MaxDepth int // deepest rollback
}

// Runner runs one player's side of a match. It is not safe for concurrent use: one
// goroutine drives it (Run, or Poll and Tick).
type Runner struct {
	cfg   Config
	match *lockstep.Match // the legs of the match: the current session, and the previous one during a pause
	game  lockstep.Game
	buf   []byte // one received datagram
	input []byte // the pending local input
	// pending: input holds the input of frame pendingFor, not yet taken by the session.
	pending    bool
	pendingFor lockstep.Frame
	inputs     []byte // confirmed inputs for OnConfirmed
	// pastRollbacks counts the rollbacks of the legs before the current one.
	pastRollbacks int64
	peerStats     []lockstep.PeerStats
	counters      Counters

	phase  Phase          // where the match stands; only moveTo changes it
	end    lockstep.Frame // where the match ends; NullFrame: not decided yet
	reason EndReason      // why end was set (or why the match stopped)
	// quitAsked: Quit was called. The end then waits at most Linger to be confirmed (from
	// quitAt), and a desync ends the match at once.
	quitAsked bool
	quitAt    time.Duration
	lingerAt  time.Duration // when the wait for acknowledgements began; -1: not yet
	desyncAt  time.Duration // when the match moved to PhaseDesynced
	result    Result

	recorded lockstep.Frame // the last frame given to OnConfirmed (of this leg)
	noAnswer noAnswer       // the reports of players who have not answered (OnNoAnswer)
	// adopted: the player count was taken from a refusal (AdoptPlayerCount), which
	// happens once
	adopted bool

	// rejoin (rejoin.go): the pause while a dropped player may come back, and a first leg
	// that joined a match in progress
	legs      int
	wait      *rejoinWait // the pause under way (PhasePaused)
	joining   bool        // the handshake found the match in progress: a handover is under way
	joinFrame lockstep.Frame
}

// Confirmed is a confirmed frame, as Config.OnConfirmed reports it.
type Confirmed struct {
	// Frame counts the match's frames.
	Frame lockstep.Frame
	// Inputs are the inputs of the frame before, which produced Frame (nil for frame 0;
	// player i at [i*size:(i+1)*size]). The slice is valid only during the call.
	Inputs []byte
	match  *lockstep.Match
}

// Checksum is the checksum of the game's state at the frame, as every peer compares it;
// ok is false if the session no longer holds that state (it keeps the last
// MaxPrediction+1 frames, and the confirmed frame can jump further in one step). Valid
// only during the call. It hashes the state (once: the session keeps the sum), so a
// caller that records inputs only does not ask.
func (c Confirmed) Checksum() (sum uint64, ok bool) { return c.match.Checksum(c.Frame) }

// New makes a runner; nothing is sent until the first Poll or Tick. It fills a zero
// Session.Nonce, and player 0's zero Session.Seed, from crypto/rand (see Config.Session).
func New(cfg Config) (*Runner, error) {
	if cfg.Conn == nil || cfg.Clock == nil {
		return nil, errors.New("netplay: Conn and Clock are required")
	}
	if cfg.Game == nil && cfg.NewGame == nil {
		return nil, errors.New("netplay: Game or NewGame is required")
	}
	if cfg.Linger == 0 {
		cfg.Linger = DefaultLinger
	}
	if cfg.DesyncLinger == 0 {
		cfg.DesyncLinger = DefaultDesyncLinger
	}
	if cfg.Rejoin < 0 {
		return nil, errors.New("netplay: Rejoin must not be negative")
	}
	if cfg.AdoptPlayerCount && cfg.OnSetup == nil {
		return nil, errors.New("netplay: AdoptPlayerCount needs OnSetup: the game's player count changes")
	}
	if cfg.Rejoin > 0 {
		cfg.Session.Rejoin = true
	}
	sc := cfg.Session.WithDefaults()
	if err := fillRandom(&sc, cfg.Player); err != nil {
		return nil, err
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("netplay: session config: %w", err)
	}
	sess, err := lockstep.NewSession(sc, cfg.Player, cfg.Peers)
	if err != nil {
		return nil, fmt.Errorf("netplay: %w", err)
	}
	cfg.Session = sc
	r := &Runner{
		cfg:      cfg,
		phase:    PhaseHandshake,
		match:    lockstep.NewMatch(sess),
		game:     cfg.Game,
		buf:      make([]byte, transport.MaxDatagram),
		input:    make([]byte, sc.InputSize),
		inputs:   make([]byte, 0, sc.Players*sc.InputSize),
		end:      lockstep.NullFrame,
		recorded: lockstep.NullFrame,
		lingerAt: -1,
		noAnswer: newNoAnswer(),
	}
	if cfg.FinishAt > 0 {
		r.end, r.reason = cfg.FinishAt, EndFinished
	}
	return r, nil
}

// Session is the runner's session, for statistics and display. Do not step it.
func (r *Runner) Session() *lockstep.Session { return r.match.Session() }

// Match is the match of legs the runner plays, for display and for comparing frames (its
// Checksum takes the match's frames). Do not drive it.
func (r *Runner) Match() *lockstep.Match { return r.match }

// leg is the current leg.
func (r *Runner) leg() *lockstep.Session { return r.match.Session() }

// Game is the game the runner applies requests to; nil before the handshake if it is made
// by Config.NewGame.
func (r *Runner) Game() lockstep.Game { return r.game }

// Counters reports what the runner did so far.
func (r *Runner) Counters() Counters { return r.counters }

// Done reports whether the match is over; Result then says how.
func (r *Runner) Done() bool { return r.phase == PhaseDone }

// Result is how the match ended; valid once Done.
func (r *Runner) Result() Result { return r.result }

// Quit asks to end the match at the last frame played. Keep driving the runner until Done:
// it waits (at most Config.Linger) until the peers hold every input we played.
func (r *Runner) Quit() {
	if r.quitAsked || r.phase == PhaseDone {
		return
	}
	r.quitAsked = true
	r.quitAt = r.cfg.Clock.Now()
	r.abandonLeg() // quitting during a pause: the match ends where it paused
	if r.phase == PhaseDone || r.phase == PhaseDesynced {
		return // a desynced match ends at the next check (quitAsked)
	}
	if r.leg().Running() {
		last := r.leg().LastLocalFrame() + 1
		if r.end == lockstep.NullFrame || last < r.end {
			r.setEnd(max(last, 0), EndQuit)
		}
	}
	r.moveTo(PhaseEnding)
}

// Abort ends the match now, with a goodbye but without waiting for acknowledgements: a
// second Ctrl-C.
func (r *Runner) Abort() {
	if r.phase == PhaseDone {
		return
	}
	r.abandonLeg()
	if r.reason == EndNone {
		r.reason = EndQuit
	}
	r.finish()
}

// EndFrame is the frame the match ends at, once decided (FinishAt, Quit, a peer that
// left); NullFrame until then.
func (r *Runner) EndFrame() lockstep.Frame {
	if r.end == lockstep.NullFrame {
		return r.end
	}
	return r.match.MatchFrame(r.end)
}

// Synced reports whether the handshake is done and no frame was tried yet (of the first
// leg, or of the leg a pause opened): a loop ticks at once when it turns true, rather than
// at its next frame tick.
func (r *Runner) Synced() bool {
	switch r.phase {
	case PhaseHandshake:
		return r.leg().Running()
	case PhasePaused:
		return r.wait.settled && r.leg().Running() // the next leg, once it runs
	}
	return false
}

// Run drives the runner on a real clock until the match ends or ctx is cancelled; a
// cancelled ctx quits the match properly (see Quit), so Run returns at most Config.Linger
// later. It returns the result's error, if any.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	return r.RunWith(ctx, RunOptions{})
}

// RunOptions are Run's extras, for a front end that needs more than a context.
type RunOptions struct {
	// Abort, once readable, ends the match at once (Abort): a second Ctrl-C.
	Abort <-chan struct{}
	// Until, if set, is asked after every step; when it returns true, RunWith returns
	// without ending the match (a benchmark that stops two matches at a frame).
	Until func() bool
}

// RunWith is Run with RunOptions. The loop waits on the Conn's readability and a ticker at
// the frame rate: a datagram is handed over as it arrives (Poll), a frame is played every
// tick (Tick), and the first frame is played as soon as the handshake completes, which
// also starts the frame grid.
func (r *Runner) RunWith(ctx context.Context, o RunOptions) (Result, error) {
	var readable <-chan struct{}
	if rc, ok := r.cfg.Conn.(Readable); ok {
		readable = rc.Readable()
	}
	ticker := time.NewTicker(r.cfg.Session.FrameDuration)
	defer ticker.Stop()
	cancelled := ctx.Done()
	r.Tick() // the first handshake datagram goes out now, not a tick from now
	for r.phase != PhaseDone && (o.Until == nil || !o.Until()) {
		select {
		case <-ticker.C:
			r.Tick()
		case <-readable:
			r.Poll()
			if r.Synced() {
				r.Tick()
				ticker.Reset(r.cfg.Session.FrameDuration)
			}
		case <-cancelled:
			cancelled = nil
			r.Quit()
			if !r.leg().Running() {
				r.reason = EndCancelled
				r.finish()
			}
		case <-o.Abort:
			r.Abort()
		}
	}
	return r.result, r.result.Err
}

// Poll hands every datagram that has arrived to the session, stamped with the clock's
// time. While the handshake is under way (for any peer), and once the last frame is
// played, it answers at once (and, at the end, folds in the late inputs and checks whether
// the match is over), so the handshake and the goodbye take a few round trips instead of
// one frame each; so does a resync's handover of a state. In
// between, replies wait for the next Tick and ride on its input datagram. Once the match
// is over, the session still answers: a peer that goes on sending is told with a goodbye.
func (r *Runner) Poll() {
	now := r.cfg.Clock.Now()
	// Until every peer's first input is in (frame 1 confirmed), a peer may still be in
	// its handshake: a session that is running already answers its last sync requests at
	// once too, or the other side would wait a frame for each.
	handshaking := !r.leg().Running() || r.leg().ConfirmedFrame() < 1
	got := false
	for {
		n, from, ok := r.cfg.Conn.ReadFrom(r.buf)
		if !ok {
			break
		}
		if n > len(r.buf) {
			continue // oversized: the session would drop it anyway
		}
		r.match.Receive(from, r.buf[:n], now)
		got = true
	}
	switch {
	case !got:
	case r.phase == PhasePaused:
		if r.wait.settled {
			r.send(r.match.Previous().Outgoing(now))
		}
		r.send(r.leg().Outgoing(now))
		r.events(now)
	case r.phase == PhaseDone:
		r.send(r.leg().Outgoing(now))
	case handshaking:
		r.send(r.leg().Outgoing(now))
		r.events(now)
	case r.leg().Resyncing():
		// A resync's handover, like a handshake, goes at the pace of round trips.
		r.send(r.leg().Outgoing(now))
		r.events(now)
	case r.phase == PhaseEnding && r.endReached():
		r.step(now, nil)
		r.record()
		r.send(r.leg().Outgoing(now))
		r.events(now)
		r.checkEnd(now)
	}
}

// Tick runs one frame: receive, advance (unless the session must wait or the match is
// ending), send, report events, and end the match once its end is settled. It returns what
// the tick did, in lockstep's terms: StatusAdvanced (a frame was played), a stall or a
// time-sync wait (Status.Stalled, StatusTimeSync), StatusCaughtUp (the last frame is
// played: only late inputs are folded in), StatusSynchronizing (a handshake, or a pause
// for a rejoin, is under way), or StatusEnded (the match is over, or stopped by a desync).
func (r *Runner) Tick() lockstep.Status {
	if r.phase == PhaseDone {
		return lockstep.StatusEnded
	}
	r.counters.Ticks++
	r.Poll()
	now := r.cfg.Clock.Now()
	defer r.checkAnswers(now)
	if r.phase == PhasePaused {
		// Paused for a player who dropped: the next leg's handshake runs, nothing is played.
		r.waitTick(now)
		if r.phase == PhaseDone {
			return lockstep.StatusEnded
		}
		if r.phase == PhasePaused {
			r.send(r.leg().Outgoing(now))
			r.events(now)
			return lockstep.StatusSynchronizing
		}
	}
	st := lockstep.StatusSynchronizing
	switch {
	case r.leg().Running() && r.phase != PhaseDesynced:
		if r.game == nil {
			seed, _ := r.leg().Seed() // valid: the session is running
			g, err := r.cfg.NewGame(seed)
			if err != nil {
				r.fail(EndFailed, fmt.Errorf("netplay: new game: %w", err))
				return lockstep.StatusEnded
			}
			r.game = g
		}
		if r.phase == PhaseHandshake {
			r.noteJoin()
			r.playOn()
		}
		st = r.frame(now)
		r.record()
	case r.phase == PhaseDesynced || r.leg().State() != lockstep.StateSynchronizing:
		st = lockstep.StatusEnded
	}
	r.send(r.leg().Outgoing(now))
	r.events(now)
	r.checkEnd(now) // may end the match: Done tells, and the next Tick says StatusEnded
	return st
}

// frame decides what this tick offers the session: the pending input, no input (the end
// is near: only fold in late remote inputs), or nothing at all.
func (r *Runner) frame(now time.Duration) lockstep.Status {
	// Survivors of a 3-4 player match play on; with rejoin on, the departure's event
	// decides (a pause, or the end).
	if r.leg().ConnectedPeers() == 0 && r.cfg.Rejoin == 0 {
		r.noteEnd(r.leg().EndFrame(), EndPeerLeft)
	}
	var in []byte
	switch {
	case r.end != lockstep.NullFrame && r.leg().Frame() >= r.end:
		// The last frame is played: in stays nil.
	case r.end != lockstep.NullFrame && r.leg().LastLocalFrame() >= r.end-1:
		// Every frame up to the end has its local input (input delay): advance on those.
		// The session drops an input for a frame that already has one, so nothing is
		// played past the end.
		in = r.input[:r.cfg.Session.InputSize]
	default:
		next := r.leg().LastLocalFrame() + 1
		if !r.pending || r.pendingFor != next || r.cfg.InputEachTick {
			r.input = r.input[:0]
			if r.cfg.Input != nil {
				r.input = r.cfg.Input(r.match.MatchFrame(next), r.input)
			}
			for len(r.input) < r.cfg.Session.InputSize {
				r.input = append(r.input, 0)
			}
			r.pending, r.pendingFor = true, next
		}
		in = r.input
	}
	st := r.step(now, in)
	switch {
	case st == lockstep.StatusAdvanced:
		r.counters.Advanced++
		r.pending = false
		stats := r.leg().Stats(r.peerStats[:0])
		r.peerStats = stats.Peers
		r.counters.MaxDepth = max(r.counters.MaxDepth, stats.LastRollback)
	case st.Stalled():
		r.counters.Stalls++
	case st == lockstep.StatusTimeSync:
		r.counters.Waits++
	}
	return st
}

// noteEnd moves the end of the match to f if that is earlier: a peer that left or vanished
// played its real inputs up to f, so that is the last frame every side can vouch for. It
// runs before advancing, so the end frame's saved state is still at hand when confirmed.
func (r *Runner) noteEnd(f lockstep.Frame, why EndReason) {
	if r.cfg.Hold {
		return
	}
	if f >= 0 && (r.end == lockstep.NullFrame || f < r.end) {
		r.setEnd(f, why)
	}
}

// setEnd moves the end of the match; a result taken for an older end no longer holds.
func (r *Runner) setEnd(f lockstep.Frame, why EndReason) {
	if f != r.end {
		r.result.Confirmed = false
	}
	r.end, r.reason = f, why
	r.noteEndReached()
}

// record reports every newly confirmed frame (OnConfirmed), and takes the end frame's
// checksum and state once it is confirmed, while the session still remembers it. Only that
// frame is hashed: a full hash of a large state every frame would cost more than the frame.
func (r *Runner) record() {
	c := r.leg().ConfirmedFrame()
	if _, ok := r.leg().SavedState(c); !ok && c == r.leg().Frame() {
		// Frame 0 before the first advance (a new leg, or a rejoiner that only loaded its
		// state): saved with that advance, and reported then, its checksum at hand.
		c--
	}
	if r.cfg.OnConfirmed != nil {
		// The session remembers the inputs of the last 128 frames, more than the confirmed
		// frame can jump in one step (a late input of a third player can confirm a dozen).
		from := max(r.recorded+1, c-100)
		for f := from; f <= c; f++ {
			var in []byte
			if f > 0 {
				var ok bool
				if in, ok = r.leg().ConfirmedInputs(r.inputs[:0], f-1); ok {
					r.inputs = in
				} else {
					in = nil
				}
			}
			r.cfg.OnConfirmed(Confirmed{Frame: r.match.MatchFrame(f), Inputs: in, match: r.match})
		}
	}
	r.recorded = max(r.recorded, c)
	r.takeEnd()
}

// takeEnd fills in the result's checksum and state of the end frame once it is confirmed.
func (r *Runner) takeEnd() {
	if r.result.Confirmed || r.end == lockstep.NullFrame || r.leg().ConfirmedFrame() < r.end {
		return
	}
	sum, ok := r.leg().Checksum(r.end)
	if !ok {
		return
	}
	r.result.Checksum, r.result.Confirmed = sum, true
	if st, ok := r.leg().SavedState(r.end); ok {
		r.result.State = append(r.result.State[:0], st...)
	}
}

func (r *Runner) send(ds []lockstep.Datagram) {
	for _, d := range ds {
		// A send error (no route, a closed emulated peer) is a lost datagram: the
		// protocol recovers from loss, and the disconnect timeout from a dead path.
		_ = r.cfg.Conn.WriteTo(d.Data, d.To)
	}
}

func (r *Runner) events(now time.Duration) {
	for _, e := range r.leg().Events() {
		base := r.match.Base() // a pause that starts here moves it
		r.noAnswer.hear(e)
		switch e.Kind {
		// With three or four players the survivors of a departure play on (the engine
		// agreed on the frame the leaver's input froze at); the match ends at a departure
		// only when nobody else is left.
		case lockstep.EventPeerLeft:
			if r.leg().ConnectedPeers() == 0 {
				r.noteEnd(e.Frame, EndPeerLeft)
			}
		case lockstep.EventDisconnected:
			if r.mayWait() {
				r.beginWait(e.Player, e.Frame, now)
				break
			}
			// Nobody waits for it: its stand-in input is final, and the frames played on
			// it confirm (lockstep holds them back while a rejoin may replace them).
			r.match.GiveUpRejoins()
			if r.leg().ConnectedPeers() == 0 {
				r.noteEnd(e.Frame, EndPeerDisconnected)
			}
		case lockstep.EventHandover:
			r.joining, r.joinFrame = true, e.Frame
			r.rejoinEvent(RejoinEvent{Kind: RejoinJoining, Player: e.Player, Frame: e.Frame, Bytes: e.Total})
		case lockstep.EventRejoinRefused:
			r.rejoinEvent(RejoinEvent{Kind: RejoinRefused, Player: e.Player, Addr: e.Addr, Err: e.Err})
		case lockstep.EventDesync:
			r.stopOnDesync(now)
		case lockstep.EventFailed:
			if n, ok := r.adoptable(e.Err); ok {
				// The refused session's other news, if any, no longer matter.
				r.adoptPlayerCount(n, e.Err, now)
				return
			}
			if r.phase != PhasePaused || !r.wait.settled {
				r.fail(EndFailed, e.Err)
			} // else a pause's leg failed: waitTick opens another
		}
		if r.cfg.OnEvent != nil {
			switch e.Kind {
			case lockstep.EventDisconnected, lockstep.EventPeerLeft, lockstep.EventDesync, lockstep.EventResync:
				e.Frame += base // the match's frame, not the leg's
			}
			r.cfg.OnEvent(e)
		}
	}
}

// mayWait reports whether a player who just dropped may be waited for: rejoin is on, and
// the match is being played (not ending, and no other pause is under way).
func (r *Runner) mayWait() bool {
	return r.cfg.Rejoin > 0 && r.phase == PhasePlaying && r.leg().Running()
}

// stopOnDesync stops the match at a desync the session will not mend (lockstep's
// EventDesync): nothing more is played, and checkEnd ends the match after DesyncLinger.
func (r *Runner) stopOnDesync(now time.Duration) {
	switch r.phase {
	case PhaseDesynced, PhaseDone:
		return
	case PhasePaused:
		// Found while the survivors folded in their last inputs: the state the pause would
		// resume from may be the wrong one, so nobody is waited for; the stand-in inputs
		// are final.
		r.wait = nil
		r.match.Abandon()
	}
	r.moveTo(PhaseDesynced)
	if r.phase == PhaseDesynced {
		r.desyncAt = now
	}
}

// checkEnd ends the match once its end frame is confirmed and every peer holds every input
// we played (or is gone, or the linger ran out).
func (r *Runner) checkEnd(now time.Duration) {
	if r.cfg.Hold {
		return
	}
	switch r.phase {
	case PhaseDone, PhasePaused:
		return
	case PhaseDesynced:
		if r.quitAsked || (r.cfg.DesyncLinger >= 0 && now-r.desyncAt >= r.cfg.DesyncLinger) {
			r.reason = EndDesync
			r.finish()
		}
		return
	}
	switch {
	case !r.leg().Running():
		if r.quitAsked {
			r.reason = EndQuit
			r.finish()
		}
		return
	case r.phase != PhaseEnding:
		return // the end frame, if decided, is not played yet (noteEndReached)
	case r.end == lockstep.NullFrame:
		// Quit before the handshake was done, which then completed: there is no frame to
		// end at, and nothing was played to wait for.
		r.reason = EndQuit
		r.finish()
		return
	}
	if !r.result.Confirmed {
		if r.leg().ConfirmedFrame() < r.end {
			if !(r.quitAsked && now-r.quitAt > r.cfg.Linger) {
				return
			}
		} else {
			r.takeEnd()
		}
	}
	if r.lingerAt < 0 {
		r.lingerAt = now
	}
	if r.leg().Unacknowledged() > 0 && now-r.lingerAt < r.cfg.Linger {
		return
	}
	r.finish()
}

func (r *Runner) fail(why EndReason, err error) {
	if r.result.Err == nil {
		r.result.Err = err
	}
	r.reason = why
	r.finish()
}

// finish says goodbye and fills in the result.
func (r *Runner) finish() {
	if r.phase == PhaseDone {
		return
	}
	now := r.cfg.Clock.Now()
	r.send(r.leg().Close(now))
	r.moveTo(PhaseDone)
	res := &r.result
	res.Reason = r.reason
	if res.Reason == EndNone {
		res.Reason = EndQuit
	}
	res.Frame = r.end
	if !res.Confirmed {
		res.Frame = max(r.leg().ConfirmedFrame(), 0)
		res.Checksum, _ = r.leg().Checksum(res.Frame)
	}
	res.Frame = r.match.MatchFrame(res.Frame)
	stats := r.leg().Stats(r.peerStats[:0])
	r.peerStats = stats.Peers
	res.Rollbacks = r.pastRollbacks + stats.Rollbacks
	for _, p := range stats.Peers {
		res.RTT = max(res.RTT, p.RTT)
	}
	if err := r.leg().Err(); err != nil && (res.Err == nil || errors.Is(err, lockstep.ErrDesync)) {
		res.Err = err // whatever happened after a desync, the desync is the news
	}
	if res.Reason == EndDesync && res.Err == nil {
		res.Err = lockstep.ErrDesync
	}
}
