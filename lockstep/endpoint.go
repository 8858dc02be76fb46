// Remote players: the session's view of each one, finding it by the address a datagram came
// from, and giving up on it when it falls silent or leaves.

package lockstep

import (
	"net/netip"
	"time"
)

// endpoint is the per-peer link: our view of one remote player, as GGRS keeps a
// UdpProtocol and raft a Progress per peer. It is grouped by concern; the behaviour that
// needs nothing but the link is on it (receiveQuality, fillQuality, count, holder).
type endpoint struct {
	player    int
	addr      netip.AddrPort
	addrKnown bool
	// session is the peer's session nonce, learned in the handshake; mac is keyed by the
	// match key derived from it and ours (nil until then).
	session      uint64
	sessionKnown bool
	mac          *mac
	state        endpointState

	linkHandshake // handshake.go
	linkInputs    // inputs.go
	linkQuality   // inputs.go, timesync.go

	pendingSums [checksumHistory]checksumReport // the peer's reports we could not check yet
	endFrame    Frame                           // once gone: the first frame played without its real inputs

	linkIntro   // intro.go
	linkRoster  // departure.go
	linkGoodbye // goodbye.go
	linkRejoin  // rejoin.go
	linkResync  // resync.go

	// traffic
	bytesIn, bytesOut, packetsIn, packetsOut uint64
	rate                                     rateWindow

	congestion congestion // send back-off on a thin link (backoff.go)
}

// newEndpoint is the link to player p, before anything is known of it.
func newEndpoint(p int) *endpoint {
	ep := &endpoint{player: p, endFrame: NullFrame}
	ep.acked, ep.lastSentTo, ep.remoteFrame = NullFrame, NullFrame, NullFrame
	return ep
}

// linkHandshake is a link's handshake: the nonce of our outstanding request and the round
// trips made.
type linkHandshake struct {
	nonce        uint32
	roundTrips   int
	lastSyncSend time.Duration
	sendSyncNow  bool
}

// linkInputs is a link's input traffic: what it acknowledged, what we sent, and when we
// last heard from it.
type linkInputs struct {
	acked       Frame // last frame of our inputs the peer has
	lastSentTo  Frame // last local frame we have put on the wire
	oweAck      bool
	lastSend    time.Duration
	lastRecv    time.Duration
	interrupted bool
	// a newcomer asking for this running seat while its player was heard from recently
	// (rejoinAttempt): where from, and since when
	contestFrom  netip.AddrPort
	contestAt    time.Duration
	lastQuality  time.Duration
	sumSendsLeft int
}

// linkQuality is the peer's quality reports: round-trip time and its frame and advantage,
// for time sync.
type linkQuality struct {
	rtt             time.Duration
	havePing        bool
	lastPing        uint32
	lastPingAt      time.Duration
	remoteFrame     Frame
	remoteFrameAt   time.Duration
	remoteAdvantage int
	haveReport      bool
}

// linkIntro is player 0's introductions of this peer to the others (intro.go).
type linkIntro struct {
	introSent bool
	lastIntro time.Duration
}

// linkRoster is the peer's view of the third players, and its departure (departure.go).
type linkRoster struct {
	views       [MaxPlayers]rosterView // the peer's view of each third player, by player
	rosterDirty bool                   // our roster changed: tell it at once
	leftWhy     EventKind              // once gone: EventDisconnected or EventPeerLeft
	departed    bool                   // once gone: every survivor agreed on endFrame; the event is out
}

// linkGoodbye is goodbyes to a peer still sending after the game ended for it, and our own
// stalls (goodbye.go).
type linkGoodbye struct {
	lastByeReply time.Duration
	byeReplied   bool
	stalled      bool          // we were stalled, and it has not acknowledged an input since
	stallGrace   time.Duration // then: its silence counts from here
	stallEnd     Frame         // and: one past the last input we had sent it before
}

// linkRejoin is the peer's side of a rejoin (rejoin.go).
type linkRejoin struct {
	resume     resumeInfo      // the peer's resume block, from its latest handshake message
	resumeSeed uint64          // the seed in that message
	loaded     bool            // it sent an input while we were synchronizing: it plays on the resumed state
	learned    bool            // the address was learned from a handshake, not given
	out        *handoverWindow // our handover of the state to it
}

type endpointState uint8

const (
	epSyncing endpointState = iota
	epRunning
	epGone
)

func (ep *endpoint) count(n int) {
	ep.bytesIn += uint64(n)
	ep.packetsIn++
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// authenticated finds the peer a datagram comes from and checks its tag, counting the
// datagram if it is foreign or does not verify. It returns the datagram without its tag.
func (s *Session) authenticated(from netip.AddrPort, d []byte) (*endpoint, []byte) {
	ep := s.peerAt(from)
	if ep == nil {
		s.drops.Foreign++
		return nil, nil
	}
	if ep.mac == nil {
		s.drops.Unauthenticated++ // no handshake from this peer yet: no key to check with
		return nil, nil
	}
	body, ok := ep.mac.verify(ep.player, d)
	if !ok {
		s.drops.Unauthenticated++
		return nil, nil
	}
	return ep, body
}

func (s *Session) peerAt(from netip.AddrPort) *endpoint {
	for _, ep := range s.peers {
		if ep != nil && ep.addrKnown && ep.addr == from {
			return ep
		}
	}
	return nil
}

// waitingForUnknown reports whether some player's address is still to be learned.
func (s *Session) waitingForUnknown() bool {
	for _, ep := range s.peers {
		if ep != nil && !ep.addrKnown {
			return true
		}
	}
	return false
}

func (s *Session) checkTimeout(ep *endpoint) {
	silence := s.now - ep.lastRecv
	switch {
	case silence >= s.cfg.DisconnectTimeout:
		s.drop(ep, EventDisconnected)
	case silence >= s.cfg.InterruptTimeout && !ep.interrupted:
		ep.interrupted = true
		s.emit(Event{Kind: EventInterrupted, Player: ep.player, Timeout: s.cfg.DisconnectTimeout - silence})
	}
}

// drop gives up on a peer: it takes no more inputs from it, and from its end frame on its
// last input stands in for all its frames, so the local game goes on without waiting
// (with Config.Rejoin those frames stay unconfirmed until Match.GiveUpRejoins: see inputQueue.held). With
// more than two players the end frame is agreed with the other survivors first, and the
// event waits for that (departure.go).
func (s *Session) drop(ep *endpoint, why EventKind) {
	ep.state = epGone
	q := &s.sync.queues[ep.player]
	if why != EventPeerLeft {
		ep.endFrame = ep.endAfterStall(q.known + 1)
	}
	q.connected = false
	q.held = s.cfg.Rejoin && why == EventDisconnected
	ep.leftWhy = why
	s.rosterChanged()
	s.updateShared()
	// This peer no longer has a say in any departure: some may be agreed now.
	for _, other := range s.peers {
		if other != nil && other.state == epGone {
			s.settleDeparture(other)
		}
	}
}
