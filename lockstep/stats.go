package lockstep

import "time"

// peerState maps the endpoint's internal state onto the exported one: a link synchronizes,
// runs, and is gone once the player said goodbye or was dropped after a silence.
func peerState(s endpointState) State {
	switch s {
	case epRunning:
		return StateRunning
	case epGone:
		return StateGone
	}
	return StateSynchronizing
}

// PeerStats describes the link to one remote player.
type PeerStats struct {
	Player int
	State  State // StateSynchronizing, StateRunning, or StateGone
	// RTT is the smoothed round-trip time (0 until measured).
	RTT time.Duration
	// SendQueue is how many local inputs the peer has not acknowledged.
	SendQueue int
	// LocalAdvantage is how many frames we run ahead of the peer (negative: behind);
	// RemoteAdvantage is the same as the peer sees it.
	LocalAdvantage, RemoteAdvantage int
	// Traffic in each direction: totals and the rate over the last full second.
	BytesIn, BytesOut, PacketsIn, PacketsOut uint64
	BytesInPerSec, BytesOutPerSec            uint64
	PacketsInPerSec, PacketsOutPerSec        uint64
	Interrupted                              bool
	// SendEvery is how many frames apart we send to the peer: 1, or more while a thin link
	// makes us back off (its acknowledgements come back ever later).
	SendEvery int
	// Received is the last frame of the player's input we hold (NullFrame if none): how
	// far its inputs have arrived, which a HUD compares with Frame.
	Received Frame
}

// Stats is a snapshot of the session for a HUD or a log.
type Stats struct {
	State          State
	Frame          Frame
	ConfirmedFrame Frame
	// Rollbacks counts rollbacks; RollbackFrames the frames they re-simulated;
	// MaxRollbackDepth the deepest; LastRollback the depth in the latest Step (0: none).
	Rollbacks        int64
	RollbackFrames   int64
	MaxRollbackDepth int
	LastRollback     int
	WaitFrames       int
	Peers            []PeerStats
	// Dropped counts the datagrams the session ignored, by reason.
	Dropped struct {
		Malformed       uint64 // bad magic, unknown type, bad encoding behind a valid check
		Oversized       uint64 // longer than MaxDatagram
		Corrupt         uint64 // a handshake datagram whose CRC fails: changed or cut on the way
		Unauthenticated uint64 // an input or goodbye whose tag fails, or a handshake whose proof does
		Foreign         uint64 // from an address that is not a peer (or answered "match full")
		WrongTag        uint64 // a handshake from a peer's address but another session (a leftover process)
		WrongVersion    uint64 // another protocol version
		Stale           uint64 // nothing new: duplicates and replays of old datagrams
		Overflow        uint64 // replies dropped because too many were queued in one tick
	}
}

// DroppedTotal is how many datagrams the session ignored, whatever the reason: the sum of
// Dropped.
func (st Stats) DroppedTotal() uint64 {
	d := &st.Dropped
	return d.Malformed + d.Oversized + d.Corrupt + d.Unauthenticated + d.Foreign + d.WrongTag +
		d.WrongVersion + d.Stale + d.Overflow
}

// Stats returns a snapshot. peers is reused if it has room, so a HUD can poll every frame
// without allocating: s.Stats(st.Peers[:0]).
func (s *Session) Stats(peers []PeerStats) Stats {
	st := Stats{
		State:            s.state,
		Frame:            s.sync.frame,
		ConfirmedFrame:   s.ConfirmedFrame(),
		Rollbacks:        s.sync.rollbacks,
		RollbackFrames:   s.sync.rollbackFrames,
		MaxRollbackDepth: s.sync.maxRollbackDepth,
		LastRollback:     s.sync.lastRollback,
		WaitFrames:       s.waitFrames,
		Dropped:          s.drops,
		Peers:            peers[:0],
	}
	q := &s.sync.queues[s.local]
	for _, ep := range s.peers {
		if ep == nil {
			continue
		}
		ps := ep.stats(s.now, q.known, s.localAdvantage(ep))
		ps.Received = s.knownFrame(ep.player)
		st.Peers = append(st.Peers, ps)
	}
	return st
}

// stats describes the link: known is our last local frame, advantage ours over the peer.
func (ep *endpoint) stats(now time.Duration, known Frame, advantage int) PeerStats {
	ep.rate.update(now, ep)
	return PeerStats{
		Player:           ep.player,
		State:            peerState(ep.state),
		RTT:              ep.rtt,
		SendQueue:        int(max(0, known-ep.acked)),
		LocalAdvantage:   advantage,
		RemoteAdvantage:  ep.remoteAdvantage,
		BytesIn:          ep.bytesIn,
		BytesOut:         ep.bytesOut,
		PacketsIn:        ep.packetsIn,
		PacketsOut:       ep.packetsOut,
		BytesInPerSec:    ep.rate.bpsIn,
		BytesOutPerSec:   ep.rate.bpsOut,
		PacketsInPerSec:  ep.rate.ppsIn,
		PacketsOutPerSec: ep.rate.ppsOut,
		Interrupted:      ep.interrupted,
		SendEvery:        ep.congestion.backoff + 1,
	}
}

// rateWindow turns running totals into per-second rates, refreshed once a second.
type rateWindow struct {
	start                        time.Duration
	bytesIn, bytesOut            uint64 // totals at start
	packetsIn, packetsOut        uint64
	bpsIn, bpsOut, ppsIn, ppsOut uint64
}

func (r *rateWindow) update(now time.Duration, ep *endpoint) {
	if now-r.start < time.Second {
		return
	}
	secs := uint64(max(1, (now-r.start)/time.Millisecond))
	r.bpsIn = (ep.bytesIn - r.bytesIn) * 1000 / secs
	r.bpsOut = (ep.bytesOut - r.bytesOut) * 1000 / secs
	r.ppsIn = (ep.packetsIn - r.packetsIn) * 1000 / secs
	r.ppsOut = (ep.packetsOut - r.packetsOut) * 1000 / secs
	r.start = now
	r.bytesIn, r.bytesOut, r.packetsIn, r.packetsOut = ep.bytesIn, ep.bytesOut, ep.packetsIn, ep.packetsOut
}
