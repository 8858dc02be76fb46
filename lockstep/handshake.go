// The handshake: sync requests and replies until every peer has made SyncRoundTrips round
// trips, the agreed seed, and rejects when the two sides' configurations differ.

package lockstep

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/netip"
)

// syncIn is a handshake datagram on its way through receiveSync, with what the session
// knows of its sender.
type syncIn struct {
	from  netip.AddrPort
	h     header
	m     *syncMsg
	size  int
	known *endpoint // the peer at from, if any
	// mayTalk: a peer we know, or someone answering for a player we wait for, may end our
	// handshake; otherwise a stray datagram could stop a running game.
	mayTalk bool
}

// receiveSync handles a handshake datagram d whose CRC passed (and was cut off). It is a
// pipeline, each stage of which may settle the datagram: screening (version, reject,
// stranger, configuration, secret), the seat it claims, the peer's session, and last the
// handshake's round trip itself.
func (s *Session) receiveSync(from netip.AddrPort, h header, d []byte, size int) {
	var m syncMsg
	if err := parseSync(d, h, &m); err != nil {
		s.drops.Malformed++
		return
	}
	if m.watch && m.version == ProtocolVersion {
		s.receiveWatchSync(from, h, &m)
		return
	}
	in := syncIn{from: from, h: h, m: &m, size: size, known: s.peerAt(from)}
	in.mayTalk = in.known != nil || (s.state == StateSynchronizing && (s.waitingForUnknown() || s.reseatable()))
	if s.screenSync(&in) {
		return
	}
	ep := s.peers[m.player]
	if !s.claimSeat(ep, &in) || !s.checkPeerSession(ep, &in) {
		return
	}
	s.roundTrip(ep, &in)
}

// screenSync settles a handshake message that cannot go on to a seat: another protocol, a
// reject, a stranger, another configuration, or no proof of our secret. true: settled.
func (s *Session) screenSync(in *syncIn) bool {
	switch {
	case in.m.version != ProtocolVersion:
		s.syncWrongVersion(in)
	case in.h.typ == msgReject:
		s.receiveReject(in)
	case !in.mayTalk:
		s.syncFromStranger(in)
	default:
		if code := s.mismatch(in.m); code != 0 {
			s.syncMismatch(in, code)
			return true
		}
		if !hmac.Equal(s.proof.tag(int(in.m.player), in.m.signed), in.m.proof) {
			// The datagram is intact (its CRC passed) but its sender does not know our secret.
			s.refuseOrFail(in, rejectSecret, &s.drops.Unauthenticated)
			return true
		}
		return false
	}
	return true
}

func (s *Session) syncWrongVersion(in *syncIn) {
	s.drops.WrongVersion++
	if !in.mayTalk || s.state != StateSynchronizing {
		return
	}
	if in.h.typ != msgReject {
		if s.refuse(in.from, in.h, rejectVersion, in.m) {
			return
		}
		s.queueReject(in.from, rejectVersion)
	}
	s.fail(fmt.Errorf("peer runs protocol %d, we run %d", in.m.version, ProtocolVersion))
}

// receiveReject handles a peer's refusal of our handshake.
func (s *Session) receiveReject(in *syncIn) {
	known := in.known
	// A leg that resumes a match believes no reject: it waits for the seat's player
	// whatever one attempt says (refuse).
	if known == nil || s.state != StateSynchronizing || s.cfg.resume != nil {
		s.drops.Foreign++
		return
	}
	if in.m.code == rejectFull && known.player != 0 && s.hostTookUs() {
		// Player 0 took us (and introduced us to this peer): a survivor that says
		// "match full" is between two legs of a match we rejoin, and its next leg
		// will answer a retry. Player 0 decides the seats.
		s.drops.Foreign++
		return
	}
	known.count(in.size)
	s.fail(s.mismatchError(in.m.code, in.m))
}

// syncFromStranger handles a handshake from an address that may not talk to us.
func (s *Session) syncFromStranger(in *syncIn) {
	if s.rejoinAttempt(in.from, in.h, in.m) {
		return // a player whose process restarted: its seat is dropped, the next leg waits for it
	}
	// Every seat is taken by a known address: tell a newcomer, without letting it
	// disturb us. Only requests are answered, so two sessions never answer each other
	// for ever.
	s.drops.Foreign++
	if in.h.typ == msgSyncRequest {
		s.queueReject(in.from, rejectFull)
	}
}

// syncMismatch handles a handshake whose configuration differs from ours.
func (s *Session) syncMismatch(in *syncIn, code rejectCode) {
	if (code == rejectPlayers || (code == rejectGame && s.cfg.resume == nil)) && s.local == 0 && in.known == nil {
		// Player 0 decides how many play and what: a newcomer that expects another count
		// or game is told ours (a SetupError on its side, which a joiner
		// not told otherwise adopts) and changes nothing here. (A leg that resumes a
		// match refuses another game below, and reports the refused rejoin.)
		s.drops.Foreign++
		if in.h.typ == msgSyncRequest {
			s.queueReject(in.from, code)
		}
		return
	}
	s.refuseOrFail(in, code, &s.drops.Foreign)
}

// refuseOrFail ends our handshake on a peer's incompatible one, unless we are running
// (then the datagram only counts in drop) or a resumed leg refuses the attempt instead.
func (s *Session) refuseOrFail(in *syncIn, code rejectCode, drop *uint64) {
	if s.state != StateSynchronizing {
		*drop++
		return
	}
	if s.refuse(in.from, in.h, code, in.m) {
		return
	}
	s.queueReject(in.from, code)
	s.fail(s.mismatchError(code, in.m))
}

// claimSeat settles which address holds ep's seat when a handshake claims it. false: the
// datagram is settled.
func (s *Session) claimSeat(ep *endpoint, in *syncIn) bool {
	if !ep.addrKnown {
		if s.state != StateSynchronizing {
			s.drops.Foreign++
			return false
		}
		ep.addr, ep.addrKnown, ep.learned = in.from, true, true
		if s.cfg.Logger != nil {
			s.debug("peer address learned", "player", ep.player, "addr", in.from)
		}
		return true
	}
	if ep.addr == in.from {
		return true
	}
	switch {
	case in.h.typ == msgSyncRequest && s.mayReseat(ep):
		s.reseat(ep, in.from) // whoever took the seat did not stay: it goes to this newcomer
		return true
	case in.h.typ == msgSyncRequest && s.restartedSeat(ep, in.h):
		return false
	}
	// The seat is taken by another address.
	s.drops.Foreign++
	if in.known == nil && in.h.typ == msgSyncRequest {
		s.queueReject(in.from, rejectFull)
	}
	return false
}

// checkPeerSession keys the pair when the seat's process is new to us. false: the datagram
// is settled (a restart that drops the seat, or a leftover process).
func (s *Session) checkPeerSession(ep *endpoint, in *syncIn) bool {
	if ep.sessionKnown && ep.session == in.m.session {
		return true
	}
	switch {
	case ep.state == epSyncing:
	case in.h.typ == msgSyncRequest && s.mayReseat(ep):
		s.reseat(ep, in.from) // the same address, a new process: its handshake starts over
	case s.restartedSeat(ep, in.h):
		return false
	default:
		s.drops.WrongTag++ // a leftover process from an earlier game on the same address
		return false
	}
	ep.session, ep.sessionKnown = in.m.session, true
	ep.mac = newMAC(s.matchKey(ep))
	ep.roundTrips = 0
	return true
}

// roundTrip answers a request, or counts a reply to ours towards SyncRoundTrips.
func (s *Session) roundTrip(ep *endpoint, in *syncIn) {
	m := in.m
	ep.count(in.size)
	if ep.state == epSyncing {
		// Once running, only input messages with news prove the peer alive: anyone can
		// replay an old handshake datagram.
		ep.lastRecv = s.now
	}
	if m.player == 0 && s.state == StateSynchronizing && s.cfg.resume == nil {
		s.seed = m.seed
	}
	ep.resume, ep.resumeSeed = m.resume, m.seed
	if in.h.typ == msgSyncRequest {
		// Answer in every state: the peer may still be finishing its handshake after ours.
		reply := syncMsg{nonce: m.nonce}
		s.fillSync(&reply)
		s.queue(ep.addr, func(b []byte) []byte { return appendSync(b, msgSyncReply, &reply, s.proof) })
		return
	}
	if ep.state == epRunning && s.state == StateSynchronizing && m.nonce == ep.nonce {
		ep.lastRecv, ep.nonce = s.now, s.newNonce() // an answer to keepSeats: it is there
		return
	}
	if ep.state != epSyncing || m.nonce != ep.nonce {
		s.drops.Stale++
		return
	}
	ep.roundTrips++
	ep.nonce = s.newNonce()
	s.emit(Event{Kind: EventSynchronizing, Player: ep.player, Progress: ep.roundTrips, Total: s.cfg.SyncRoundTrips})
	if ep.roundTrips < s.cfg.SyncRoundTrips {
		ep.sendSyncNow = true
		return
	}
	ep.state = epRunning
	s.startIfAllSynced()
}

// hostTookUs reports whether player 0 answered our handshake for our seat (another
// player's session does that only for the seat it gave us).
func (s *Session) hostTookUs() bool {
	ep0 := s.peers[0]
	return s.local != 0 && ep0 != nil && (ep0.roundTrips > 0 || ep0.state == epRunning)
}

// matchKey is the key of our pair with ep: both session nonces, the lower player's first.
func (s *Session) matchKey(ep *endpoint) []byte {
	if s.local < ep.player {
		return matchKey(s.root, s.session, ep.session)
	}
	return matchKey(s.root, ep.session, s.session)
}

func (s *Session) startIfAllSynced() {
	if s.state != StateSynchronizing {
		return
	}
	for _, ep := range s.peers {
		if ep != nil && ep.state == epSyncing {
			return
		}
	}
	if !s.resumeReady() {
		return
	}
	s.state = StateRunning
	s.agreed = true
	s.setMatchID()
	for _, ep := range s.peers {
		if ep != nil {
			ep.lastRecv = s.now
		}
	}
	// With input delay d, the first d frames have no local input: they run with none.
	zero := make([]byte, s.cfg.InputSize)
	for f := range Frame(s.cfg.InputDelay) {
		s.sync.addInput(s.local, f, zero)
	}
	s.emit(Event{Kind: EventRunning, Player: -1, Seed: s.seed, Frame: s.BaseFrame()})
}

func (s *Session) fillSync(m *syncMsg) {
	m.version = ProtocolVersion
	m.secret = s.cfg.Secret != ""
	m.session = s.session
	m.player = uint8(s.local)
	m.players = uint8(s.cfg.Players)
	m.inputSize = uint8(s.cfg.InputSize)
	m.seed = s.seed
	m.game = s.game
	m.resume = s.resume
	m.seedGiven = s.cfg.SeedGiven
	if s.cfg.SeedGiven && !s.resume.set {
		m.seed = s.cfg.Seed // whatever our player number: a match with another seed refuses us
	}
}

// mismatch checks a handshake message against our configuration.
func (s *Session) mismatch(m *syncMsg) rejectCode {
	switch {
	case int(m.players) != s.cfg.Players:
		return rejectPlayers
	case int(m.inputSize) != s.cfg.InputSize:
		return rejectInputSize
	case string(m.game) != s.cfg.Game:
		return rejectGame
	case int(m.player) >= s.cfg.Players || int(m.player) == s.local:
		return rejectPlayerNumber
	case m.resume.set && s.resume.set && m.resume.match != s.resume.match:
		return rejectMatch
	case s.cfg.resume != nil && !m.resume.set && m.seedGiven && m.seed != s.seed:
		return rejectSeed
	}
	return 0
}

// rejoinAttempt handles a handshake request from an unknown address for a seat of a running
// session that lets players rejoin. true: handled (the caller must not answer "match full").
//
//   - A newcomer that expects another number of players is told player 0's count
//     (a SetupError on its side, which starts over with it): the normal way a player
//     who restarted without -players learns it, not a refused rejoin.
//   - A valid request for a seat whose player has been silent for InterruptTimeout drops
//     the seat (restartedSeat): the player's process restarted and the next leg waits for
//     it. One that would be refused is told why rather than "match full", since the seat
//     will be open to the right command.
//   - A valid request for a seat whose player was dropped already and may still rejoin
//     (its frames are held: the next leg is not open yet) is not answered: the seat
//     reopens in the next leg, which answers the next retry. A survivor between legs never
//     refuses a rejoiner ("match full"); one that would be refused is told why.
//   - A valid request for a seat whose player was heard from recently is a contest: a
//     supervisor that restarts a killed process at once asks before the old one has been
//     silent for long. It goes unanswered until the seat's player proves it is there (news
//     after the contest began: the newcomer is then told "match full") or falls silent for
//     InterruptTimeout (the seat is dropped as above). A seat held by a silent address is
//     not taken by a player.
func (s *Session) rejoinAttempt(from netip.AddrPort, h header, m *syncMsg) bool {
	if !s.cfg.Rejoin || s.state != StateRunning || h.typ != msgSyncRequest || int(m.player) >= len(s.peers) {
		return false
	}
	ep := s.peers[m.player]
	if ep == nil {
		return false
	}
	code := s.mismatch(m)
	if code == rejectPlayers && s.local == 0 {
		s.drops.Foreign++
		s.queueReject(from, code)
		return true
	}
	if code == 0 && !hmac.Equal(s.proof.tag(int(m.player), m.signed), m.proof) {
		code = rejectSecret
	}
	pending := ep.state == epGone && s.sync.queues[ep.player].held
	switch {
	case pending && code == 0:
		s.drops.Foreign++ // the next leg reopens the seat and answers the retry
		return true
	case pending:
		// refused below, with the reason: the next leg would refuse it too
	case ep.state != epRunning:
		return false
	case s.now-ep.lastRecv < s.cfg.InterruptTimeout:
		return code == 0 && s.contest(ep, from)
	case code == 0:
		return s.restartedSeat(ep, h)
	}
	s.drops.Foreign++
	s.queueReject(from, code)
	s.noteRefusal(from, code, m)
	return true
}

// contest handles a valid request from from for ep's seat while its player was heard from
// recently. true: it goes unanswered, as the seat's player has not proved it is there since
// the contest began.
func (s *Session) contest(ep *endpoint, from netip.AddrPort) bool {
	if from != ep.contestFrom || s.now-ep.contestAt >= s.cfg.DisconnectTimeout {
		ep.contestFrom, ep.contestAt = from, s.now
	}
	if ep.lastRecv > ep.contestAt {
		return false // the seat's player is there: the newcomer is told "match full"
	}
	s.drops.Foreign++
	return true
}

// mismatchError words a mismatch from our side; m holds the peer's values.
func (s *Session) mismatchError(code rejectCode, m *syncMsg) error {
	switch code {
	case rejectVersion:
		if m.version == ProtocolVersion {
			return fmt.Errorf("peer refused our protocol %d", ProtocolVersion)
		}
		return fmt.Errorf("peer runs protocol %d, we run %d", m.version, ProtocolVersion)
	case rejectPlayers:
		return &SetupError{Player: int(m.player), Players: int(m.players), OurPlayers: s.cfg.Players}
	case rejectInputSize:
		return fmt.Errorf("peer sends %d-byte inputs, we expect %d", m.inputSize, s.cfg.InputSize)
	case rejectGame:
		return &SetupError{Player: int(m.player), Game: string(m.game), OurGame: s.cfg.Game}
	case rejectPlayerNumber:
		if int(m.player) == s.local {
			return fmt.Errorf("both peers are player %d", m.player)
		}
		return fmt.Errorf("peer is player %d, which is not a remote player in a %d-player game", m.player, s.cfg.Players)
	case rejectSecret:
		switch ours := s.cfg.Secret != ""; {
		case m.secret && !ours:
			return errors.New("the secrets differ: the peer has a secret and we have none")
		case !m.secret && ours:
			return errors.New("the secrets differ: we have a secret and the peer has none")
		}
		return errors.New("the secrets differ: the peer's handshake does not prove our secret")
	case rejectFull:
		return errors.New("match full: every seat is taken by a player at another address")
	case rejectSeed:
		return fmt.Errorf("the match in progress plays seed %d; we were given seed %d", m.seed, s.cfg.Seed)
	case rejectMatch:
		return errors.New("the peer resumes another match")
	}
	return fmt.Errorf("peer refused the handshake (reason %d)", code)
}

func (s *Session) queueReject(to netip.AddrPort, code rejectCode) {
	m := syncMsg{code: code}
	s.fillSync(&m)
	s.queue(to, func(b []byte) []byte { return appendSync(b, msgReject, &m, s.proof) })
}

// SetupError is a handshake failure because the peer sets the match up otherwise: it
// expects another number of players (Players and OurPlayers differ), or it plays another
// game (Config.Game: Game and OurGame differ). Only the pair that differs is set. From
// player 0 it says what the match is: a player that joined without knowing can start
// again with Players players, or with Game.
type SetupError struct {
	Player              int    // the peer's player number
	Players, OurPlayers int    // the peer's player count and ours, when they differ
	Game, OurGame       string // the peer's game and ours, when they differ
}

func (e *SetupError) Error() string {
	if e.Game != e.OurGame {
		return fmt.Sprintf("peer plays %q, we play %q", e.Game, e.OurGame)
	}
	return fmt.Sprintf("peer expects %d players, we expect %d", e.Players, e.OurPlayers)
}
