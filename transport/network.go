package transport

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// MaxInFlight bounds the datagrams in flight towards one emulated endpoint; beyond it,
// datagrams are dropped and counted in LinkStats.Dropped.
const MaxInFlight = 1 << 16

// Network is an emulated network of endpoints sharing one Clock (normally a *VirtualClock).
//
// A datagram written at time t on a link with config c is lost, or queued at the receiver
// with delivery time t + delay (see LinkConfig); ReadFrom returns the queued datagrams whose
// delivery time is <= clock.Now(), earliest first, ties in send order. Each direction of each
// pair of addresses draws from its own PCG generator derived from the seed and the two
// addresses, so traffic on one direction never changes the fate of another, and the same
// seed, configuration and sequence of calls replay exactly.
//
// There are no goroutines and no real time. Methods are safe for concurrent use, but a run
// is reproducible only if a single goroutine drives it.
type Network struct {
	clock Clock
	seed  uint64

	mu        sync.Mutex
	endpoints map[netip.AddrPort]*netEndpoint
	links     map[linkKey]*shaper
	seq       uint64
	nextPort  uint16
	pool      bufPool
}

type linkKey struct{ from, to netip.AddrPort }

// NewNetwork returns an empty network on clock whose randomness derives from seed.
func NewNetwork(clock Clock, seed uint64) *Network {
	return &Network{
		clock:     clock,
		seed:      seed,
		endpoints: map[netip.AddrPort]*netEndpoint{},
		links:     map[linkKey]*shaper{},
		nextPort:  firstEphemeral,
	}
}

const firstEphemeral = 49152

// Listen opens an endpoint at addr. Port 0 picks a free port from 49152 up. It fails if the
// address is taken or invalid. Any address works (nothing touches a real network), but an
// IPv4-mapped IPv6 address is unmapped, as UDP does.
func (n *Network) Listen(addr netip.AddrPort) (Conn, error) {
	addr = unmapPort(addr)
	if !addr.Addr().IsValid() {
		return nil, fmt.Errorf("listen %v: invalid address", addr)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if addr.Port() == 0 {
		for range 65536 - firstEphemeral {
			try := netip.AddrPortFrom(addr.Addr(), n.nextPort)
			n.nextPort++
			if n.nextPort == 0 {
				n.nextPort = firstEphemeral
			}
			if n.endpoints[try] == nil {
				addr = try
				break
			}
		}
		if addr.Port() == 0 {
			return nil, fmt.Errorf("listen %v: no free port", addr)
		}
	}
	if n.endpoints[addr] != nil {
		return nil, fmt.Errorf("listen %v: address already in use", addr)
	}
	e := &netEndpoint{net: n, addr: addr}
	n.endpoints[addr] = e
	return e, nil
}

// SetLink sets the impairments of the direction from → to (the other direction is separate).
// Links default to perfect: no delay, so a datagram is delivered at the receiver's next
// ReadFrom. Changing a link keeps its random stream and counters, and affects only datagrams
// sent afterwards. It panics if cfg is invalid (see LinkConfig.Validate).
func (n *Network) SetLink(from, to netip.AddrPort, cfg LinkConfig) {
	if err := cfg.Validate(); err != nil {
		panic("transport: Network.SetLink: " + err.Error())
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(unmapPort(from), unmapPort(to)).cfg = cloneConfig(cfg)
}

// Stats returns the counters of the direction from → to.
func (n *Network) Stats(from, to netip.AddrPort) LinkStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.links[linkKey{unmapPort(from), unmapPort(to)}]; l != nil {
		return l.stats
	}
	return LinkStats{}
}

// NextDue returns the earliest delivery time of any datagram in flight, so a simulation can
// jump its clock there; ok is false when nothing is in flight.
func (n *Network) NextDue() (due time.Duration, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.endpoints {
		if p := e.q.peek(); p != nil && (!ok || p.due < due) {
			due, ok = p.due, true
		}
	}
	return due, ok
}

// link returns the shaper for from → to, creating a perfect one on first use. Its generator
// depends only on the seed and the two addresses, not on when it is created.
func (n *Network) link(from, to netip.AddrPort) *shaper {
	k := linkKey{from, to}
	l := n.links[k]
	if l == nil {
		l = newShaper(LinkConfig{}, n.seed, streamOf("link", from, to))
		n.links[k] = l
	}
	return l
}

// netEndpoint is a Conn on a Network.
type netEndpoint struct {
	net    *Network
	addr   netip.AddrPort
	q      delayQueue // datagrams in flight to this endpoint; guarded by net.mu
	closed bool
}

func (e *netEndpoint) LocalAddr() netip.AddrPort { return e.addr }

// WriteTo decides the datagram's fate on the link and queues it at the receiver. Like UDP it
// does not report a missing receiver (the datagram is counted as Dropped).
func (e *netEndpoint) WriteTo(b []byte, addr netip.AddrPort) error {
	addr = unmapPort(addr)
	if !addr.IsValid() {
		return fmt.Errorf("write to %v: invalid destination address", addr)
	}
	n := e.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.closed {
		return fmt.Errorf("write to %v: %w", addr, net.ErrClosed)
	}
	l := n.link(e.addr, addr)
	now := n.clock.Now()
	var delays [2]time.Duration
	copies := l.bottleneck(now, len(b), l.fate(now, &delays), &delays)
	dst := n.endpoints[addr]
	deliver := func(d time.Duration, data []byte) {
		if dst == nil || dst.q.Len() >= MaxInFlight {
			l.stats.Dropped++
			return
		}
		n.seq++
		dst.q.push(pending{due: now + d, seq: n.seq, addr: e.addr, data: n.pool.clone(data), n: len(data), link: l})
	}
	for _, d := range delays[:copies] {
		deliver(d, b)
	}
	l.mistreat(b, deliver)
	return nil
}

// ReadFrom returns the earliest datagram whose delivery time has come.
func (e *netEndpoint) ReadFrom(b []byte) (int, netip.AddrPort, bool) {
	n := e.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.closed {
		return 0, netip.AddrPort{}, false
	}
	p, ok := e.q.popDue(n.clock.Now())
	if !ok {
		return 0, netip.AddrPort{}, false
	}
	p.link.stats.Delivered++
	copy(b, p.data)
	n.pool.put(p.data)
	return p.n, p.addr, true
}

// Close frees the address; datagrams still in flight to it are counted as Dropped.
func (e *netEndpoint) Close() error {
	n := e.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if n.endpoints[e.addr] == e {
		delete(n.endpoints, e.addr)
	}
	e.q.drain(func(p *pending) {
		p.link.stats.Dropped++
		n.pool.put(p.data)
	})
	return nil
}

var _ Conn = (*netEndpoint)(nil)
