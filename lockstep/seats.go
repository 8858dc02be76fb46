// The seat policy: who may take, keep or reopen a seat.

package lockstep

import "time"

// seatPolicy holds the rules of the seats, apart from the session's plumbing so that a table
// tests them: during a handshake, whether a newcomer may take a seat from its holder
// (mayReseat); in a running session that lets players rejoin, whether a handshake for a
// seat means its player's process started again (restarted). Both come down to one idea: a
// holder that has played, or that has been heard from within InterruptTimeout, keeps its
// seat; a silent one that cannot be the live player gives it up.
type seatPolicy struct {
	state     State
	resuming  bool // this leg resumes a match (Match.NextLeg): keepSeats keeps liveness fresh
	rejoin    bool // Config.Rejoin
	now       time.Duration
	interrupt time.Duration // Config.InterruptTimeout
}

// seatHolder is what the policy looks at of a seat's current holder.
type seatHolder struct {
	state    endpointState
	loaded   bool          // it played on the state of this leg (an input while we synchronized)
	learned  bool          // its address was learned from a handshake, not given
	lastRecv time.Duration // when it was last heard from
}

// seats is the session's seat policy now.
func (s *Session) seats() seatPolicy {
	return seatPolicy{state: s.state, resuming: s.cfg.resume != nil, rejoin: s.cfg.Rejoin, now: s.now,
		interrupt: s.cfg.InterruptTimeout}
}

// holder is what the seat policy looks at of ep.
func (ep *endpoint) holder() seatHolder {
	return seatHolder{state: ep.state, loaded: ep.loaded, learned: ep.learned, lastRecv: ep.lastRecv}
}

// silent reports whether h has not been heard from for InterruptTimeout.
func (p seatPolicy) silent(h seatHolder) bool { return p.now-h.lastRecv >= p.interrupt }

// mayReseat reports whether a seat may go to a newcomer during the handshake: whoever holds
// it has not played and is silent, and either this leg resumes a match (its handshake keeps
// every seat's liveness fresh: keepSeats) or the seat was learned and its holder never
// finished a round trip. A process that died and started again gets its seat back; a live
// player keeps it ("match full").
func (p seatPolicy) mayReseat(h seatHolder) bool {
	return p.state == StateSynchronizing && !h.loaded && p.silent(h) &&
		(p.resuming || (h.learned && h.state == epSyncing))
}

// restarted reports whether a valid handshake request for a running seat (request: it is
// a request, not a reply) means its player's process started again and lost the match: a
// running session that lets players rejoin, and a holder silent for InterruptTimeout. The
// seat is then dropped, so the next leg can wait for it.
func (p seatPolicy) restarted(h seatHolder, request bool) bool {
	return p.rejoin && p.state == StateRunning && h.state == epRunning && request && p.silent(h)
}
