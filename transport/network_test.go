package transport

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	addrA = netip.MustParseAddrPort("127.0.0.1:7001")
	addrB = netip.MustParseAddrPort("127.0.0.1:7002")
	addrC = netip.MustParseAddrPort("[::1]:7003")
)

// emu is a Network on a VirtualClock with endpoints at addrA, addrB and addrC.
type emu struct {
	clock   *VirtualClock
	net     *Network
	a, b, c Conn
}

func newEmu(t testing.TB, seed uint64) *emu {
	t.Helper()
	e := &emu{clock: &VirtualClock{}}
	e.net = NewNetwork(e.clock, seed)
	var err error
	if e.a, err = e.net.Listen(addrA); err != nil {
		t.Fatal(err)
	}
	if e.b, err = e.net.Listen(addrB); err != nil {
		t.Fatal(err)
	}
	if e.c, err = e.net.Listen(addrC); err != nil {
		t.Fatal(err)
	}
	return e
}

func send(t testing.TB, from Conn, to netip.AddrPort, payload string) {
	t.Helper()
	if err := from.WriteTo([]byte(payload), to); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
}

type arrival struct {
	At      time.Duration
	From    netip.AddrPort
	Payload string
}

// drain returns everything c can read now.
func drain(c Conn, now time.Duration) []arrival {
	var out []arrival
	buf := make([]byte, MaxDatagram)
	for {
		n, from, ok := c.ReadFrom(buf)
		if !ok {
			return out
		}
		out = append(out, arrival{now, from, string(buf[:n])})
	}
}

// runUntil advances the clock in steps to end, draining c at each step.
func (e *emu) runUntil(c Conn, step, end time.Duration) []arrival {
	var out []arrival
	for {
		out = append(out, drain(c, e.clock.Now())...)
		if e.clock.Now() >= end {
			return out
		}
		e.clock.Advance(step)
	}
}

func payloads(as []arrival) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Payload)
	}
	return out
}

func checkConservation(t *testing.T, s LinkStats) {
	t.Helper()
	if s.Sent+s.Duplicated != s.Delivered+s.Lost+s.Dropped+s.Overflowed {
		t.Errorf("stats %+v: Sent+Duplicated != Delivered+Lost+Dropped+Overflowed with nothing in flight", s)
	}
}

func TestNetworkPerfectLink(t *testing.T) {
	e := newEmu(t, 1)
	msg := []byte("hi")
	if err := e.a.WriteTo(msg, addrB); err != nil {
		t.Fatal(err)
	}
	msg[0] = 'X'
	got := drain(e.b, 0)
	if diff := cmp.Diff([]arrival{{0, addrA, "hi"}}, got, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
		t.Fatalf("perfect link (-want +got):\n%s", diff)
	}
	if s := e.net.Stats(addrA, addrB); s != (LinkStats{Sent: 1, Delivered: 1}) {
		t.Fatalf("stats %+v", s)
	}
	// IPv4-mapped addresses are the same endpoint.
	send(t, e.b, netip.MustParseAddrPort("[::ffff:127.0.0.1]:7001"), "mapped")
	if got := drain(e.a, 0); len(got) != 1 || got[0].From != addrB {
		t.Fatalf("mapped destination: got %+v", got)
	}
}

func TestNetworkLatencyExact(t *testing.T) {
	e := newEmu(t, 1)
	e.net.SetLink(addrA, addrB, LinkConfig{Latency: 40 * time.Millisecond})
	send(t, e.a, addrB, "t0")
	e.clock.Set(10 * time.Millisecond)
	send(t, e.a, addrB, "t10")
	send(t, e.b, addrA, "back") // the other direction is still perfect
	if got := drain(e.a, 10*time.Millisecond); len(got) != 1 {
		t.Fatalf("reverse direction should be instant, got %+v", got)
	}
	for _, step := range []struct {
		at   time.Duration
		want []string
	}{
		{40*time.Millisecond - 1, nil},
		{40 * time.Millisecond, []string{"t0"}},
		{50*time.Millisecond - 1, nil},
		{50 * time.Millisecond, []string{"t10"}},
		{time.Second, nil},
	} {
		e.clock.Set(step.at)
		if got := payloads(drain(e.b, step.at)); !slices.Equal(got, step.want) {
			t.Fatalf("at %v got %q, want %q", step.at, got, step.want)
		}
	}
}

func TestNetworkJitterBounds(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		latency, jitter time.Duration
		earliest        time.Duration // nothing before this
		latest          time.Duration // everything by this
	}{
		{40 * ms, 10 * ms, 30 * ms, 50 * ms},
		{5 * ms, 20 * ms, 0, 25 * ms}, // floored at 0
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.latency, "±", tt.jitter), func(t *testing.T) {
			e := newEmu(t, 7)
			e.net.SetLink(addrA, addrB, LinkConfig{Latency: tt.latency, Jitter: tt.jitter})
			const total = 2000
			for i := range total {
				send(t, e.a, addrB, strconv.Itoa(i))
			}
			if tt.earliest > 0 {
				e.clock.Set(tt.earliest - 1)
				if got := drain(e.b, e.clock.Now()); len(got) != 0 {
					t.Fatalf("%d delivered before latency-jitter", len(got))
				}
			}
			e.clock.Set(tt.latency)
			half := len(drain(e.b, e.clock.Now()))
			e.clock.Set(tt.latest - tt.jitter/20)
			almost := half + len(drain(e.b, e.clock.Now()))
			e.clock.Set(tt.latest)
			all := almost + len(drain(e.b, e.clock.Now()))
			if all != total {
				t.Fatalf("%d of %d delivered by latency+jitter", all, total)
			}
			// The spread is really used: about half by Latency (delay <= Latency; more when
			// the floor at 0 piles delays up there), and not all before the very end.
			lo := total * 4 / 10
			if half < lo || half > total*8/10 {
				t.Errorf("%d of %d delivered by Latency, want roughly half (>= %d)", half, total, lo)
			}
			if almost == total {
				t.Errorf("all delivered before the last 5%% of the jitter range: jitter never nears its bound")
			}
		})
	}
}

func TestNetworkLossRate(t *testing.T) {
	for _, loss := range []float64{0.05, 0.3} {
		e := newEmu(t, 42)
		e.net.SetLink(addrA, addrB, LinkConfig{Loss: loss})
		const total = 10000
		for i := range total {
			send(t, e.a, addrB, strconv.Itoa(i))
		}
		got := drain(e.b, 0)
		s := e.net.Stats(addrA, addrB)
		lost := total - len(got)
		if want := loss * total; float64(lost) < want*0.85 || float64(lost) > want*1.15 {
			t.Errorf("loss %v: lost %d of %d, want about %v", loss, lost, total, want)
		}
		if s.Lost != uint64(lost) || s.Delivered != uint64(len(got)) || s.Sent != total {
			t.Errorf("stats %+v disagree with %d delivered", s, len(got))
		}
		checkConservation(t, s)
	}
}

func TestNetworkDuplication(t *testing.T) {
	e := newEmu(t, 3)
	e.net.SetLink(addrA, addrB, LinkConfig{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Dup: 0.1})
	const total = 10000
	for i := range total {
		send(t, e.a, addrB, strconv.Itoa(i))
	}
	e.clock.Set(time.Second)
	got := drain(e.b, e.clock.Now())
	count := map[string]int{}
	for _, a := range got {
		count[a.Payload]++
	}
	dups := 0
	for i := range total {
		switch c := count[strconv.Itoa(i)]; c {
		case 1:
		case 2:
			dups++
		default:
			t.Fatalf("datagram %d delivered %d times", i, c)
		}
	}
	s := e.net.Stats(addrA, addrB)
	if dups < 850 || dups > 1150 || s.Duplicated != uint64(dups) || s.Delivered != uint64(len(got)) {
		t.Errorf("%d duplicated of %d (want about 1000); stats %+v", dups, total, s)
	}
	checkConservation(t, s)
}

// inversions counts pairs of consecutive arrivals out of send order.
func inversions(as []arrival) int {
	n := 0
	for i := 1; i < len(as); i++ {
		a, _ := strconv.Atoi(as[i-1].Payload)
		b, _ := strconv.Atoi(as[i].Payload)
		if b < a {
			n++
		}
	}
	return n
}

func TestNetworkReorder(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		cfg        LinkConfig
		wantInvert bool
	}{
		{"none", LinkConfig{Latency: 10 * ms}, false},
		{"reorder 10%", LinkConfig{Latency: 10 * ms, Reorder: 0.1}, true},
		{"reorder 10% on a zero-latency link", LinkConfig{Reorder: 0.1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEmu(t, 5)
			e.net.SetLink(addrA, addrB, tt.cfg)
			const total = 1000
			var got []arrival
			for i := range total { // one datagram per 16ms frame, like the game
				send(t, e.a, addrB, strconv.Itoa(i))
				e.clock.Advance(16 * ms)
				got = append(got, drain(e.b, e.clock.Now())...)
			}
			got = append(got, e.runUntil(e.b, ms, e.clock.Now()+time.Second)...)
			if len(got) != total {
				t.Fatalf("%d of %d delivered", len(got), total)
			}
			inv := inversions(got)
			s := e.net.Stats(addrA, addrB)
			if !tt.wantInvert {
				if inv != 0 || s.Reordered != 0 {
					t.Fatalf("%d inversions, %d reordered without Reorder", inv, s.Reordered)
				}
				return
			}
			if s.Reordered < 70 || s.Reordered > 130 {
				t.Errorf("Reordered = %d of %d, want about 100", s.Reordered, total)
			}
			if inv < int(s.Reordered)/2 {
				t.Errorf("only %d inversions for %d reordered datagrams", inv, s.Reordered)
			}
		})
	}
}

func TestNetworkOutage(t *testing.T) {
	e := newEmu(t, 9)
	e.net.SetLink(addrA, addrB, LinkConfig{Latency: 50 * time.Millisecond, Outages: []Outage{
		{time.Second, 2 * time.Second}, {2500 * time.Millisecond, 2500*time.Millisecond + 1},
	}})
	var want []string
	for i := 0; i <= 30; i++ { // sent at 0, 100ms, ..., 3s
		e.clock.Set(time.Duration(i) * 100 * time.Millisecond)
		send(t, e.a, addrB, strconv.Itoa(i))
		if (i < 10 || i >= 20) && i != 25 {
			want = append(want, strconv.Itoa(i))
		}
	}
	e.clock.Set(10 * time.Second)
	got := payloads(drain(e.b, e.clock.Now()))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("outage [1s,2s) and [2.5s,2.5s+1ns) (-want +got):\n%s", diff)
	}
	if s := e.net.Stats(addrA, addrB); s.Lost != 11 {
		t.Fatalf("Lost = %d, want 11", s.Lost)
	}
}

func TestNetworkTiesInSendOrder(t *testing.T) {
	e := newEmu(t, 1)
	e.net.SetLink(addrA, addrB, LinkConfig{Latency: 20 * time.Millisecond})
	e.net.SetLink(addrC, addrB, LinkConfig{Latency: 10 * time.Millisecond})
	var want []string
	for i := range 50 {
		send(t, e.a, addrB, "a"+strconv.Itoa(i))
		want = append(want, "a"+strconv.Itoa(i))
	}
	e.clock.Set(10 * time.Millisecond)
	for i := range 50 { // due at 20ms too: after all of a's, sent earlier
		send(t, e.c, addrB, "c"+strconv.Itoa(i))
		want = append(want, "c"+strconv.Itoa(i))
	}
	e.clock.Set(20 * time.Millisecond)
	if diff := cmp.Diff(want, payloads(drain(e.b, e.clock.Now()))); diff != "" {
		t.Fatalf("equal delivery times not in send order (-want +got):\n%s", diff)
	}
}

// transcript runs a fixed two-way session on a lossy, jittery, duplicating, reordering
// network and records every arrival.
func transcript(t testing.TB, seed uint64) []string {
	e := newEmu(t, seed)
	cfg, err := ParseNetsim("latency=30ms,jitter=15ms,loss=10%,dup=5%,reorder=5%,outage=3s-3.5s")
	if err != nil {
		t.Fatal(err)
	}
	e.net.SetLink(addrA, addrB, cfg)
	cfg.Latency = 45 * time.Millisecond
	e.net.SetLink(addrB, addrA, cfg)
	var out []string
	for i := range 300 {
		send(t, e.a, addrB, fmt.Sprintf("a%d", i))
		if i%2 == 0 {
			send(t, e.b, addrA, fmt.Sprintf("b%d", i))
		}
		e.clock.Advance(16 * time.Millisecond)
		for _, c := range []Conn{e.a, e.b} {
			for _, a := range drain(c, e.clock.Now()) {
				out = append(out, fmt.Sprintf("%v %v %s", a.At, a.From, a.Payload))
			}
		}
	}
	return out
}

func TestNetworkDeterminism(t *testing.T) {
	first, again, other := transcript(t, 1234), transcript(t, 1234), transcript(t, 1235)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Fatalf("same seed, different transcript (-first +again):\n%s", diff)
	}
	if slices.Equal(first, other) {
		t.Fatal("different seeds gave the same transcript")
	}
	if len(first) < 300 {
		t.Fatalf("transcript too short (%d) to mean anything", len(first))
	}
}

// TestNetworkDirectionsIndependent checks that traffic in other directions (B→A, C→B) does
// not change the fate of A→B datagrams.
func TestNetworkDirectionsIndependent(t *testing.T) {
	cfg := LinkConfig{Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.2, Dup: 0.1, Reorder: 0.1}
	run := func(otherTraffic bool) []string {
		e := newEmu(t, 77)
		e.net.SetLink(addrA, addrB, cfg)
		e.net.SetLink(addrB, addrA, cfg)
		e.net.SetLink(addrC, addrB, cfg)
		var fromA []string
		for i := range 500 {
			if otherTraffic {
				for j := range i % 3 {
					send(t, e.b, addrA, fmt.Sprint("b", i, j))
					send(t, e.c, addrB, fmt.Sprint("c", i, j))
				}
			}
			send(t, e.a, addrB, fmt.Sprint("a", i))
			e.clock.Advance(5 * time.Millisecond)
			drain(e.a, e.clock.Now())
			for _, a := range drain(e.b, e.clock.Now()) {
				if a.From == addrA {
					fromA = append(fromA, fmt.Sprint(a.At, " ", a.Payload))
				}
			}
		}
		return fromA
	}
	alone, busy := run(false), run(true)
	if diff := cmp.Diff(alone, busy); diff != "" {
		t.Fatalf("A→B changed when other directions carried traffic (-alone +busy):\n%s", diff)
	}
}

func TestNetworkEndpoints(t *testing.T) {
	clock := &VirtualClock{}
	n := NewNetwork(clock, 1)
	a, err := n.Listen(addrA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen(addrA); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Listen(%v): %v, want an in-use error", addrA, err)
	}
	if _, err := n.Listen(netip.AddrPort{}); err == nil {
		t.Fatal("Listen(invalid): no error")
	}
	// Port 0 picks distinct free ports.
	e1, _ := n.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	e2, _ := n.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if e1.LocalAddr().Port() == 0 || e1.LocalAddr() == e2.LocalAddr() {
		t.Fatalf("port 0 gave %v and %v", e1.LocalAddr(), e2.LocalAddr())
	}

	// Nobody listening: silently dropped, like UDP.
	send(t, a, addrB, "void")
	if s := n.Stats(addrA, addrB); s.Dropped != 1 {
		t.Fatalf("to nobody: stats %+v", s)
	}
	// Truncation reports the full length.
	send(t, a, e1.LocalAddr(), "0123456789")
	small := make([]byte, 4)
	if n, _, ok := e1.ReadFrom(small); !ok || n != 10 || string(small) != "0123" {
		t.Fatalf("truncated read: n=%d %q %v", n, small, ok)
	}
	// Closing drops what is in flight to it, frees the address, and is idempotent.
	n.SetLink(addrA, e1.LocalAddr(), LinkConfig{Latency: time.Second})
	send(t, a, e1.LocalAddr(), "in flight")
	if due, ok := n.NextDue(); !ok || due != time.Second {
		t.Fatalf("NextDue = %v, %v; want 1s", due, ok)
	}
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e1.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, ok := n.NextDue(); ok {
		t.Fatal("NextDue reports a datagram dropped by Close")
	}
	if s := n.Stats(addrA, e1.LocalAddr()); s.Dropped != 1 || s.Delivered != 1 {
		t.Fatalf("after close: stats %+v", s)
	}
	checkConservation(t, n.Stats(addrA, e1.LocalAddr()))
	if err := e1.WriteTo([]byte("x"), addrA); err == nil {
		t.Fatal("WriteTo after Close: no error")
	}
	if _, _, ok := e1.ReadFrom(small); ok {
		t.Fatal("ReadFrom after Close returned a datagram")
	}
	if _, err := n.Listen(e1.LocalAddr()); err != nil {
		t.Fatalf("re-Listen after Close: %v", err)
	}
	if err := a.WriteTo([]byte("x"), netip.AddrPort{}); err == nil {
		t.Fatal("WriteTo(invalid): no error")
	}
}

func TestNetworkInFlightBound(t *testing.T) {
	e := newEmu(t, 1)
	e.net.SetLink(addrA, addrB, LinkConfig{Latency: time.Second})
	for range MaxInFlight + 10 {
		send(t, e.a, addrB, "x")
	}
	if s := e.net.Stats(addrA, addrB); s.Dropped != 10 {
		t.Fatalf("stats %+v, want 10 dropped over the bound", s)
	}
	e.clock.Set(time.Second)
	if got := len(drain(e.b, e.clock.Now())); got != MaxInFlight {
		t.Fatalf("%d delivered, want %d", got, MaxInFlight)
	}
}

func TestNetworkSetLinkPanicsOnInvalid(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewNetwork(&VirtualClock{}, 1).SetLink(addrA, addrB, LinkConfig{Loss: 2})
}

func TestVirtualClock(t *testing.T) {
	c := NewVirtualClock(time.Second)
	c.Advance(time.Millisecond)
	if c.Now() != time.Second+time.Millisecond {
		t.Fatalf("Now = %v", c.Now())
	}
	c.Set(5)
	if c.Now() != 5 {
		t.Fatalf("Now = %v", c.Now())
	}
	r := NewRealClock()
	if d := r.Now(); d < 0 || d > time.Minute {
		t.Fatalf("RealClock.Now = %v right after creation", d)
	}
}

func BenchmarkNetworkRoundTrip(b *testing.B) {
	e := newEmu(b, 1)
	e.net.SetLink(addrA, addrB, LinkConfig{Latency: time.Millisecond, Jitter: time.Millisecond, Loss: 0.01})
	msg := make([]byte, 64)
	buf := make([]byte, MaxDatagram)
	b.ReportAllocs()
	for b.Loop() {
		e.a.WriteTo(msg, addrB)
		e.clock.Advance(2 * time.Millisecond)
		e.b.ReadFrom(buf)
	}
}
