package transport

import (
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"time"
)

// LinkStats counts one direction of an emulated link. Every datagram sent, plus every
// duplicate and mistreated copy made, ends up exactly once in Delivered, Lost, Dropped or
// Overflowed, or is still in flight: Sent + Duplicated + Corrupted + Truncated + Replayed +
// Forged == Delivered + Lost + Dropped + Overflowed + in flight.
type LinkStats struct {
	Sent       uint64 // datagrams written into the link
	Delivered  uint64 // copies handed over at the far end (duplicates included)
	Lost       uint64 // lost to Loss or an Outage
	Duplicated uint64 // extra copies made by Dup
	Reordered  uint64 // datagrams given the extra reordering delay (they may still arrive in order)
	Dropped    uint64 // copies discarded for want of a receiver: none listening, queue full, closed, or a failed inner write

	Corrupted, Truncated, Replayed, Forged uint64 // extra copies made by the mistreatments

	Overflowed uint64 // tail-dropped: the link's Queue was full (counted apart from Lost and Dropped)
}

// shaper applies a LinkConfig to the datagrams of one direction, drawing from its own PCG so
// the fate of one direction never depends on traffic in another.
type shaper struct {
	cfg   LinkConfig
	rng   *rand.Rand
	stats LinkStats
	mis   mistreatments

	busyUntil time.Duration // bandwidth: when the link will have sent every datagram it accepted
}

func newShaper(cfg LinkConfig, seed, stream uint64) *shaper {
	return &shaper{cfg: cloneConfig(cfg), rng: rand.New(rand.NewPCG(seed, stream))}
}

func cloneConfig(c LinkConfig) LinkConfig {
	c.Outages = append([]Outage(nil), c.Outages...)
	return c
}

// fate decides the fate of a datagram sent at now: it returns the delays of the copies to
// deliver (none if lost, two if duplicated) and updates the counters. Randomness is drawn
// only for the impairments the config enables, always in the same order.
func (s *shaper) fate(now time.Duration, delays *[2]time.Duration) int {
	c := &s.cfg
	s.stats.Sent++
	for _, o := range c.Outages {
		if now >= o.From && now < o.To {
			s.stats.Lost++
			return 0
		}
	}
	if c.Loss > 0 && s.rng.Float64() < c.Loss {
		s.stats.Lost++
		return 0
	}
	delays[0] = s.delay()
	if c.Reorder > 0 && s.rng.Float64() < c.Reorder {
		s.stats.Reordered++
		delays[0] += ReorderMin + s.uniform(c.ReorderWindow()-ReorderMin)
	}
	if c.Dup > 0 && s.rng.Float64() < c.Dup {
		s.stats.Duplicated++
		delays[1] = s.delay()
		return 2
	}
	return 1
}

// serialise puts a datagram of n bytes that survived fate on a link with a Rate: it returns
// how long the datagram waits for the datagrams ahead of it plus its own sending time, or
// false (the caller counts its copies in Overflowed) if the bytes waiting, its own included, would exceed Queue.
// Without a Rate it returns 0, true. The model is a FIFO drained at exactly Rate (a token
// bucket with no burst beyond one datagram): all integer nanoseconds, so it replays exactly.
func (s *shaper) serialise(now time.Duration, n int) (time.Duration, bool) {
	rate := s.cfg.Rate
	if rate <= 0 {
		return 0, true
	}
	start := max(now, s.busyUntil)
	bytes := int64(n + LinkOverhead)
	if q := s.cfg.Queue; q > 0 {
		// Bytes accepted but not yet sent, rounded up. busyUntil-now <= Queue*8/Rate seconds,
		// so the product stays below 64 MiB*8e9, far from overflow.
		ahead := (int64(start-now)*rate + 8e9 - 1) / 8e9
		if ahead+bytes > int64(q) {
			return 0, false
		}
	}
	s.busyUntil = start + time.Duration((bytes*8*int64(time.Second)+rate-1)/rate)
	return s.busyUntil - now, true
}

// delay draws Latency + uniform[-Jitter, +Jitter], floored at 0.
func (s *shaper) delay() time.Duration {
	d := s.cfg.Latency
	if j := s.cfg.Jitter; j > 0 {
		d += s.uniform(2*j) - j
	}
	return max(d, 0)
}

// uniform draws from [0, d].
// bottleneck passes the copies fate decided through serialise: if the queue is full they
// are all counted as Overflowed and none is left, otherwise each waits for the sending.
func (s *shaper) bottleneck(now time.Duration, n, copies int, delays *[2]time.Duration) int {
	if copies == 0 {
		return 0
	}
	wait, ok := s.serialise(now, n)
	if !ok {
		s.stats.Overflowed += uint64(copies)
		return 0
	}
	// Duplicates are made past the bottleneck: both copies wait for the one sending.
	delays[0] += wait
	delays[1] += wait
	return copies
}

func (s *shaper) uniform(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(s.rng.Int64N(int64(d) + 1))
}

// streamOf derives a PCG stream from a label and addresses (FNV-1a), so every direction of
// every link gets its own generator from one seed.
func streamOf(label string, addrs ...netip.AddrPort) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	for _, a := range addrs {
		b, _ := a.MarshalBinary()
		h.Write(b)
	}
	return h.Sum64()
}

// pending is a datagram in flight.
type pending struct {
	due  time.Duration
	seq  uint64         // send order: breaks ties in due so a run replays exactly
	addr netip.AddrPort // sender (inbound queues) or destination (outbound queues)
	data []byte
	n    int // full length; > len(data) if the datagram was truncated before it was queued
	link *shaper
}

// delayQueue is a binary min-heap of pending datagrams ordered by (due, seq).
type delayQueue struct{ items []pending }

func (q *delayQueue) Len() int { return len(q.items) }

func (q *delayQueue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.due < b.due || a.due == b.due && a.seq < b.seq
}

func (q *delayQueue) push(p pending) {
	q.items = append(q.items, p)
	for i := len(q.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

// peek returns the earliest datagram, or nil.
func (q *delayQueue) peek() *pending {
	if len(q.items) == 0 {
		return nil
	}
	return &q.items[0]
}

// popDue removes and returns the earliest datagram if it is due at now.
func (q *delayQueue) popDue(now time.Duration) (pending, bool) {
	if len(q.items) == 0 || q.items[0].due > now {
		return pending{}, false
	}
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = pending{}
	q.items = q.items[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top, true
}

// drain empties the queue, calling f for each datagram in no particular order.
func (q *delayQueue) drain(f func(*pending)) {
	for i := range q.items {
		f(&q.items[i])
		q.items[i] = pending{}
	}
	q.items = q.items[:0]
}

// bufPool recycles payload buffers so steady traffic does not allocate. Buffers are sized to
// the payload (rounded up to 64 bytes), not to MaxDatagram, so a deep queue of small
// datagrams stays small.
type bufPool struct{ free [][]byte }

const maxPooled = 256

// clone returns a copy of b, in a recycled buffer when the most recently freed one fits.
func (p *bufPool) clone(b []byte) []byte {
	if k := len(p.free); k > 0 && cap(p.free[k-1]) >= len(b) {
		buf := p.free[k-1][:len(b)]
		p.free[k-1] = nil
		p.free = p.free[:k-1]
		copy(buf, b)
		return buf
	}
	buf := make([]byte, len(b), (len(b)+63)&^63)
	copy(buf, b)
	return buf
}

func (p *bufPool) put(b []byte) {
	if len(p.free) < maxPooled && cap(b) <= MaxDatagram+64 {
		p.free = append(p.free, b)
	}
}
