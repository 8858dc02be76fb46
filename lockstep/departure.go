// Departures every survivor agrees on. With three or four players, a player who leaves or
// vanishes is dropped by each survivor at its own moment, holding its own share of the
// leaver's inputs: datagrams are lost, so one survivor may hold frames of it that another
// never received. If each froze the leaver's input at the last frame it held, they would
// simulate different games from there on.
//
// So every input message between running peers of a 3-4 player match carries the sender's
// view of each third player (the roster: connected or not, and the last frame of its real
// input the sender holds or settled on). A survivor that drops player K settles on the
// last frame it holds of K, lowered to the smallest last frame any peer has reported for
// K as disconnected; a survivor that hears from a peer that K is disconnected drops K too
// (it stops taking K's inputs there and then, so its own view is final). Every view only
// goes down once disconnected, so all of them converge on F, the smallest of the survivors'
// final views; a survivor knows it has F once every surviving peer has reported K as
// disconnected, and only then emits the one event of the departure (EventDisconnected or
// EventPeerLeft, Frame F+1: the first frame without K's real input, which is EndFrame).
//
// From frame F+1 on, K's input is its real input of frame F repeated (the zero input if it
// never sent one), with status InputDisconnected, on every survivor. A survivor that ran
// frames after F with other inputs for K re-simulates them (syncLayer.freeze).
//
// Confirmation must not run past what a departure could still change: a frame of K's
// input is final only when every other running peer holds it too (inputQueue.shared, from
// the connected views), and a departure not agreed yet counts as known up to its current
// last frame. A frame the engine reports confirmed therefore never changes, and checksums
// exchanged for desync detection stay true. Prediction is bounded by what this peer holds,
// as with two players; running ahead of what the others hold is bounded by departureSlack
// more frames, and the ring of saved states is that much longer, so the rollback to F+1 is
// always possible.
//
// With two players there is no third view: the roster is not sent, and a departure is
// agreed at once, exactly as before.

package lockstep

// departureSlack is how far past MaxPrediction a peer of a 3-4 player match may run ahead of
// the frames every peer holds; 0 with two players, where there is no third peer.
func departureSlack(cfg Config) int {
	if cfg.Players <= 2 {
		return 0
	}
	return cfg.MaxPrediction
}

// rosterView is one peer's view of one player, as its last roster said.
type rosterView struct {
	disc bool
	last Frame
}

// fillRoster puts our view of every player other than us and ep into m.
func (s *Session) fillRoster(ep *endpoint, m *inputMsg) {
	m.rosterN = 0
	for p := range s.sync.queues {
		if p == s.local || p == ep.player {
			continue
		}
		q := &s.sync.queues[p]
		m.roster[m.rosterN] = rosterEntry{disc: !q.connected, last: q.known}
		m.rosterN++
	}
}

// receiveRoster takes in peer ep's view of the third players. false: the roster does not
// fit the match (a malformed message).
func (s *Session) receiveRoster(ep *endpoint, m *inputMsg) bool {
	if m.rosterN != len(s.peers)-2 {
		return false
	}
	i := 0
	changed := false
	for p := range s.peers {
		if p == s.local || p == ep.player {
			continue
		}
		e := m.roster[i]
		i++
		v := &ep.views[p]
		switch {
		case e.disc && (!v.disc || e.last < v.last):
			v.disc, v.last = true, e.last
			changed = true
		case !e.disc && !v.disc && e.last > v.last:
			v.last = e.last // connected: the frames it holds only grow (a replay says less)
		}
	}
	if changed {
		for p, other := range s.peers {
			if other == nil || !ep.views[p].disc {
				continue
			}
			if other.state != epGone {
				s.drop(other, EventDisconnected) // a peer gave up on it: so do we
			} else {
				s.settleDeparture(other)
			}
		}
	}
	s.updateShared()
	return true
}

// settleDeparture lowers departed peer ep's last frame to the smallest any running peer
// reported, and emits the departure once every running peer has reported it.
func (s *Session) settleDeparture(ep *endpoint) {
	if ep.departed {
		return
	}
	q := &s.sync.queues[ep.player]
	end := ep.endFrame
	agreed := true
	for _, other := range s.peers {
		if other == nil || other == ep || other.state != epRunning {
			continue
		}
		if v := other.views[ep.player]; v.disc {
			end = min(end, v.last+1)
		} else {
			agreed = false
		}
	}
	if len(s.peers) > 2 && (end != ep.endFrame || q.known >= end) {
		// (With two players the end frame is only a label, as it always was: nothing to
		// agree with, and the input we hold of the peer stands.)
		ep.endFrame = end
		s.sync.freeze(ep.player, end-1)
		s.rosterChanged()
	}
	if agreed {
		ep.departed, q.final = true, true
		s.emit(Event{Kind: ep.leftWhy, Player: ep.player, Frame: ep.endFrame})
	}
}

// rosterChanged makes the next message to every running peer carry our roster at once.
func (s *Session) rosterChanged() {
	for _, ep := range s.peers {
		if ep != nil && ep.state == epRunning {
			ep.rosterDirty = true
		}
	}
}

// updateShared recomputes, for every remote player, the last frame of its input that every
// other running peer holds.
func (s *Session) updateShared() {
	if len(s.peers) <= 2 {
		return
	}
	for p := range s.sync.queues {
		shared := maxFrame
		if p != s.local {
			for _, other := range s.peers {
				if other != nil && other.player != p && other.state == epRunning {
					shared = min(shared, other.views[p].last)
				}
			}
		}
		s.sync.queues[p].shared = shared
	}
}
