package lockstep

// Helpers for tests that read or forge datagrams.

// testBody splits a datagram the way the session reads it, without checking it: an input
// or goodbye message's body without its tag, a handshake datagram without its CRC (what
// parseSync takes).
func testBody(d []byte) (header, []byte, error) {
	h, err := parseHeader(d)
	if err != nil {
		return h, nil, err
	}
	switch h.typ {
	case msgInput, msgBye:
		if len(d) < 2+tagLen {
			return h, nil, errShort
		}
		return h, d[2 : len(d)-tagLen], nil
	}
	if len(d) < crcLen {
		return h, nil, errShort
	}
	return h, d[:len(d)-crcLen], nil
}

// sealAs tags b (an input or goodbye message without its tag) as player sender would for
// s: the forgery of a sender who holds the match key.
func sealAs(s *Session, sender int, b []byte) []byte {
	return s.peers[sender].mac.appendTag(b, 0, sender)
}

// recrc replaces a handshake datagram's CRC after it was changed.
func recrc(d []byte) []byte {
	d = append([]byte(nil), d[:len(d)-crcLen]...)
	return appendCRC(d, 0)
}

// total is how many datagrams d counts as dropped, whatever the reason.
func total(d dropCounts) uint64 { return Stats{Dropped: d}.DroppedTotal() }
