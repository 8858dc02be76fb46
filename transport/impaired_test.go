package transport

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestImpairedDelaysBothDirectionsOverUDP(t *testing.T) {
	ms := time.Millisecond
	clock := &VirtualClock{}
	ua, ub := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	c := NewImpaired(ua, clock, LinkConfig{Latency: 40 * ms}, 1)
	a := c.(*Impaired)
	if a.LocalAddr() != ua.LocalAddr() {
		t.Fatalf("LocalAddr = %v, want the inner %v", a.LocalAddr(), ua.LocalAddr())
	}
	buf := make([]byte, MaxDatagram)

	// Outbound: held for 40ms of the virtual clock, then written to the socket.
	if err := a.WriteTo([]byte("ping"), ub.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if due, ok := a.NextDue(); !ok || due != 40*ms {
		t.Fatalf("NextDue = %v, %v; want 40ms", due, ok)
	}
	clock.Set(40*ms - 1)
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if s := ua.Stats(); s.Sent != 0 {
		t.Fatalf("sent before due: %+v", s)
	}
	clock.Set(40 * ms)
	if _, _, ok := a.ReadFrom(buf); ok { // flushes as a side effect
		t.Fatal("ReadFrom returned a datagram nobody sent")
	}
	if s := ua.Stats(); s.Sent != 1 {
		t.Fatalf("not sent when due: %+v", s)
	}
	if got, from := recv(t, ub); string(got) != "ping" || from != ua.LocalAddr() {
		t.Fatalf("peer got %q from %v", got, from)
	}

	// Inbound: the reply reaches the socket at once but is held 40ms from when it is pulled.
	if err := ub.WriteTo([]byte("pong"), ua.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply to reach the socket", func() bool { return ua.Stats().Queued == 1 })
	if _, _, ok := a.ReadFrom(buf); ok { // pulled at 40ms, due at 80ms
		t.Fatal("inbound datagram not delayed")
	}
	clock.Set(80*ms - 1)
	if _, _, ok := a.ReadFrom(buf); ok {
		t.Fatal("inbound datagram delivered 1ns early")
	}
	clock.Set(80 * ms) // a full round trip of 2×40ms
	n, from, ok := a.ReadFrom(buf)
	if !ok || string(buf[:n]) != "pong" || from != ub.LocalAddr() {
		t.Fatalf("at 80ms ReadFrom = %q from %v, %v", buf[:n], from, ok)
	}
	out, in := a.Stats()
	if out != (LinkStats{Sent: 1, Delivered: 1}) || in != (LinkStats{Sent: 1, Delivered: 1}) {
		t.Fatalf("stats out=%+v in=%+v", out, in)
	}
	if _, ok := a.NextDue(); ok {
		t.Fatal("NextDue with nothing held")
	}
}

func TestImpairedPerfectPassesThrough(t *testing.T) {
	ua, ub := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
	a := NewImpaired(ua, &VirtualClock{}, LinkConfig{}, 1)
	if err := a.WriteTo([]byte("now"), ub.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if s := ua.Stats(); s.Sent != 1 {
		t.Fatalf("perfect link held the datagram: %+v", s)
	}
	recv(t, ub)
	ub.WriteTo([]byte("back"), ua.LocalAddr())
	if got, _ := recv(t, a); string(got) != "back" {
		t.Fatalf("got %q", got)
	}
}

// TestImpairedShapesEachWay runs Impaired on an emulated perfect network, so the only
// impairment is Impaired's, and checks loss and jitter apply to each direction.
func TestImpairedShapesEachWay(t *testing.T) {
	ms := time.Millisecond
	clock := &VirtualClock{}
	n := NewNetwork(clock, 1)
	ea, _ := n.Listen(addrA)
	eb, _ := n.Listen(addrB)
	cfg := LinkConfig{Latency: 30 * ms, Jitter: 10 * ms, Loss: 0.1}
	a := NewImpaired(ea, clock, cfg, 99).(*Impaired)
	const total = 2000
	for i := range total {
		a.WriteTo([]byte(strconv.Itoa(i)), addrB)
		eb.WriteTo([]byte(strconv.Itoa(i)), addrA)
	}
	buf := make([]byte, MaxDatagram)
	a.ReadFrom(buf) // pull the inbound ones at t=0
	clock.Set(20*ms - 1)
	if got := len(drain(eb, clock.Now())) + len(drain(a, clock.Now())); got != 0 {
		t.Fatalf("%d delivered before latency-jitter", got)
	}
	clock.Set(40 * ms)
	a.Flush()
	gotB, gotA := len(drain(eb, clock.Now())), len(drain(a, clock.Now()))
	for _, got := range []int{gotA, gotB} {
		if got < total*85/100 || got > total*95/100 {
			t.Errorf("delivered %d of %d, want about 90%% each way", got, total)
		}
	}
	out, in := a.Stats()
	if out.Lost+out.Delivered != total || in.Lost+in.Delivered != total {
		t.Errorf("stats out=%+v in=%+v", out, in)
	}
}

func TestImpairedBoundsAndClose(t *testing.T) {
	clock := &VirtualClock{}
	n := NewNetwork(clock, 1)
	ea, _ := n.Listen(addrA)
	a := NewImpaired(ea, clock, LinkConfig{Latency: time.Second}, 1).(*Impaired)
	for range ImpairedQueueLen + 4 {
		a.WriteTo([]byte("x"), addrB)
	}
	if out, _ := a.Stats(); out.Dropped != 4 {
		t.Fatalf("out stats %+v, want 4 dropped over the bound", out)
	}
	if err := a.WriteTo([]byte("x"), netip.AddrPort{}); err == nil {
		t.Fatal("WriteTo(invalid): no error")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if out, _ := a.Stats(); out.Dropped != ImpairedQueueLen+4 {
		t.Fatalf("held datagrams not counted as dropped on Close: %+v", out)
	}
	if err := a.WriteTo([]byte("x"), addrB); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteTo after Close: %v", err)
	}
	if err := ea.WriteTo([]byte("x"), addrB); err == nil {
		t.Fatal("inner still open after Close")
	}
}

func TestNewImpairedPanicsOnInvalid(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewImpaired(nil, &VirtualClock{}, LinkConfig{Jitter: -1}, 1)
}
