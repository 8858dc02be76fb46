package simtest

import (
	"net/netip"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// Peer is one process of a player in a simulation.
type Peer struct {
	Player int
	// Life counts the player's processes: 0 for the first, n for the one its n-th restart
	// started.
	Life   int
	Addr   netip.AddrPort
	Conn   transport.Conn // what the runner reads and writes (after WrapConn)
	Runner *netplay.Runner
	Events []lockstep.Event
	// Rejoins is what the runner reported of rejoins (netplay.Config.OnRejoin).
	Rejoins []RejoinAt
	Gone    bool // vanished, or killed by a restart
	// Paused, while set, leaves the process undriven with its socket open, as SIGSTOP
	// does: what reaches it waits there until it is cleared (SIGCONT).
	Paused bool
	// Reported counts the confirmed frames the runner reported (OnConfirmed); Repeated,
	// the reports of a frame reported before (a rejoin plays frames again); Rewritten,
	// those of them whose checksum differed from the earlier one (the later one is kept);
	// and RewrittenEarly, those of them at or before the frame the runner's current leg
	// started from, which no later leg has a reason to change.
	Reported, Repeated, Rewritten, RewrittenEarly int
	// Resynced counts the resyncs this process received (lockstep.EventResync naming its
	// player); Compare skips the frames each one replaced.
	Resynced int

	sums []uint64 // checksum of every confirmed frame, by the match's frame
	have []bool
	// interval is the sessions' checksum interval: a resync's frame less this is the
	// earliest frame its receiver's game may have diverged at (forgetResynced)
	interval int
	err      error // see Fail
}

// RejoinAt is a rejoin event and the virtual time it was reported at.
type RejoinAt struct {
	netplay.RejoinEvent
	At time.Duration
}

// confirmed keeps the checksum of every confirmed frame (the runner's OnConfirmed). f is
// the match's frame; the current leg's session numbers its frames from the runner's base.
func (p *Peer) confirmed(c netplay.Confirmed) {
	f := c.Frame
	if f < 0 {
		return
	}
	p.Reported++
	// The harness compares every confirmed frame, so it pays for hashing each.
	sum, ok := c.Checksum()
	if !ok {
		return
	}
	if n := int(f) + 1 - len(p.sums); n > 0 {
		p.sums, p.have = append(p.sums, make([]uint64, n)...), append(p.have, make([]bool, n)...)
	}
	if p.have[f] {
		p.Repeated++
		if p.sums[f] != sum {
			p.Rewritten++
			if f <= p.Runner.BaseFrame() {
				p.RewrittenEarly++
			}
		}
	}
	p.sums[f], p.have[f] = sum, true
}

// event records a runner's event. A resync this process received makes the checksums it
// recorded of the frames it played on its wrong state worthless (forgetResynced).
func (p *Peer) event(e lockstep.Event) {
	p.Events = append(p.Events, e)
	if e.Kind == lockstep.EventResync && e.Player == p.Player {
		p.forgetResynced(e.Frame)
	}
}

// forgetResynced forgets the checksums recorded of the frames this process played on a
// wrong state that a resync at frame f replaced: those after the checksum frame before f
// (the game diverged after it, or the exchange of that frame would have caught it), up to
// the frame confirmed when the right state was loaded. Those it confirms later are of the
// replayed states.
func (p *Peer) forgetResynced(f lockstep.Frame) {
	from := max(int(f)-p.interval+1, 0)
	for i := from; i < len(p.have) && i <= int(p.Runner.ConfirmedFrame()); i++ {
		p.have[i] = false
	}
	p.Resynced++
}

// Checksum is the recorded checksum of confirmed frame f, in the match's frames (for a
// process that rejoined, from JoinedAt on).
func (p *Peer) Checksum(f lockstep.Frame) (uint64, bool) {
	if f < 0 || int(f) >= len(p.sums) {
		return 0, false
	}
	return p.sums[f], p.have[f]
}

// last is the last frame p recorded a checksum of; -1 if none.
func (p *Peer) last() int { return len(p.sums) - 1 }

// JoinedAt is the match's frame this process rejoined the match at, the frame of the
// state it was handed; false if it did not rejoin a match in progress.
func (p *Peer) JoinedAt() (lockstep.Frame, bool) {
	for _, e := range p.Rejoins {
		if e.Kind == netplay.RejoinResumed && e.Player == p.Player {
			return e.Frame, true
		}
	}
	return 0, false
}

// Count is how many events of kind k the peer saw.
func (p *Peer) Count(k lockstep.EventKind) int {
	return count(p.Events, func(e lockstep.Event) bool { return e.Kind == k })
}

// CountRejoins is how many rejoin events of kind k the peer saw.
func (p *Peer) CountRejoins(k netplay.RejoinEventKind) int {
	return count(p.Rejoins, func(e RejoinAt) bool { return e.Kind == k })
}

func count[E any](es []E, match func(E) bool) int {
	n := 0
	for _, e := range es {
		if match(e) {
			n++
		}
	}
	return n
}

// Fail records a failure the runner cannot see, such as an adapter's input that does not
// encode (an InputFunc has no error to return): Step returns it from then on, and the
// report names it. The first failure is kept.
func (p *Peer) Fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// failure is p's failure: Fail's, or its runner's if the runner failed.
func (p *Peer) failure() error {
	if p.err != nil {
		return p.err
	}
	if p.Runner.Done() {
		if res := p.Runner.Result(); res.Reason == netplay.EndFailed {
			return res.Err
		}
	}
	return nil
}
