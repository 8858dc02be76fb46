// Introductions: with three or four players, the others may know only player 0's address
// (p2pa -p K -peer HOST). Player 0 learns each one's address from its handshake and
// introduces them to each other: an introduction message lists the players whose
// addresses player 0 knows, as player 0 sees them, and a player that did not know one
// starts its handshake with it there. The message is tagged under the match key of the pair
// (player 0 and the receiver), so only player 0 of this match can introduce anyone, and it
// is only believed for a seat whose address is still unknown: an introduction never moves
// a player that is already placed.
//
// Wire: magic | type 6 | count (uvarint) | count × (player | address length (4 or 16) |
// address | port (2, little-endian)) | tag (8).

package lockstep

import (
	"encoding/binary"
	"net/netip"
)

// introEvery is how often player 0 repeats an introduction while the receiver may still
// need it: until the receiver has sent its first input, which it does only once it has
// met everyone.
const introEvery = syncRetry

// sendIntros is player 0's part: each peer whose handshake with us is under way, or done
// but that has not sent an input yet, hears of every other player whose address we know.
func (s *Session) sendIntros() {
	if s.local != 0 || len(s.peers) <= 2 {
		return
	}
	for _, ep := range s.peers {
		if ep == nil || !ep.addrKnown || ep.mac == nil || ep.state == epGone {
			continue
		}
		if ep.state == epRunning && s.sync.queues[ep.player].known != NullFrame {
			continue // it plays: it met everyone
		}
		n := 0
		for _, other := range s.peers {
			if other != nil && other != ep && other.addrKnown {
				n++
			}
		}
		if n == 0 || (ep.introSent && s.now-ep.lastIntro < introEvery) {
			continue
		}
		ep.introSent, ep.lastIntro = true, s.now
		s.queue(ep.addr, func(b []byte) []byte { return s.appendIntro(b, ep) })
	}
}

func (s *Session) appendIntro(b []byte, ep *endpoint) []byte {
	start := len(b)
	b = s.appendAddrList(appendHeader(b, msgIntro, 0), ep, false)
	return ep.mac.appendTag(b, start, s.local)
}

// appendAddrList appends the list of an introduction: every peer but skip whose address we
// know (running only: only those still in the match).
func (s *Session) appendAddrList(b []byte, skip *endpoint, running bool) []byte {
	listed := func(other *endpoint) bool {
		return other != nil && other != skip && other.addrKnown && (!running || other.state == epRunning)
	}
	n := 0
	for _, other := range s.peers {
		if listed(other) {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for _, other := range s.peers {
		if !listed(other) {
			continue
		}
		ip := other.addr.Addr().AsSlice()
		b = append(b, byte(other.player), byte(len(ip)))
		b = append(b, ip...)
		b = binary.LittleEndian.AppendUint16(b, other.addr.Port())
	}
	return b
}

// receiveIntro takes in player 0's introduction (body: the datagram without header and tag).
func (s *Session) receiveIntro(ep *endpoint, body []byte, size int) {
	if ep.player != 0 || s.local == 0 {
		s.drops.Malformed++ // only player 0 introduces
		return
	}
	intros, err := parseIntro(body, len(s.peers))
	if err != nil {
		s.drops.Malformed++
		return
	}
	ep.count(size)
	if s.state != StateSynchronizing && s.state != StateRunning {
		s.drops.Stale++
		return
	}
	news := false
	for _, in := range intros.list[:intros.n] {
		other := s.peers[in.player]
		if in.player == s.local || other == nil || other.addrKnown {
			continue
		}
		other.addr, other.addrKnown, other.sendSyncNow = unmap(in.addr), true, true
		news = true
		if s.cfg.Logger != nil {
			s.debug("peer introduced", "player", in.player, "addr", other.addr)
		}
	}
	if !news {
		s.drops.Stale++
	}
}

type introduction struct {
	player int
	addr   netip.AddrPort
}

type introductions struct {
	n    int
	list [MaxPlayers]introduction
}

// parseIntro decodes an introduction's body for a match of players players.
func parseIntro(b []byte, players int) (introductions, error) {
	var out introductions
	r := reader{b: b}
	n := int(r.uvarint(MaxPlayers))
	if r.err != nil {
		return out, r.err
	}
	for range n {
		if len(r.b) < 2 {
			return out, errShort
		}
		p, l := int(r.b[0]), int(r.b[1])
		r.b = r.b[2:]
		if p >= players || (l != 4 && l != 16) || len(r.b) < l+2 {
			return out, errShort
		}
		ip, _ := netip.AddrFromSlice(r.b[:l])
		port := binary.LittleEndian.Uint16(r.b[l:])
		r.b = r.b[l+2:]
		if port == 0 || !ip.IsValid() {
			return out, errBadVarint
		}
		out.list[out.n] = introduction{player: p, addr: netip.AddrPortFrom(ip, port)}
		out.n++
	}
	if len(r.b) != 0 {
		return out, errTrailing
	}
	return out, nil
}
