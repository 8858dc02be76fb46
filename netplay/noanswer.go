package netplay

import (
	"fmt"
	"net/netip"
	"time"

	"p2pa/lockstep"
)

// When a runner reports a peer that does not answer: NoAnswerAfter after its first tick,
// then after twice as long each time (5 s, 15 s, 35 s, 75 s, …), at most NoAnswerMaxGap
// apart, so a front end's reminder neither floods nor goes quiet.
const (
	NoAnswerAfter  = 5 * time.Second
	NoAnswerMaxGap = 80 * time.Second
)

// NoAnswer says that a player the runner knows the address of (given in Config.Peers, or
// introduced by player 0) has sent nothing since the runner's first tick: a wrong address,
// a player who has not started, or one already playing another match. The runner keeps
// trying; Run never gives up by itself, so a front end shows this (and may Quit, or cancel
// Run's context). A player whose address is learned from the handshake (player 0 waiting
// for the others) is not reported: nobody knows where it would answer from.
type NoAnswer struct {
	Player int
	Addr   netip.AddrPort
	After  time.Duration // since the runner's first tick
}

// String is "no answer from ADDR after N s", the seconds rounded.
func (n NoAnswer) String() string {
	return fmt.Sprintf("no answer from %v after %v", n.Addr, n.After.Round(time.Second))
}

// noAnswer is the runner's schedule of NoAnswer reports.
type noAnswer struct {
	start time.Duration // the first tick; -1 before it
	next  time.Duration // the next report, from start
	gap   time.Duration // the wait after that report
	heard [lockstep.MaxPlayers]bool
}

func newNoAnswer() noAnswer { return noAnswer{start: -1, next: NoAnswerAfter, gap: 2 * NoAnswerAfter} }

// hear notes that a player answered the handshake.
func (n *noAnswer) hear(e lockstep.Event) {
	switch e.Kind {
	case lockstep.EventSynchronizing, lockstep.EventHandover:
		if e.Player >= 0 && e.Player < len(n.heard) {
			n.heard[e.Player] = true
		}
	}
}

// checkAnswers reports, when one is due, every player that has not answered yet. Only the first
// leg's handshake is watched: once a match has run, a silent player is the disconnect
// timeout's business (and a rejoin's).
func (r *Runner) checkAnswers(now time.Duration) {
	n := &r.noAnswer
	if n.start < 0 {
		n.start = now
	}
	if r.cfg.OnNoAnswer == nil || r.phase != PhaseHandshake || r.leg().Running() || now-n.start < n.next {
		return
	}
	after := now - n.start
	for n.next <= after { // from the schedule, not from this tick (no drift); a late tick skips what it missed
		n.next += n.gap
		n.gap = min(2*n.gap, NoAnswerMaxGap)
	}
	for p := range r.cfg.Peers {
		if p == r.cfg.Player || n.heard[p] {
			continue
		}
		if addr := r.leg().PeerAddr(p); addr.IsValid() {
			r.cfg.OnNoAnswer(NoAnswer{Player: p, Addr: addr, After: after})
		}
	}
}
