package transport

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ImpairedQueueLen bounds each direction's held datagrams in an Impaired; beyond it,
// datagrams are dropped and counted in LinkStats.Dropped.
const ImpairedQueueLen = 4096

// Impaired is a Conn that applies a LinkConfig to another Conn, for the -netsim flag.
//
// The config shapes BOTH directions: datagrams written are held until due and then written to
// the inner Conn; datagrams read from the inner Conn are held until due and then returned. So
// one peer's flag shapes the whole round trip: latency=40ms adds 80ms to the RTT, loss=5%
// loses about 5% each way. (If both peers pass the flag, the effects add up again.)
//
// There is no goroutine: held datagrams move lazily, whenever WriteTo, ReadFrom or Flush is
// called, by the clock's Now. An arrival is stamped when ReadFrom (or Flush) pulls it from the
// inner Conn, so calling ReadFrom once a frame adds up to a frame of extra inbound delay, as
// the game loop already does without netsim. Use NextDue to know when to call again.
// Methods are safe for concurrent use.
type Impaired struct {
	inner Conn
	clock Clock

	mu       sync.Mutex
	out, in  *shaper
	outQ     delayQueue // addr = destination
	inQ      delayQueue // addr = sender
	seq      uint64
	pool     bufPool
	scratch  [MaxDatagram]byte
	writeErr error // first error of a lazily flushed write, reported by the next WriteTo
	closed   bool
}

// NewImpaired returns inner behind a link emulator applying cfg to both directions, with
// randomness from seed (each direction its own generator). It panics if cfg is invalid (see
// LinkConfig.Validate); ParseNetsim only returns valid configs. The result is an *Impaired.
func NewImpaired(inner Conn, clock Clock, cfg LinkConfig, seed uint64) Conn {
	if err := cfg.Validate(); err != nil {
		panic("transport: NewImpaired: " + err.Error())
	}
	return &Impaired{
		inner: inner,
		clock: clock,
		out:   newShaper(cfg, seed, streamOf("impaired-out")),
		in:    newShaper(cfg, seed, streamOf("impaired-in")),
	}
}

// LocalAddr is the inner Conn's address.
func (im *Impaired) LocalAddr() netip.AddrPort { return im.inner.LocalAddr() }

// WriteTo decides b's fate and holds it until due; a zero delay sends it at once. An error
// comes from the inner Conn and may belong to a datagram held by an earlier call.
func (im *Impaired) WriteTo(b []byte, addr netip.AddrPort) error {
	if !addr.IsValid() {
		return fmt.Errorf("write to %v: invalid destination address", addr)
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closed {
		return fmt.Errorf("write to %v: %w", addr, net.ErrClosed)
	}
	now := im.clock.Now()
	var delays [2]time.Duration
	copies := im.out.bottleneck(now, len(b), im.out.fate(now, &delays), &delays)
	for _, d := range delays[:copies] {
		if im.outQ.Len() >= ImpairedQueueLen {
			im.out.stats.Dropped++
			continue
		}
		im.seq++
		im.outQ.push(pending{due: now + d, seq: im.seq, addr: addr, data: im.pool.clone(b), n: len(b)})
	}
	im.flushOut(now)
	err := im.writeErr
	im.writeErr = nil
	return err
}

// ReadFrom sends what is due, pulls everything waiting in the inner Conn into the inbound
// hold, and returns the earliest inbound datagram that is due.
func (im *Impaired) ReadFrom(b []byte) (int, netip.AddrPort, bool) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closed {
		return 0, netip.AddrPort{}, false
	}
	now := im.clock.Now()
	im.flushOut(now)
	im.pullIn(now)
	p, ok := im.inQ.popDue(now)
	if !ok {
		return 0, netip.AddrPort{}, false
	}
	im.in.stats.Delivered++
	copy(b, p.data)
	im.pool.put(p.data)
	return p.n, p.addr, true
}

// Flush sends the outbound datagrams that are due and pulls arrivals from the inner Conn into
// the inbound hold, without returning any. The error is that of a failed write.
func (im *Impaired) Flush() error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closed {
		return nil
	}
	now := im.clock.Now()
	im.flushOut(now)
	im.pullIn(now)
	err := im.writeErr
	im.writeErr = nil
	return err
}

// NextDue returns the earliest time a held datagram (either direction) becomes due; ok is
// false when nothing is held. Datagrams still inside the inner Conn are not counted.
func (im *Impaired) NextDue() (due time.Duration, ok bool) {
	im.mu.Lock()
	defer im.mu.Unlock()
	for _, q := range []*delayQueue{&im.outQ, &im.inQ} {
		if p := q.peek(); p != nil && (!ok || p.due < due) {
			due, ok = p.due, true
		}
	}
	return due, ok
}

// Stats returns the counters of the outbound and inbound directions. Outbound Delivered
// counts datagrams handed to the inner Conn; inbound Sent counts datagrams read from it.
func (im *Impaired) Stats() (out, in LinkStats) {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.out.stats, im.in.stats
}

// Close discards held datagrams (counted as Dropped) and closes the inner Conn. Closing again
// returns nil.
func (im *Impaired) Close() error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.closed {
		return nil
	}
	im.closed = true
	im.outQ.drain(func(*pending) { im.out.stats.Dropped++ })
	im.inQ.drain(func(*pending) { im.in.stats.Dropped++ })
	im.pool = bufPool{}
	return im.inner.Close()
}

// flushOut writes every due outbound datagram to the inner Conn, keeping the first error.
func (im *Impaired) flushOut(now time.Duration) {
	for {
		p, ok := im.outQ.popDue(now)
		if !ok {
			return
		}
		if err := im.inner.WriteTo(p.data, p.addr); err != nil {
			im.out.stats.Dropped++
			if im.writeErr == nil {
				im.writeErr = err
			}
		} else {
			im.out.stats.Delivered++
		}
		im.pool.put(p.data)
	}
}

// pullIn moves datagrams waiting in the inner Conn into the inbound hold, deciding their fate
// now. It reads at most ImpairedQueueLen per call so a flood cannot keep it looping.
func (im *Impaired) pullIn(now time.Duration) {
	for range ImpairedQueueLen {
		n, from, ok := im.inner.ReadFrom(im.scratch[:])
		if !ok {
			return
		}
		var delays [2]time.Duration
		copies := im.in.bottleneck(now, n, im.in.fate(now, &delays), &delays)
		for _, d := range delays[:copies] {
			if im.inQ.Len() >= ImpairedQueueLen {
				im.in.stats.Dropped++
				continue
			}
			im.seq++
			im.inQ.push(pending{due: now + d, seq: im.seq, addr: from, data: im.pool.clone(im.scratch[:min(n, len(im.scratch))]), n: n})
		}
	}
}

var _ Conn = (*Impaired)(nil)
