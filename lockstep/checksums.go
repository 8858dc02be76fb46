// Desync detection: checksums of final frames, exchanged with the peers and compared.

package lockstep

import "fmt"

type checksumReport struct {
	frame Frame
	sum   uint64
	set   bool
}

type localChecksum struct {
	checksumReport
	state []byte
}

// collectChecksums records the checksum of each checksum frame once its state is final:
// computed from real inputs only, after any re-simulation (a frame's checksum taken before
// its rollback would raise a false alarm).
func (s *Session) collectChecksums() {
	if s.cfg.ChecksumInterval < 0 || !s.sync.started {
		return
	}
	s.resyncTick()
	if s.replaying() {
		return // our states from the resync's frame on are wrong until the replay
	}
	final := s.ConfirmedFrame()
	for ; s.nextChecksum <= final; s.nextChecksum += Frame(s.cfg.ChecksumInterval) {
		f := s.nextChecksum
		c := s.sync.cell(f)
		if c.frame != f {
			continue
		}
		rec := &s.localSums[s.sumIndex(f)]
		rec.frame, rec.sum, rec.set = f, c.checksum(), true
		rec.state = append(rec.state[:0], c.state...)
		if s.vote == NullFrame { // a vote keeps telling its frame's checksum (resync.go)
			s.latestSum, s.pinned = rec.checksumReport, false
		}
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
	ep.heard[s.sumIndex(f)] = checksumReport{frame: f, sum: sum, set: true}
	if f < s.nextChecksum {
		s.compareChecksum(ep, f, sum)
		return
	}
	p := &ep.pendingSums[s.sumIndex(f)]
	p.frame, p.sum, p.set = f, sum, true
}

// sumIndex is where frame f's checksum goes in a ring of checksumHistory.
func (s *Session) sumIndex(f Frame) int {
	return int(f/Frame(s.cfg.ChecksumInterval)) % checksumHistory
}

func (s *Session) compareChecksum(ep *endpoint, f Frame, remote uint64) {
	rec := &s.localSums[s.sumIndex(f)]
	if !rec.set || rec.frame != f || s.state == StateDesync {
		return
	}
	if !s.cfg.StopOnDesync {
		s.resyncCompare(f, rec.sum, remote)
		return
	}
	if rec.sum != remote {
		s.stopDesync(ep.player, f, remote, nil)
	}
}

// stopDesync stops the session on a desync at frame f, where player's checksum was remote:
// the end with StopOnDesync, and without it when desyncs came back too often (why
// says so) or a resync could not be done.
func (s *Session) stopDesync(player int, f Frame, remote uint64, why error) {
	rec := &s.localSums[s.sumIndex(f)]
	s.state = StateDesync
	// The error names the match's frame, as the events do once a runner translates them:
	// in a later leg, f counts from the leg's start.
	at := s.BaseFrame() + f
	if why != nil {
		s.err = fmt.Errorf("%w at frame %d: %w", ErrDesync, at, why)
	} else {
		s.err = fmt.Errorf("%w at frame %d: our checksum %016x, player %d's %016x", ErrDesync, at, rec.sum, player, remote)
	}
	s.desyncFrame = f
	s.desyncState = append([]byte(nil), rec.state...)
	e := Event{Kind: EventDesync, Player: player, Frame: f, Local: rec.sum, Remote: remote}
	if why != nil {
		e.Err = s.err
	}
	s.emit(e)
	// Make sure every peer hears our checksum of that frame, so all of them stop too.
	s.latestSum = rec.checksumReport
	for _, p := range s.peers {
		if p != nil {
			p.sumSendsLeft = checksumRepeats
		}
	}
}

// DesyncState returns the frame at which the latest desync was detected and our saved state
// of it (before any resync), for forensics (compare it with the peer's). ok is false if
// there was no desync.
func (s *Session) DesyncState() (f Frame, state []byte, ok bool) {
	return s.desyncFrame, s.desyncState, s.desyncFrame != NullFrame
}
