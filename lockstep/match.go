// The match of legs: the seam between a runner and the sessions a rejoin opens.

package lockstep

import (
	"net/netip"
	"time"
)

// Match is a match of legs, the seam between a runner and the sessions it drives. One
// Session plays the match at a time, its current leg. When a player drops and may rejoin
// (Config.Rejoin), the runner pauses the match and opens the next leg, which resumes from a
// state of the current one; while the next leg's handshake runs, the previous leg is kept
// alive (keep-alives, time sync, the other survivors) in case nobody comes back, and the
// runner goes back to it then.
//
// Match owns both legs, routes each datagram to the leg it belongs to, and translates the
// current leg's frames into the match's, which count from the match's start whatever legs
// came between: a runner and its front ends see match frames only. Like Session it is a
// pure state machine: it never blocks, reads a clock or starts a goroutine.
type Match struct {
	cur, prev *Session
	// base is the match's frame at the current leg's frame 0; prevBase the previous leg's.
	base, prevBase Frame
	paused         bool // a player dropped and the runner waits for it (Pause)
	// the last handshake datagram the running leg received: maybe a returning player's,
	// which drops its silent seat; the next leg answers it at once (Open) rather than the
	// retry a syncRetry later
	lastSync     []byte
	lastSyncFrom netip.AddrPort
	lastSyncAt   time.Duration
}

// NewMatch starts a match whose first leg is first.
func NewMatch(first *Session) *Match { return &Match{cur: first} }

// Session is the current leg. Its frames count from the leg's start: Base is the match's
// frame there.
func (m *Match) Session() *Session { return m.cur }

// Previous is the leg a pause keeps alive while the next one opens; nil otherwise.
func (m *Match) Previous() *Session { return m.prev }

// Base is the match's frame at the current leg's frame 0 (0 until a rejoin).
func (m *Match) Base() Frame { return m.base }

// MatchFrame is the current leg's frame f counted in the match's frames.
func (m *Match) MatchFrame(f Frame) Frame { return m.base + f }

// Frame is the match's current frame.
func (m *Match) Frame() Frame { return m.base + m.cur.Frame() }

// ConfirmedFrame is the match's last confirmed frame.
func (m *Match) ConfirmedFrame() Frame { return m.base + m.cur.ConfirmedFrame() }

// Checksum is the checksum of the match's frame f, if the current leg still holds it (see
// Session.Checksum).
func (m *Match) Checksum(f Frame) (uint64, bool) { return m.cur.Checksum(f - m.base) }

// Rejoined reports whether the current leg started on a state handed over by a peer: it
// joined the match in progress.
func (m *Match) Rejoined() bool { return m.cur.rejoined }

// Handover reports the state handover the current leg receives: the bytes held so far and
// the state's size; total is 0 when no handover is under way or done.
func (m *Match) Handover() (held, total int) { return m.cur.handover() }

// Receive hands one datagram to the leg it belongs to. While a pause keeps two legs,
// handshakes and what the new leg's keys verify go to the new leg, the rest to the old one.
func (m *Match) Receive(from netip.AddrPort, d []byte, now time.Duration) {
	if m.prev != nil && !isHandshake(d) && !m.cur.authentic(from, d) {
		m.prev.Receive(from, d, now)
		return
	}
	if m.cur.cfg.Rejoin && !m.paused && m.cur.Running() && isHandshake(d) {
		m.lastSync = append(m.lastSync[:0], d...)
		m.lastSyncFrom, m.lastSyncAt = from, now
	}
	m.cur.Receive(from, d, now)
}

// Joined notices that the first leg, now running, joined the match in progress: the
// match's frames before it become the base. true: it did.
func (m *Match) Joined() bool {
	if !m.cur.rejoined {
		return false
	}
	m.base = m.cur.BaseFrame()
	return true
}

// Pause notes that player p dropped (its EventDisconnected reported frame end of the
// current leg) and the runner waits for it to rejoin. It returns the leg's frame the
// player's own inputs end at. With two players the reported frame is a label (what the
// peer most likely ended its own game at, after a stall): every frame up to the last input
// of the peer we hold ran on its real inputs, and the next leg may start there.
func (m *Match) Pause(p int, end Frame) Frame {
	m.paused = true
	if m.cur.cfg.Players == 2 {
		return m.cur.knownFrame(p) + 1
	}
	return end
}

// GiveUpRejoins is for a runner that stops waiting for the players the current leg dropped
// for silence (Config.Rejoin), or never starts: the window ran out, the match is ending, or
// another pause is under way. Until then a dropped player's frames after its last real
// input are not confirmed, because a rejoin resumes the match there with its real inputs
// and a confirmed frame (reported, recorded, sent to spectators) must never be taken
// back; from now on its stand-in input is final and those frames confirm.
func (m *Match) GiveUpRejoins() { m.cur.giveUpRejoins() }

// NextLeg describes the leg that resumes the match from the current leg's frame from,
// whose saved state is state: its Config and whom it expects where, for NewSession. The
// Config is cfg, the runner's, made a later leg of this match: it starts from state, plays
// the match's seed and takes no spectators; the caller gives each leg its own Nonce.
// The session keeps state (to hand it over) and does not change it. given holds the
// addresses the runner was given by player (a player comes back there); a connected peer
// is expected where it is, and a dropped player whose address was learned may come back
// from anywhere.
func (m *Match) NextLeg(cfg Config, from Frame, state []byte, given []netip.AddrPort) (Config, []netip.AddrPort) {
	cfg.resume = &resumePoint{match: m.cur.matchID, frame: m.base + from, state: state}
	cfg.Spectators = 0
	if seed, ok := m.cur.Seed(); ok {
		cfg.Seed = seed // a rejoiner checks it against the one it was given
	}
	peers := make([]netip.AddrPort, len(m.cur.peers))
	for p := range peers {
		switch {
		case p == m.cur.local:
		case p < len(given) && given[p].IsValid():
			peers[p] = given[p]
		case m.cur.peerConnected(p):
			peers[p] = m.cur.PeerAddr(p)
		}
	}
	return cfg, peers
}

// Open makes next, a leg that resumes the match from the current leg's frame from, the
// current leg; the current one is kept alive as the previous leg, without restart probes.
// A handshake received within replay before now (maybe the returning player's) is handed to
// the new leg at once.
func (m *Match) Open(next *Session, from Frame, now, replay time.Duration) {
	m.cur.keepAliveOnly = true
	m.prev, m.prevBase = m.cur, m.base
	m.cur, m.base = next, m.base+from
	if len(m.lastSync) > 0 && now-m.lastSyncAt < replay {
		next.Receive(m.lastSyncFrom, m.lastSync, now)
		m.lastSync = m.lastSync[:0]
	}
}

// Retry replaces the next leg of a pause, whose handshake failed, with a fresh one.
func (m *Match) Retry(next *Session) { m.cur = next }

// LeaveSpectators is for player 0's runner when a pause's next leg runs, before Resumed:
// the previous leg's spectators cannot follow the match into the new leg (its history of
// inputs starts mid-match), so each is sent the rows it lacks and a goodbye saying so,
// with the previous leg's last frame; it ends on a frame the match had (ErrLegEnded on
// its side) instead of timing out and blaming player 0. The datagrams returned are to be
// sent at once; nil when no previous leg is kept.
func (m *Match) LeaveSpectators(now time.Duration) []Datagram {
	if m.prev == nil {
		return nil
	}
	return m.prev.leaveSpectators(now)
}

// Resumed ends a pause whose next leg runs: the previous leg is let go. true: the match's
// base moved, because both sides had dropped each other and the other had confirmed more,
// so the new leg was handed its state and goes on from its frame.
func (m *Match) Resumed() bool {
	m.prev, m.paused = nil, false
	if b := m.cur.BaseFrame(); b != m.base {
		m.base = b
		return true
	}
	return false
}

// Abandon ends a pause without the player: nobody rejoins, so the stand-in inputs of
// whoever dropped are final. If a next leg was opened, the previous leg becomes the
// current one again (true).
func (m *Match) Abandon() bool {
	m.paused = false
	if m.prev == nil {
		m.cur.giveUpRejoins()
		return false
	}
	m.prev.giveUpRejoins()
	m.cur, m.base = m.prev, m.prevBase
	m.prev = nil
	return true
}
