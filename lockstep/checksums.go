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
	final := s.ConfirmedFrame()
	for ; s.nextChecksum <= final; s.nextChecksum += Frame(s.cfg.ChecksumInterval) {
		f := s.nextChecksum
		c := s.sync.cell(f)
		if c.frame != f {
			continue
		}
		rec := &s.localSums[int(f/Frame(s.cfg.ChecksumInterval))%checksumHistory]
		rec.frame, rec.sum, rec.set = f, c.checksum(), true
		rec.state = append(rec.state[:0], c.state...)
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
	if !rec.set || rec.frame != f || rec.sum == remote || s.state == StateDesync {
		return
	}
	s.state = StateDesync
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
