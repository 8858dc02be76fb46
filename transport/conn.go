package transport

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// MaxDatagram is the largest datagram a Conn delivers, and so the size of every receive
// buffer: an Ethernet MTU. It is the transport's limit, not the protocol's: what a session
// sends is bounded by lockstep.MaxDatagram (508 bytes, the largest UDP payload every IPv4
// path carries unfragmented), a different constant in another package. The room between the
// two lets a receiver see a datagram the protocol would not send, so that lockstep counts it
// as oversized instead of reading a truncated copy; anything longer than this reaching a UDP
// socket is counted as oversized (see UDP) and dropped here.
const MaxDatagram = 1500

// Conn is a non-blocking datagram endpoint, the shape of net.PacketConn minus blocking reads.
// Implementations in this package: *UDP (a real socket), the endpoints of a *Network (an
// emulated network) and *Impaired (a LinkConfig in front of another Conn).
type Conn interface {
	// LocalAddr is the address the endpoint is bound to.
	LocalAddr() netip.AddrPort
	// WriteTo sends b (copied before return; the caller reuses b) to addr.
	WriteTo(b []byte, addr netip.AddrPort) error
	// ReadFrom copies the next received datagram into b and reports its sender; ok is false
	// when nothing is waiting. n is the datagram's full length; if it exceeds len(b) the
	// datagram was truncated to len(b) (the caller treats n > len(b) as oversized and drops it).
	ReadFrom(b []byte) (n int, from netip.AddrPort, ok bool)
	// Close releases the endpoint. Closing twice is not an error.
	Close() error
}

// Clock gives time as a monotonic offset; the game loop and the link emulator share one.
type Clock interface{ Now() time.Duration }

// RealClock is wall time measured from the moment NewRealClock was called, read through the
// monotonic clock. Use NewRealClock; the zero RealClock counts from year 1.
type RealClock struct{ start time.Time }

// NewRealClock returns a clock whose Now is the time elapsed since this call.
func NewRealClock() *RealClock { return &RealClock{start: time.Now()} }

// Now returns time.Since(start).
func (c *RealClock) Now() time.Duration { return time.Since(c.start) }

// VirtualClock is a clock that only moves when told to; tests and simulations drive it. Its
// zero value reads 0.
//
// It is meant to be driven by one goroutine (the simulation loop): a deterministic run needs
// a single owner deciding when time moves. Reads and writes are atomic, so other goroutines
// may call Now without a data race, but interleaving Advance calls from several goroutines
// makes a run irreproducible.
type VirtualClock struct{ now atomic.Int64 }

// NewVirtualClock returns a virtual clock reading start.
func NewVirtualClock(start time.Duration) *VirtualClock {
	c := &VirtualClock{}
	c.now.Store(int64(start))
	return c
}

// Now returns the current virtual time.
func (c *VirtualClock) Now() time.Duration { return time.Duration(c.now.Load()) }

// Set moves the clock to d. Setting it backwards is allowed but nothing already due becomes
// undue; datagrams stamped later simply wait longer.
func (c *VirtualClock) Set(d time.Duration) { c.now.Store(int64(d)) }

// Advance moves the clock forward by d.
func (c *VirtualClock) Advance(d time.Duration) { c.now.Add(int64(d)) }
