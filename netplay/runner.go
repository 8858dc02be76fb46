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
	// desyncLinger is how long a runner goes on after a desync, so the session can repeat
	// its checksum to the peers (it rides on a few messages) before the runner leaves.
	desyncLinger = 500 * time.Millisecond
	// historySize is how many confirmed checksums are remembered, so the end frame's is at
	// hand even when the end is learned late (from a peer's goodbye).
	historySize = 512
)

// InputFunc returns the local player's input for frame f, appended to dst (of capacity
// Config.Session.InputSize). It is called once per frame: the runner keeps the input until
// the session takes it, so a scripted or bot source sees every frame exactly once.
type InputFunc func(f lockstep.Frame, dst []byte) []byte

// Config describes one player's side of a match.
type Config struct {
	// Session is the engine's configuration; InputSize is required.
	Session lockstep.Config
	// Player is the local player; Peers holds every player's address by player number (the
	// local entry is ignored; a zero address is learned from the handshake).
	Player int
	Peers  []netip.AddrPort
	Conn   transport.Conn
	Clock  transport.Clock
	// Game is the simulation. If nil, NewGame makes it once the handshake is done, from the
	// agreed seed.
	Game    lockstep.Game
	NewGame func(seed uint64) (lockstep.Game, error)
	// Input gives the local input; nil plays zero input.
	Input InputFunc
	// FinishAt, if positive, ends the match at that frame (see the package doc).
	FinishAt lockstep.Frame
	// Linger bounds the wait for acknowledgements at the end; default DefaultLinger.
	Linger time.Duration
	// OnEvent, if set, receives every session event as it is surfaced.
	OnEvent func(lockstep.Event)
	// OnConfirmed, if set, is called once for every confirmed frame f, in order, with the
	// checksum of its state and the inputs of frame f-1 that produced it (nil for frame 0;
	// player i at [i*size:(i+1)*size]). Recordings are made of these. The slice is valid
	// only during the call.
	OnConfirmed func(f lockstep.Frame, checksum uint64, inputs []byte)
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
	Stalls   int // ticks the session could not advance for want of remote input
	Waits    int // ticks skipped for time sync
	MaxDepth int // deepest rollback
}

// Runner runs one player's side of a match. It is not safe for concurrent use: one
// goroutine drives it (Run, or Poll and Tick).
type Runner struct {
	cfg   Config
	sess  *lockstep.Session
	game  lockstep.Game
	buf   []byte // one received datagram
	input []byte // the pending local input
	// pending: input holds the input of frame pendingFor, not yet taken by the session.
	pending    bool
	pendingFor lockstep.Frame
	inputs     []byte // confirmed inputs for OnConfirmed
	peerStats  []lockstep.PeerStats
	counters   Counters

	end      lockstep.Frame // where the match ends; NullFrame: not decided yet
	reason   EndReason      // why end was set (or why the match stopped)
	quitting bool
	quitAt   time.Duration
	lingerAt time.Duration // when the wait for acknowledgements began; -1: not yet
	desyncAt time.Duration
	desynced bool
	done     bool
	result   Result

	history [historySize]struct {
		frame lockstep.Frame
		sum   uint64
	}
	recorded lockstep.Frame
}

// New makes a runner; nothing is sent until the first Poll or Tick.
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
	sc := cfg.Session.WithDefaults()
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
		sess:     sess,
		game:     cfg.Game,
		buf:      make([]byte, transport.MaxDatagram),
		input:    make([]byte, sc.InputSize),
		inputs:   make([]byte, 0, sc.Players*sc.InputSize),
		end:      lockstep.NullFrame,
		recorded: lockstep.NullFrame,
		lingerAt: -1,
	}
	for i := range r.history {
		r.history[i].frame = lockstep.NullFrame
	}
	if cfg.FinishAt > 0 {
		r.end, r.reason = cfg.FinishAt, EndFinished
	}
	return r, nil
}

// Session is the runner's session, for statistics and display. Do not step it.
func (r *Runner) Session() *lockstep.Session { return r.sess }

// Game is the game the runner applies requests to; nil before the handshake if it is made
// by Config.NewGame.
func (r *Runner) Game() lockstep.Game { return r.game }

// Counters reports what the runner did so far.
func (r *Runner) Counters() Counters { return r.counters }

// Done reports whether the match is over; Result then says how.
func (r *Runner) Done() bool { return r.done }

// Result is how the match ended; valid once Done.
func (r *Runner) Result() Result { return r.result }

// Quit asks to end the match at the last frame played. Keep driving the runner until Done:
// it waits (at most Config.Linger) until the peers hold every input we played.
func (r *Runner) Quit() {
	if r.quitting || r.done {
		return
	}
	r.quitting = true
	r.quitAt = r.cfg.Clock.Now()
	if !r.sess.Running() {
		return
	}
	last := r.sess.LastLocalFrame() + 1
	if r.end == lockstep.NullFrame || last < r.end {
		r.end, r.reason = max(last, 0), EndQuit
	}
}

// Run drives the runner on a real clock until the match ends or ctx is cancelled; a
// cancelled ctx quits the match properly (see Quit), so Run returns at most Config.Linger
// later. It returns the result's error, if any.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	var readable <-chan struct{}
	if rc, ok := r.cfg.Conn.(Readable); ok {
		readable = rc.Readable()
	}
	ticker := time.NewTicker(r.cfg.Session.FrameDuration)
	defer ticker.Stop()
	cancelled := ctx.Done()
	r.Tick()
	for !r.done {
		select {
		case <-ticker.C:
			r.Tick()
		case <-readable:
			r.Poll()
		case <-cancelled:
			cancelled = nil
			r.Quit()
			if !r.sess.Running() {
				r.reason = EndCancelled
				r.finish()
			}
		}
	}
	return r.result, r.result.Err
}

// Poll hands every datagram that has arrived to the session, stamped with the clock's
// time. While the handshake is under way the session's replies are sent at once. Once the
// match is over, what arrives is read and discarded.
func (r *Runner) Poll() {
	now := r.cfg.Clock.Now()
	handshaking := !r.sess.Running()
	got := false
	for {
		n, from, ok := r.cfg.Conn.ReadFrom(r.buf)
		if !ok {
			break
		}
		if n > len(r.buf) || r.done {
			continue // oversized (the session would drop it anyway), or too late
		}
		r.sess.Receive(from, r.buf[:n], now)
		got = true
	}
	if got && handshaking && !r.done {
		r.send(r.sess.Outgoing(now))
		r.events(now)
	}
}

// Tick runs one frame: receive, advance (unless the session must wait or the match is
// ending), send, report events, and end the match once its end is settled.
func (r *Runner) Tick() {
	if r.done {
		return
	}
	r.counters.Ticks++
	r.Poll()
	now := r.cfg.Clock.Now()
	if r.sess.Running() && !r.desynced {
		if r.game == nil {
			seed, _ := r.sess.Seed() // valid: the session is running
			g, err := r.cfg.NewGame(seed)
			if err != nil {
				r.fail(EndFailed, fmt.Errorf("netplay: new game: %w", err))
				return
			}
			r.game = g
		}
		r.frame(now)
		r.record()
	}
	r.send(r.sess.Outgoing(now))
	r.events(now)
	r.checkEnd(now)
}

// frame decides what this tick offers the session: the pending input, no input (the end
// is near: only fold in late remote inputs), or nothing at all.
func (r *Runner) frame(now time.Duration) {
	if r.sess.ConnectedPeers() == 0 { // survivors of a 3-4 player match play on
		r.noteEnd(r.sess.EndFrame(), EndPeerLeft)
	}
	var in []byte
	switch {
	case r.end != lockstep.NullFrame && r.sess.Frame() >= r.end:
		// The last frame is played: in stays nil.
	case r.end != lockstep.NullFrame && r.sess.LastLocalFrame() >= r.end-1:
		// Every frame up to the end has its local input (input delay): advance on those.
		// The session drops an input for a frame that already has one, so nothing is
		// played past the end.
		in = r.input[:r.cfg.Session.InputSize]
	default:
		next := r.sess.LastLocalFrame() + 1
		if !r.pending || r.pendingFor != next {
			r.input = r.input[:0]
			if r.cfg.Input != nil {
				r.input = r.cfg.Input(next, r.input)
			}
			for len(r.input) < r.cfg.Session.InputSize {
				r.input = append(r.input, 0)
			}
			r.pending, r.pendingFor = true, next
		}
		in = r.input
	}
	st := r.step(now, in)
	switch st {
	case stepAdvanced:
		r.counters.Advanced++
		r.pending = false
		stats := r.sess.Stats(r.peerStats[:0])
		r.peerStats = stats.Peers
		r.counters.MaxDepth = max(r.counters.MaxDepth, stats.LastRollback)
	case stepWaiting:
		r.counters.Stalls++
	case stepTimeSync:
		r.counters.Waits++
	}
}

// noteEnd moves the end of the match to f if that is earlier: a peer that left or vanished
// played its real inputs up to f, so that is the last frame every side can vouch for. It
// runs before advancing, so the end frame's saved state is still at hand when confirmed.
func (r *Runner) noteEnd(f lockstep.Frame, why EndReason) {
	if f >= 0 && (r.end == lockstep.NullFrame || f < r.end) {
		r.end, r.reason = f, why
	}
}

// record remembers the checksum of every newly confirmed frame and reports it.
func (r *Runner) record() {
	c := r.sess.ConfirmedFrame()
	from := max(r.recorded+1, c-lockstep.Frame(r.cfg.Session.MaxPrediction))
	for f := from; f <= c; f++ {
		sum, ok := r.sess.Checksum(f)
		if !ok {
			continue
		}
		h := &r.history[int(f)%historySize]
		h.frame, h.sum = f, sum
		if r.cfg.OnConfirmed != nil {
			var in []byte
			if f > 0 {
				var ok bool
				if in, ok = r.sess.ConfirmedInputs(r.inputs[:0], f-1); ok {
					r.inputs = in
				} else {
					in = nil
				}
			}
			r.cfg.OnConfirmed(f, sum, in)
		}
	}
	r.recorded = max(r.recorded, c)
}

func (r *Runner) checksumOf(f lockstep.Frame) (uint64, bool) {
	h := r.history[int(f)%historySize]
	return h.sum, h.frame == f
}

func (r *Runner) send(ds []lockstep.Datagram) {
	for _, d := range ds {
		// A send error (no route, a closed emulated peer) is a lost datagram: the
		// protocol recovers from loss, and the disconnect timeout from a dead path.
		_ = r.cfg.Conn.WriteTo(d.Data, d.To)
	}
}

func (r *Runner) events(now time.Duration) {
	for _, e := range r.sess.Events() {
		switch e.Kind {
		// With three or four players the survivors of a departure play on (the engine
		// agreed on the frame the leaver's input froze at); the match ends at a departure
		// only when nobody else is left.
		case lockstep.EventPeerLeft:
			if r.sess.ConnectedPeers() == 0 {
				r.noteEnd(e.Frame, EndPeerLeft)
			}
		case lockstep.EventDisconnected:
			if r.sess.ConnectedPeers() == 0 {
				r.noteEnd(e.Frame, EndPeerDisconnected)
			}
		case lockstep.EventDesync:
			if !r.desynced {
				r.desynced, r.desyncAt = true, now
			}
		case lockstep.EventFailed:
			r.fail(EndFailed, e.Err)
		}
		if r.cfg.OnEvent != nil {
			r.cfg.OnEvent(e)
		}
	}
}

// checkEnd ends the match once its end frame is confirmed and every peer holds every input
// we played (or is gone, or the linger ran out).
func (r *Runner) checkEnd(now time.Duration) {
	switch {
	case r.done:
		return
	case r.desynced:
		if r.quitting || now-r.desyncAt >= desyncLinger {
			r.reason = EndDesync
			r.finish()
		}
		return
	case !r.sess.Running():
		if r.quitting {
			r.reason = EndQuit
			r.finish()
		}
		return
	case r.end == lockstep.NullFrame:
		return
	}
	if !r.result.Confirmed {
		if r.sess.ConfirmedFrame() < r.end {
			if !(r.quitting && now-r.quitAt > r.cfg.Linger) {
				return
			}
		} else if sum, ok := r.checksumOf(r.end); ok {
			r.result.Checksum, r.result.Confirmed = sum, true
		} else if sum, ok := r.sess.Checksum(r.end); ok {
			r.result.Checksum, r.result.Confirmed = sum, true
		}
		if r.result.Confirmed {
			if st, ok := r.sess.SavedState(r.end); ok {
				r.result.State = append(r.result.State[:0], st...)
			}
		}
	}
	if r.lingerAt < 0 {
		r.lingerAt = now
	}
	if r.sess.Unacknowledged() > 0 && now-r.lingerAt < r.cfg.Linger {
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
	if r.done {
		return
	}
	now := r.cfg.Clock.Now()
	r.send(r.sess.Close(now))
	r.done = true
	res := &r.result
	res.Reason = r.reason
	if res.Reason == EndNone {
		res.Reason = EndQuit
	}
	res.Frame = r.end
	if !res.Confirmed {
		res.Frame = max(r.sess.ConfirmedFrame(), 0)
		res.Checksum, _ = r.checksumOf(res.Frame)
	}
	stats := r.sess.Stats(r.peerStats[:0])
	r.peerStats = stats.Peers
	res.Rollbacks = stats.Rollbacks
	for _, p := range stats.Peers {
		res.RTT = max(res.RTT, p.RTT)
	}
	if err := r.sess.Err(); err != nil && (res.Err == nil || errors.Is(err, lockstep.ErrDesync)) {
		res.Err = err // whatever happened after a desync, the desync is the news
	}
	if res.Reason == EndDesync && res.Err == nil {
		res.Err = lockstep.ErrDesync
	}
}
