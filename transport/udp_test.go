package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func listen(t *testing.T, addr string) *UDP {
	t.Helper()
	u, err := ListenUDP(addr)
	if err != nil {
		t.Fatalf("ListenUDP(%q): %v", addr, err)
	}
	t.Cleanup(func() { u.Close() })
	return u
}

// recv waits for one datagram on c.
func recv(t *testing.T, c Conn) ([]byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, MaxDatagram)
	var n int
	var from netip.AddrPort
	waitFor(t, "a datagram", func() bool {
		var ok bool
		n, from, ok = c.ReadFrom(buf)
		return ok
	})
	return buf[:n], from
}

// to returns the loopback address a peer uses to reach u (u may be bound to a wildcard).
func to(u *UDP, loopback string) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(loopback), u.LocalAddr().Port())
}

func TestUDPRoundTrip(t *testing.T) {
	tests := []struct {
		name, listenA, listenB, loop string
	}{
		{"ipv4", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "[::1]:0", "[::1]:0", "::1"},
		{"dual-stack receiver, ipv4 sender", "127.0.0.1:0", ":0", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ListenUDP(tt.listenA)
			if err != nil && tt.name == "ipv6" {
				t.Skipf("no IPv6 loopback: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b := listen(t, tt.listenB)

			msg := []byte("hello " + tt.name)
			if err := a.WriteTo(msg, to(b, tt.loop)); err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			msg[0] = 'X' // WriteTo must have copied (sent) already
			got, from := recv(t, b)
			if string(got) != "hello "+tt.name {
				t.Errorf("got %q", got)
			}
			// Unmapped: an IPv4 sender seen on a dual-stack socket equals the plain address.
			if want := netip.MustParseAddrPort(a.LocalAddr().String()); from != want || from.Addr().Is4In6() {
				t.Errorf("from = %v, want %v", from, want)
			}
			if err := b.WriteTo([]byte("reply"), from); err != nil {
				t.Fatalf("reply: %v", err)
			}
			if got, from := recv(t, a); string(got) != "reply" || from.Port() != b.LocalAddr().Port() {
				t.Errorf("reply: got %q from %v", got, from)
			}
			sa, sb := a.Stats(), b.Stats()
			if sa.Sent != 1 || sa.SentBytes != uint64(len(msg)) || sa.Received != 1 || sb.Received != 1 || sb.Sent != 1 {
				t.Errorf("stats a=%+v b=%+v", sa, sb)
			}
		})
	}
}

func TestUDPDualStackAddrIsUnmapped(t *testing.T) {
	d := listen(t, ":0")
	a := listen(t, "127.0.0.1:0")
	if err := a.WriteTo([]byte("x"), to(d, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	_, from := recv(t, d)
	want := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", a.LocalAddr().Port()))
	if from != want {
		t.Fatalf("from = %#v, want %#v", from, want)
	}
}

func TestUDPWrongFamily(t *testing.T) {
	a := listen(t, "127.0.0.1:0")
	for _, dst := range []netip.AddrPort{
		netip.MustParseAddrPort("[::1]:9"),
		{},
		netip.MustParseAddrPort("127.0.0.1:0"),
	} {
		if err := a.WriteTo([]byte("x"), dst); err == nil {
			t.Errorf("WriteTo(%v) on an IPv4 socket: no error", dst)
		}
	}
	if s := a.Stats(); s.Sent != 0 {
		t.Errorf("Sent = %d after failed writes", s.Sent)
	}
}

func TestUDPTruncatedRead(t *testing.T) {
	a, b := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	msg := bytes.Repeat([]byte("0123456789"), 10)
	if err := a.WriteTo(msg, b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, 10)
	var n int
	waitFor(t, "datagram", func() bool {
		var ok bool
		n, _, ok = b.ReadFrom(small)
		return ok
	})
	if n != 100 || string(small) != "0123456789" {
		t.Fatalf("n = %d, buf %q; want the full length 100 and the first 10 bytes", n, small)
	}
}

func TestUDPOversizedDropped(t *testing.T) {
	a, b := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	for _, size := range []int{MaxDatagram + 1, 4000, MaxDatagram} {
		if err := a.WriteTo(make([]byte, size), b.LocalAddr()); err != nil {
			t.Fatalf("WriteTo %d bytes: %v", size, err)
		}
	}
	got, _ := recv(t, b)
	if len(got) != MaxDatagram {
		t.Fatalf("got a %d-byte datagram, want only the %d-byte one", len(got), MaxDatagram)
	}
	if s := b.Stats(); s.Oversized != 2 || s.Received != 3 || s.Queued != 0 {
		t.Fatalf("stats %+v, want 2 oversized of 3 received", s)
	}
}

func TestUDPPortInUse(t *testing.T) {
	a := listen(t, "127.0.0.1:0")
	addr := a.LocalAddr().String()
	for _, again := range []string{addr, fmt.Sprintf(":%d", a.LocalAddr().Port())} {
		u, err := ListenUDP(again)
		if err == nil {
			u.Close()
			t.Fatalf("ListenUDP(%q) with the port taken: no error", again)
		}
		msg := err.Error()
		if !errors.Is(err, syscall.EADDRINUSE) || !strings.HasPrefix(msg, "listen "+again+": ") ||
			!strings.Contains(msg, "address already in use") || strings.Count(msg, again) != 1 {
			t.Errorf("error %q: want \"listen %s: ...address already in use\" wrapping EADDRINUSE", msg, again)
		}
	}
	if _, err := ListenUDP("127.0.0.1:99999"); err == nil || !strings.HasPrefix(err.Error(), "listen 127.0.0.1:99999: ") {
		t.Errorf("bad port: error %v", err)
	}
}

func TestUDPReadable(t *testing.T) {
	a, b := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	select {
	case <-b.Readable():
		t.Fatal("Readable signalled before anything arrived")
	default:
	}
	if err := a.WriteTo([]byte("ping"), b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Readable():
	case <-time.After(10 * time.Second):
		t.Fatal("Readable not signalled within 10s")
	}
	buf := make([]byte, MaxDatagram)
	if n, _, ok := b.ReadFrom(buf); !ok || string(buf[:n]) != "ping" {
		t.Fatalf("after the signal ReadFrom = %q, %v", buf[:n], ok)
	}
	if _, _, ok := b.ReadFrom(buf); ok {
		t.Fatal("second ReadFrom found a datagram")
	}
}

func TestUDPQueueFullDropsAreCounted(t *testing.T) {
	a, b := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	const total = 5000
	for i := range total {
		if err := a.WriteTo([]byte(fmt.Sprint(i)), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if i%32 == 31 {
			// Pace the sender so the overflow happens in our queue, not in the kernel's socket
			// buffer: let the reader get within 64 datagrams (or give up after 20ms, in case
			// the kernel dropped some anyway).
			wait := time.Now().Add(20 * time.Millisecond)
			for b.Stats().Received+64 < uint64(i+1) && time.Now().Before(wait) {
				runtime.Gosched()
			}
		}
	}
	// The reader must drop (and count) everything beyond the queue.
	waitFor(t, "the queue to fill and overflow", func() bool { return b.Stats().DroppedFull > 0 })
	s := b.Stats()
	if s.Queued != UDPQueueLen {
		t.Fatalf("Queued = %d, want the bound %d", s.Queued, UDPQueueLen)
	}
	if s.Received != s.DroppedFull+uint64(s.Queued) || s.Received > total {
		t.Fatalf("stats %+v: want Received == DroppedFull + Queued <= %d", s, total)
	}
	// The queue keeps the oldest datagrams, in order.
	buf := make([]byte, MaxDatagram)
	prev := -1
	for range UDPQueueLen {
		n, _, ok := b.ReadFrom(buf)
		if !ok {
			t.Fatal("queue shorter than reported")
		}
		var i int
		fmt.Sscan(string(buf[:n]), &i)
		if i <= prev {
			t.Fatalf("datagram %d after %d", i, prev)
		}
		prev = i
	}
}

func TestUDPReadFromDoesNotAllocate(t *testing.T) {
	a, b := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	const runs = 100
	msg := []byte("steady state")
	for range runs + 1 {
		if err := a.WriteTo(msg, b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all datagrams queued", func() bool { return b.Stats().Queued == runs+1 })
	buf := make([]byte, MaxDatagram)
	if allocs := testing.AllocsPerRun(runs, func() {
		if _, _, ok := b.ReadFrom(buf); !ok {
			panic("queue empty")
		}
	}); allocs != 0 {
		t.Errorf("ReadFrom allocates %v times per call", allocs)
	}
	if allocs := testing.AllocsPerRun(runs, func() { b.ReadFrom(buf) }); allocs != 0 {
		t.Errorf("empty ReadFrom allocates %v times per call", allocs)
	}
}

// TestUDPSurvivesConnRefused sends to a closed port (ICMP port unreachable, ECONNREFUSED on
// the next read on Linux) and checks the reader keeps going.
func TestUDPSurvivesConnRefused(t *testing.T) {
	a := listen(t, "127.0.0.1:0")
	gone, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := gone.LocalAddr()
	gone.Close()
	for range 5 {
		a.WriteTo([]byte("anyone?"), dead) // an error here is fine too; a crash is not
	}
	b := listen(t, "127.0.0.1:0")
	if err := b.WriteTo([]byte("still there"), a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, _ := recv(t, a); string(got) != "still there" {
		t.Fatalf("got %q", got)
	}
}

func TestUDPCloseTwiceAndAfterClose(t *testing.T) {
	u, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := u.WriteTo([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9")); err == nil {
		t.Error("WriteTo after Close: no error")
	}
	if _, _, ok := u.ReadFrom(make([]byte, 10)); ok {
		t.Error("ReadFrom after Close found a datagram")
	}
}

func TestUDPNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := range 100 {
		u, err := ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := u.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
	var now int
	deadline := time.Now().Add(10 * time.Second)
	for now = runtime.NumGoroutine(); now > before && time.Now().Before(deadline); now = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if now > before {
		t.Fatalf("%d goroutines before, %d after 100 open/close", before, now)
	}
}
