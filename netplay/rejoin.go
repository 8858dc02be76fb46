package netplay

import (
	"fmt"
	"net/netip"
	"time"

	"p2pa/lockstep"
)

// DefaultRejoin is how long p2pa waits for a dropped player to rejoin.
const DefaultRejoin = 30 * time.Second

// settleWait bounds how long the survivors of a 3-4 player match wait for the frame the
// next leg starts from to be confirmed (every survivor's inputs up to the departure);
// after it a survivor starts from what it has confirmed, and the one that confirmed more
// hands the others its state.
const settleWait = time.Second

// RejoinEventKind says what happened to a rejoin.
type RejoinEventKind uint8

const (
	// RejoinWaiting: Player dropped; the match is paused at Frame until it rejoins or
	// Window runs out.
	RejoinWaiting RejoinEventKind = iota + 1
	// RejoinResumed: the match resumed at Frame with every player; Player is the one who
	// rejoined (on the survivors), or this runner's own player (on the one who rejoined).
	RejoinResumed
	// RejoinExpired: Player did not rejoin within Window; the match ends as without
	// rejoin (a 2-player match ends at Frame; the survivors of a 3-4 player one play on).
	RejoinExpired
	// RejoinJoining: this runner found the match in progress at Frame and is being handed
	// its state (Runner.Rejoin tells the progress).
	RejoinJoining
	// RejoinRefused: the paused match refused a rejoin attempt for seat Player from Addr
	// (Err says why); it waits on.
	RejoinRefused
)

var rejoinEventNames = [...]string{
	RejoinWaiting: "waiting", RejoinResumed: "resumed", RejoinExpired: "expired",
	RejoinJoining: "joining", RejoinRefused: "refused",
}

func (k RejoinEventKind) String() string {
	if int(k) < len(rejoinEventNames) && rejoinEventNames[k] != "" {
		return rejoinEventNames[k]
	}
	return fmt.Sprintf("RejoinEventKind(%d)", uint8(k))
}

// RejoinEvent is something that happened to a rejoin, for a front end to show.
type RejoinEvent struct {
	Kind   RejoinEventKind
	Player int
	Frame  lockstep.Frame // the match frame the next leg starts from
	Window time.Duration  // RejoinWaiting, RejoinExpired: Config.Rejoin
	Bytes  int            // RejoinJoining: the state's size
	Addr   netip.AddrPort // RejoinRefused
	Err    error          // RejoinRefused
}

// RejoinPhase is where a runner stands with rejoins.
type RejoinPhase uint8

const (
	// RejoinNone: every player is in (or rejoin is off).
	RejoinNone RejoinPhase = iota
	// RejoinPaused: a player dropped; the match waits for it (RejoinStatus.Left).
	RejoinPaused
	// RejoinReceiving: this runner joins a match in progress and is being handed its state.
	RejoinReceiving
)

var rejoinPhaseNames = [...]string{RejoinNone: "none", RejoinPaused: "paused", RejoinReceiving: "receiving"}

func (p RejoinPhase) String() string {
	if int(p) < len(rejoinPhaseNames) {
		return rejoinPhaseNames[p]
	}
	return fmt.Sprintf("RejoinPhase(%d)", uint8(p))
}

// RejoinStatus is a snapshot of the rejoin, for a screen.
type RejoinStatus struct {
	Phase       RejoinPhase
	Player      int            // RejoinPaused: who dropped
	Frame       lockstep.Frame // the match frame the next leg starts from
	Left        time.Duration  // RejoinPaused: time left in the window
	Held, Total int            // RejoinReceiving: the handover's progress, bytes
}

// rejoinWait is a survivor's pause: the leg that lost a player is kept alive (its other
// peers, keep-alives and time sync; the Match holds it) until the next leg runs or the
// window ends.
type rejoinWait struct {
	player      int            // the player who dropped
	end         lockstep.Frame // its departure frame in the old leg
	endMatch    lockstep.Frame // and in the match's frames
	droppedAt   time.Duration
	deadline    time.Duration
	settled     bool   // the next leg is open (the old leg confirmed what it could)
	oldState    []byte // the game at the old leg's current frame, to go back to
	oldRecorded lockstep.Frame
	from        lockstep.Frame   // the match's frame the next leg starts from
	legConfig   lockstep.Config  // the next leg's session configuration (Match.NextLeg)
	peers       []netip.AddrPort // and whom it expects where
}

// Rejoin reports where the runner stands with rejoins.
func (r *Runner) Rejoin() RejoinStatus {
	now := r.cfg.Clock.Now()
	switch {
	case r.phase == PhasePaused:
		from := r.match.Base() // not settled yet
		if r.wait.settled {
			from = r.wait.from
		}
		return RejoinStatus{Phase: RejoinPaused, Player: r.wait.player, Frame: from,
			Left: max(r.wait.deadline-now, 0)}
	case !r.leg().Running() && r.joining:
		held, total := r.match.Handover()
		return RejoinStatus{Phase: RejoinReceiving, Player: r.cfg.Player, Frame: r.joinFrame, Held: held, Total: total}
	}
	return RejoinStatus{}
}

// Frame is the match's frame (the current leg's frame plus the frames before it), for
// display.
func (r *Runner) Frame() lockstep.Frame { return r.match.Frame() }

// ConfirmedFrame is the match's last confirmed frame.
func (r *Runner) ConfirmedFrame() lockstep.Frame { return r.match.ConfirmedFrame() }

// BaseFrame is the match's frame at the current leg's frame 0 (0 until a rejoin).
func (r *Runner) BaseFrame() lockstep.Frame { return r.match.Base() }

func (r *Runner) rejoinEvent(e RejoinEvent) {
	if r.cfg.OnRejoin != nil {
		r.cfg.OnRejoin(e)
	}
}

// beginWait pauses the match for player p, dropped at frame end of this leg.
func (r *Runner) beginWait(p int, end lockstep.Frame, now time.Duration) {
	end = r.match.Pause(p, end)
	r.wait = &rejoinWait{player: p, end: end, endMatch: r.match.MatchFrame(end), droppedAt: now,
		deadline: now + r.cfg.Rejoin, oldRecorded: r.recorded}
	r.moveTo(PhasePaused)
	r.rejoinEvent(RejoinEvent{Kind: RejoinWaiting, Player: p, Frame: r.wait.endMatch, Window: r.cfg.Rejoin})
	r.settle(now)
}

// settle opens the next leg once the old one has confirmed the frames up to the departure
// (at once with two players; with more, once every survivor's inputs are in, or after
// settleWait).
func (r *Runner) settle(now time.Duration) {
	w := r.wait
	old := r.leg()
	// With three or four players every departure counts (two may drop at once): from
	// EndFrame on some player's input is a stand-in, not its own.
	from := min(w.end, old.ConfirmedFrame(), old.Frame())
	if e := old.EndFrame(); e != lockstep.NullFrame && len(r.cfg.Peers) > 2 {
		from = min(from, e)
	}
	if from < w.end && now-w.droppedAt < settleWait {
		r.step(now, nil) // fold in late inputs of the other survivors
		r.record()
		return
	}
	var state []byte
	if from == old.Frame() {
		state = r.game.SaveState(nil)
	} else if st, ok := old.SavedState(from); ok {
		state = append([]byte(nil), st...)
	}
	if from < 0 || len(state) == 0 {
		r.wait = nil // nothing to resume from: end as without rejoin
		r.match.Abandon()
		r.playOn()
		r.noteEnd(w.end, EndPeerDisconnected)
		return
	}
	w.oldState = state // the game is at the old leg's frame: where to go back to
	if from != old.Frame() {
		w.oldState = r.game.SaveState(nil)
	}
	w.legConfig, w.peers = r.match.NextLeg(r.cfg.Session, from, state, r.cfg.Peers)
	w.from = r.match.MatchFrame(from)
	leg, err := r.openLeg(w)
	if err != nil {
		r.wait = nil
		r.fail(EndFailed, err)
		return
	}
	if err := r.game.LoadState(state); err != nil {
		r.wait = nil
		r.fail(EndFailed, fmt.Errorf("netplay: roll back to frame %d: %w", w.from, err))
		return
	}
	w.settled = true
	r.match.Open(leg, from, now, settleWait)
	r.startLeg()
	r.recorded = 0 // the leg's frame 0 is the old leg's frame from, reported already
}

// openLeg makes the session of the next leg, from the pause's state and peers.
func (r *Runner) openLeg(w *rejoinWait) (*lockstep.Session, error) {
	sc := w.legConfig // with the match's seed: a joiner's own Seed was never agreed on
	r.legs++
	sc.Nonce ^= uint64(r.legs) * 0x9e3779b97f4a7c15 // each leg its own session nonce
	leg, err := lockstep.NewSession(sc, r.cfg.Player, w.peers)
	if err != nil {
		return nil, fmt.Errorf("netplay: next leg: %w", err)
	}
	return leg, nil
}

// startLeg resets the runner's per-leg state for a leg that starts at the match's base.
func (r *Runner) startLeg() {
	r.pending = false
	r.end = lockstep.NullFrame
	if r.cfg.FinishAt > 0 {
		r.end, r.reason = max(r.cfg.FinishAt-r.match.Base(), 0), EndFinished
	}
	r.result = Result{}
	r.lingerAt = -1
}

// waitTick runs a survivor's pause each tick: the old leg stays alive, the next leg's
// handshake runs, and the pause ends when the next leg runs (the player is back) or the
// window is over.
func (r *Runner) waitTick(now time.Duration) {
	w := r.wait
	if !w.settled {
		r.settle(now)
		return
	}
	old := r.match.Previous()
	r.send(old.Outgoing(now))
	// The old leg's news no longer matter: it is kept alive for the survivors' sessions and
	// time sync, and to go back to if nobody comes back. (A survivor that vanishes during
	// the pause needs nothing from it: no frame was played since the state was taken, and
	// its seat in the new leg reopens for its restarted process; see lockstep's mayReseat.)
	old.Events()
	switch {
	case r.leg().Running():
		r.wait = nil
		// The result counts the whole match's rollbacks; each leg counts its own.
		stats := old.Stats(r.peerStats[:0])
		r.peerStats, r.pastRollbacks = stats.Peers, r.pastRollbacks+stats.Rollbacks
		// (Resumed hands the old leg's spectators to the new one: they watch on.)
		if r.match.Resumed() {
			// Both sides had dropped each other, and the other had confirmed more: we
			// were handed its state, and the match goes on from its frame.
			r.startLeg()
		}
		r.playOn()
		r.rejoinEvent(RejoinEvent{Kind: RejoinResumed, Player: w.player, Frame: r.match.Base()})
	case now >= w.deadline:
		r.abandonLeg() // first: the event's receiver sees the match as it goes on
		r.rejoinEvent(RejoinEvent{Kind: RejoinExpired, Player: w.player, Frame: w.endMatch, Window: r.cfg.Rejoin})
	case r.leg().State() == lockstep.StateFailed:
		// An attempt went wrong in a way that ended the leg's handshake (a handover that
		// stalled, a rejoiner that gave up): wait on in a fresh one until the window ends.
		leg, err := r.openLeg(w)
		if err != nil {
			r.abandonLeg()
			r.fail(EndFailed, err)
			return
		}
		r.match.Retry(leg)
	}
}

// abandonLeg ends a pause without the player: the runner goes back to the old leg where it
// was, and the match ends as it would have without rejoin.
func (r *Runner) abandonLeg() {
	if r.phase != PhasePaused {
		return
	}
	w := r.wait
	r.wait = nil
	// Nobody rejoins: the stand-in inputs of whoever dropped are final from here (lockstep
	// held back the frames played on them).
	if !r.match.Abandon() {
		r.playOn()
		r.noteEnd(w.end, EndPeerDisconnected)
		return
	}
	if err := r.game.LoadState(w.oldState); err != nil {
		r.fail(EndFailed, fmt.Errorf("netplay: back to the match: %w", err))
		return
	}
	r.startLeg()
	r.playOn()
	r.recorded = w.oldRecorded
	if r.leg().ConnectedPeers() == 0 {
		r.noteEnd(w.end, EndPeerDisconnected)
	}
}

// noteJoin notices, as the first leg starts playing, that it joined a match in progress:
// the match's frames before it are the base.
func (r *Runner) noteJoin() {
	if r.match.Joined() {
		r.startLeg()
		r.rejoinEvent(RejoinEvent{Kind: RejoinResumed, Player: r.cfg.Player, Frame: r.match.Base()})
	}
}
