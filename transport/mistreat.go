package transport

import (
	"slices"
	"time"
)

// Mistreatments: besides delaying, losing and duplicating datagrams, an emulated link can
// add copies that a buggy middlebox, a hostile sender or a leftover process would produce,
// all arriving from the sender's own address: a copy with 1–3 bits flipped (Corrupt), a copy
// cut short (Truncate), a copy of an earlier datagram of the same link (Replay), and a
// forgery of the same length that keeps the first two bytes, as a header would be, and
// fills the rest at random (Forge). Each is an extra copy: the original's fate is decided
// by fate as without them. Randomness is drawn from the link's own generator, only for the
// mistreatments the config enables, in this order, after fate's draws, so a run replays
// exactly from its seed.

// replayHistory is how many earlier datagrams a link keeps for Replay.
const replayHistory = 64

// mistreatments is what one link remembers for them.
type mistreatments struct {
	past  [replayHistory][]byte
	count int // datagrams remembered so far (the ring holds the last replayHistory)
	buf   []byte
}

// mistreat adds the extra copies the config asks for to datagram b, sent at now, calling
// emit with each copy's delay and bytes (valid only during the call).
func (s *shaper) mistreat(b []byte, emit func(delay time.Duration, data []byte)) {
	c := &s.cfg
	if c.Corrupt == 0 && c.Truncate == 0 && c.Replay == 0 && c.Forge == 0 {
		return
	}
	m := &s.mis
	if c.Corrupt > 0 && s.rng.Float64() < c.Corrupt && len(b) > 0 {
		m.buf = append(m.buf[:0], b...)
		// 1–3 distinct bits: flipping one twice would leave it as it was.
		var flipped [3]int
		k := min(1+s.rng.IntN(3), 8*len(b))
		for n := 0; n < k; {
			i := s.rng.IntN(8 * len(b))
			if slices.Contains(flipped[:n], i) {
				continue
			}
			flipped[n] = i
			n++
			m.buf[i/8] ^= 1 << (i % 8)
		}
		s.stats.Corrupted++
		emit(s.delay(), m.buf)
	}
	if c.Truncate > 0 && s.rng.Float64() < c.Truncate && len(b) > 0 {
		s.stats.Truncated++
		emit(s.delay(), b[:s.rng.IntN(len(b))])
	}
	if c.Replay > 0 {
		if s.rng.Float64() < c.Replay && m.count > 0 {
			old := m.past[s.rng.IntN(min(m.count, replayHistory))]
			s.stats.Replayed++
			emit(s.delay(), old)
		}
		slot := &m.past[m.count%replayHistory]
		*slot = append((*slot)[:0], b...)
		m.count++
	}
	if c.Forge > 0 && s.rng.Float64() < c.Forge {
		m.buf = append(m.buf[:0], b...)
		for i := 2; i < len(m.buf); i++ {
			m.buf[i] = byte(s.rng.Uint32())
		}
		s.stats.Forged++
		emit(s.delay(), m.buf)
	}
}
