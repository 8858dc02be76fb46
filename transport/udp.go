package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// UDPQueueLen is how many received datagrams a UDP holds for ReadFrom. When the queue is
// full, further arrivals are dropped and counted (UDPStats.DroppedFull): a flood costs CPU,
// never memory.
const UDPQueueLen = 1024

// UDP is a Conn over a real UDP socket.
//
// One reader goroutine per UDP moves datagrams from the socket into a fixed ring of
// UDPQueueLen buffers of MaxDatagram bytes; ReadFrom copies out of the ring and never blocks
// or allocates. Readable signals arrivals so a loop can wait instead of polling. Read errors
// (notably ECONNREFUSED, which an ICMP port-unreachable for an earlier datagram can leave on
// the socket) are counted and ignored: only Close stops the reader. All methods are safe for concurrent use.
type UDP struct {
	conn     *net.UDPConn
	local    netip.AddrPort
	readable chan struct{}
	done     chan struct{} // closed when the reader goroutine returns
	closing  atomic.Bool
	close    sync.Once

	sent, sentBytes, refused atomic.Uint64

	mu    sync.Mutex // guards everything below
	slots []byte     // UDPQueueLen slots of MaxDatagram bytes
	lens  [UDPQueueLen]int
	froms [UDPQueueLen]netip.AddrPort
	head  int // index of the oldest queued datagram
	count int // queued datagrams
	stats UDPStats
}

// UDPStats counts a UDP's traffic since it was opened.
type UDPStats struct {
	// Received and ReceivedBytes count every datagram the reader took from the socket,
	// including those then dropped as oversized or because the queue was full (an oversized
	// datagram adds MaxDatagram+1 bytes: only that much of it is read).
	Received, ReceivedBytes uint64
	// Sent and SentBytes count datagrams WriteTo handed to the kernel successfully.
	Sent, SentBytes uint64
	// DroppedFull counts datagrams dropped because UDPQueueLen datagrams were already waiting.
	DroppedFull uint64
	// Oversized counts datagrams longer than MaxDatagram, dropped on arrival.
	Oversized uint64
	// ReadErrors counts socket read errors that were ignored (e.g. ECONNREFUSED).
	ReadErrors uint64
	// Refused counts writes that failed with ECONNREFUSED (the error of an earlier datagram:
	// the peer's port was closed). WriteTo reports them as success: the datagram is lost.
	Refused uint64
	// Queued is how many datagrams are waiting for ReadFrom right now.
	Queued int
}

// ListenUDP opens a UDP socket on addr: "127.0.0.1:7000", ":7000" (all interfaces,
// dual-stack where available), "[::1]:0" (0 picks a free port), or a host name. Errors read
// "listen <addr>: ...", e.g. "listen 127.0.0.1:7000: bind: address already in use".
func ListenUDP(addr string) (*UDP, error) {
	norm, err := parseListen(addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	ua, err := net.ResolveUDPAddr("udp", norm) // norm is literal: no lookup happens here
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err // drop net's "listen udp <addr>:" prefix; ours names the address
		}
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	u := &UDP{
		conn:     conn,
		local:    unmapPort(conn.LocalAddr().(*net.UDPAddr).AddrPort()),
		readable: make(chan struct{}, 1),
		done:     make(chan struct{}),
		slots:    make([]byte, UDPQueueLen*MaxDatagram),
	}
	go u.readLoop()
	return u, nil
}

// LocalAddr returns the bound address; for ":0" it carries the port the system picked.
func (u *UDP) LocalAddr() netip.AddrPort { return u.local }

// Readable returns a channel (capacity 1) that receives a value whenever a datagram is queued.
// Several arrivals may share one signal, so on a signal read until ReadFrom reports !ok. A
// signal may also be stale (the datagram already read). The channel is never closed.
func (u *UDP) Readable() <-chan struct{} { return u.readable }

// WriteTo sends b to addr. An address of the wrong family for the socket (IPv6 on an IPv4
// socket) or an invalid one gives an error. ECONNREFUSED (left by an earlier datagram to a
// closed port) does not: the datagram counts as lost, in UDPStats.Refused.
func (u *UDP) WriteTo(b []byte, addr netip.AddrPort) error {
	if !addr.IsValid() || addr.Port() == 0 {
		return fmt.Errorf("write to %v: invalid destination address", addr)
	}
	n, err := u.conn.WriteToUDPAddrPort(b, addr)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			// A pending ICMP port-unreachable from an earlier datagram, reported here on
			// some systems: the peer is not (yet) listening. For a datagram protocol that is
			// loss, not failure.
			u.refused.Add(1)
			return nil
		}
		return err
	}
	u.sent.Add(1)
	u.sentBytes.Add(uint64(n))
	return nil
}

// ReadFrom copies the oldest queued datagram into b. It never blocks and, in steady state,
// never allocates. n is the datagram's full length; when n > len(b) only len(b) bytes were
// copied. from is unmapped: an IPv4 peer on a dual-stack socket reads as a.b.c.d:port.
func (u *UDP) ReadFrom(b []byte) (n int, from netip.AddrPort, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.count == 0 {
		return 0, netip.AddrPort{}, false
	}
	i := u.head
	n, from = u.lens[i], u.froms[i]
	copy(b, u.slots[i*MaxDatagram:i*MaxDatagram+n])
	u.head = (u.head + 1) % UDPQueueLen
	u.count--
	return n, from, true
}

// Stats returns the counters. The receive-side ones (and Queued) are a consistent snapshot.
func (u *UDP) Stats() UDPStats {
	u.mu.Lock()
	s := u.stats
	s.Queued = u.count
	u.mu.Unlock()
	s.Sent = u.sent.Load()
	s.SentBytes = u.sentBytes.Load()
	s.Refused = u.refused.Load()
	return s
}

// Close closes the socket and waits for the reader goroutine to exit. Datagrams already
// queued can still be read. Closing again returns nil.
func (u *UDP) Close() error {
	var err error
	u.close.Do(func() {
		u.closing.Store(true)
		err = u.conn.Close()
		<-u.done
	})
	return err
}

// readLoop is the reader goroutine: socket → scratch buffer → ring.
func (u *UDP) readLoop() {
	defer close(u.done)
	// One byte more than MaxDatagram: a datagram that fills it was longer than MaxDatagram
	// (the kernel truncates silently), which works on every platform without MSG_TRUNC.
	var scratch [MaxDatagram + 1]byte
	consecutiveErrs := 0
	for {
		n, from, err := u.conn.ReadFromUDPAddrPort(scratch[:])
		if err != nil {
			if u.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// ECONNREFUSED (an ICMP port-unreachable for something we sent), Windows'
			// WSAECONNRESET and the like: the socket is still good. Back off a little if
			// errors persist so a broken socket cannot spin a CPU.
			u.mu.Lock()
			u.stats.ReadErrors++
			u.mu.Unlock()
			consecutiveErrs++
			if consecutiveErrs > 16 {
				time.Sleep(time.Millisecond)
			}
			continue
		}
		consecutiveErrs = 0
		u.mu.Lock()
		u.stats.Received++
		u.stats.ReceivedBytes += uint64(n)
		switch {
		case n > MaxDatagram:
			u.stats.Oversized++
			u.mu.Unlock()
			continue
		case u.count == UDPQueueLen:
			u.stats.DroppedFull++
			u.mu.Unlock()
			continue
		}
		i := (u.head + u.count) % UDPQueueLen
		copy(u.slots[i*MaxDatagram:], scratch[:n])
		u.lens[i] = n
		u.froms[i] = unmapPort(from)
		u.count++
		u.mu.Unlock()
		select {
		case u.readable <- struct{}{}:
		default:
		}
	}
}

// unmapPort strips the IPv4-in-IPv6 mapping, so ::ffff:127.0.0.1 compares equal to 127.0.0.1.
func unmapPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
