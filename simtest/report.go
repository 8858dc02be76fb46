package simtest

import (
	"errors"
	"fmt"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
)

// PeerReport sums up one player's match (its current process).
type PeerReport struct {
	Player    int
	Life      int
	Gone      bool
	Frame     lockstep.Frame // the frame its game reached, in the match's frames
	Confirmed lockstep.Frame
	netplay.Counters
	Rollbacks int64          // of the current leg
	Result    netplay.Result // valid if Done
	Done      bool
	Events    []lockstep.Event
}

// Report is the outcome of Run.
type Report struct {
	Peers    []PeerReport
	Compared int           // frame pairs whose checksums were compared
	Elapsed  time.Duration // virtual time
	// Err is what went wrong, cause first: a process that failed or saw a desync (its
	// Result.Err wrapped, naming the player: a game whose LoadState fails is reported here,
	// on the player it failed on), then peers that disagree on a confirmed frame (often
	// the failure's consequence, at a later frame), or else a match that did not end
	// within MaxTime. nil: every peer finished and agreed.
	Err error
}

func (s *Sim) report() *Report {
	rep := &Report{Elapsed: s.Clock.Now()}
	for _, p := range s.Peers {
		r := p.Runner
		st := r.Session().Stats(nil)
		pr := PeerReport{
			Player: p.Player, Life: p.Life, Gone: p.Gone, Frame: r.Frame(), Confirmed: r.ConfirmedFrame(),
			Counters: r.Counters(), Rollbacks: st.Rollbacks, Done: r.Done(), Events: p.Events,
		}
		if pr.Done {
			pr.Result = r.Result()
		}
		rep.Peers = append(rep.Peers, pr)
	}
	var cmpErr error
	rep.Compared, cmpErr = s.Compare()
	// A runner's failure is the cause and the mismatch it leaves at a later frame only a
	// symptom (a LoadState that fails on one peer shows as its checksums drifting), so the
	// failure comes first; the mismatch follows, as a clue.
	rep.Err = errors.Join(s.failed(), cmpErr)
	if rep.Err == nil && !s.Finished() {
		rep.Err = fmt.Errorf("not done after %v: %s", rep.Elapsed, s.Status())
	}
	return rep
}

// failed reports the first process that failed or saw a desync.
func (s *Sim) failed() error {
	for _, p := range s.Peers {
		if p.Gone {
			continue
		}
		if p.err != nil {
			return fmt.Errorf("player %d: %w", p.Player, p.err)
		}
		res := p.Runner.Result()
		switch {
		case p.Runner.Done() && (res.Reason == netplay.EndDesync || res.Reason == netplay.EndFailed):
			return fmt.Errorf("player %d: %v: %w", p.Player, res.Reason, res.Err)
		case s.Scenario.Hold && p.Runner.Session().Err() != nil:
			return fmt.Errorf("player %d: %w", p.Player, p.Runner.Session().Err())
		}
	}
	return nil
}

// Compare checks the peers' checksums at every frame two or more of them confirmed, in the
// match's frames. A process that Restarts killed takes part with the frames up to the one
// its successor rejoined at: every player played those on the same inputs, while after it
// the survivors played on with the successor's. Likewise a player who vanished takes part
// up to the frame the others report it left at (its departure frame): after it they play
// without its inputs, which it may have confirmed a few more frames with. A process that
// was handed the right state by a resync (Peer.Resynced) takes part without the frames it
// had played on its wrong one (they differ, and the resync mended them). It returns how
// many frame pairs were compared, and an error naming the first frame that differs (and
// the players, by their index in Peers, then Dead).
func (s *Sim) Compare() (int, error) {
	all := append(append([]*Peer(nil), s.Peers...), s.Dead...)
	limit := make([]int, len(all))
	last := 0
	for i, p := range all {
		limit[i] = p.last()
		switch {
		case i >= len(s.Peers):
			limit[i] = -1 // its successor never rejoined: nothing says where its frames end
			if next := s.successor(p); next != nil {
				if f, ok := next.JoinedAt(); ok {
					limit[i] = min(int(f), p.last())
				}
			}
		case p.Gone:
			if f, ok := s.departure(p.Player); ok {
				limit[i] = min(int(f), p.last())
			}
		}
		last = max(last, limit[i])
	}
	return CompareChecksums(last, len(all), func(peer int, f lockstep.Frame) (uint64, bool) {
		if int(f) > limit[peer] {
			return 0, false
		}
		return all[peer].Checksum(f)
	})
}

// departure is the earliest frame a player still there reports player left at.
func (s *Sim) departure(player int) (lockstep.Frame, bool) {
	f, ok := lockstep.Frame(0), false
	for _, p := range s.Peers {
		if p.Gone {
			continue
		}
		for _, e := range p.Events {
			if (e.Kind == lockstep.EventDisconnected || e.Kind == lockstep.EventPeerLeft) && e.Player == player && (!ok || e.Frame < f) {
				f, ok = e.Frame, true
			}
		}
	}
	return f, ok
}

// successor is the process that took dead's seat next.
func (s *Sim) successor(dead *Peer) *Peer {
	for _, p := range append(append([]*Peer(nil), s.Dead...), s.Peers...) {
		if p.Player == dead.Player && p.Life == dead.Life+1 {
			return p
		}
	}
	return nil
}

// CompareChecksums checks, for every frame 0..last, that the peers which recorded a checksum
// of it (sum reports peer i's, by index) agree. It returns how many pairs it compared and an
// error naming the first frame that differs. Harnesses that keep their own checksums (a
// game's own simulation layer, say) compare them with it.
func CompareChecksums(last, peers int, sum func(peer int, f lockstep.Frame) (uint64, bool)) (int, error) {
	compared := 0
	for f := lockstep.Frame(0); f <= lockstep.Frame(last); f++ {
		var ref uint64
		refPeer := -1
		for i := range peers {
			v, ok := sum(i, f)
			if !ok {
				continue
			}
			if refPeer < 0 {
				ref, refPeer = v, i
				continue
			}
			compared++
			if v != ref {
				return compared, fmt.Errorf("frame %d: player %d has checksum %016x, player %d %016x", f, refPeer, ref, i, v)
			}
		}
	}
	return compared, nil
}
