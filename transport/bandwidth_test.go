package transport

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// payload returns n bytes, so that with LinkOverhead the datagram costs n+28 on the link.
func payload(tag byte, n int) string { return string(tag) + strings.Repeat(".", n-1) }

const ms = time.Millisecond

// TestBandwidthSerialises checks the serialisation model exactly: 8,000 bit/s is 1,000 bytes
// a second, so a datagram of 72 bytes (100 with the headers) takes 100 ms to send; a burst
// queues behind the first, the link's Latency comes on top, and an idle link starts afresh.
func TestBandwidthSerialises(t *testing.T) {
	e := newEmu(t, 1)
	e.net.SetLink(addrA, addrB, LinkConfig{Rate: 8000, Latency: 30 * ms})
	for _, c := range "abc" {
		send(t, e.a, addrB, payload(byte(c), 72))
	}
	got := e.runUntil(e.b, ms, time.Second)
	send(t, e.a, addrB, payload('d', 172)) // idle again: 200 ms to send
	got = append(got, e.runUntil(e.b, ms, 2*time.Second)...)
	want := []arrival{
		{130 * ms, addrA, payload('a', 72)},
		{230 * ms, addrA, payload('b', 72)},
		{330 * ms, addrA, payload('c', 72)},
		{1230 * ms, addrA, payload('d', 172)},
	}
	// runUntil stamps arrivals with the 1 ms step they were read in: their due time here.
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(addrA)); diff != "" {
		t.Fatalf("arrivals (-want +got):\n%s", diff)
	}
	s := e.net.Stats(addrA, addrB)
	if s.Sent != 4 || s.Delivered != 4 || s.Overflowed != 0 {
		t.Errorf("stats %+v", s)
	}
	checkConservation(t, s)
	// The other direction has no rate: unaffected.
	send(t, e.b, addrA, "x")
	if got := drain(e.a, e.clock.Now()); len(got) != 1 {
		t.Errorf("reverse direction: %v, want the datagram at once", got)
	}
}

// TestBandwidthTailDrop fills a 1,600-byte queue with 200-byte datagrams: eight fit, the rest
// of the burst is dropped at the tail and counted as Overflowed, and once the link has sent
// some, new datagrams are accepted again.
func TestBandwidthTailDrop(t *testing.T) {
	e := newEmu(t, 1)
	e.net.SetLink(addrA, addrB, LinkConfig{Rate: 16000, Queue: 1600}) // 2,000 bytes a second
	for i := range 12 {
		send(t, e.a, addrB, payload(byte('a'+i), 172))
	}
	s := e.net.Stats(addrA, addrB)
	if s.Sent != 12 || s.Overflowed != 4 {
		t.Fatalf("after a burst of 12: stats %+v, want 4 overflowed", s)
	}
	e.clock.Advance(250 * ms) // 500 bytes sent: two datagrams' worth of room, and a half
	for i := range 3 {
		send(t, e.a, addrB, payload(byte('A'+i), 172))
	}
	got := payloads(e.runUntil(e.b, 10*ms, 2*time.Second))
	want := []string{}
	for i := range 8 {
		want = append(want, payload(byte('a'+i), 172))
	}
	want = append(want, payload('A', 172), payload('B', 172))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("delivered (-want +got):\n%s", diff)
	}
	s = e.net.Stats(addrA, addrB)
	if s.Overflowed != 5 {
		t.Errorf("stats %+v, want 5 overflowed", s)
	}
	checkConservation(t, s)
}

// TestBandwidthQueueBoundsDelay: however hard a sender pushes, no datagram waits longer
// than the queue takes to drain (Queue*8/Rate) plus its own sending time.
func TestBandwidthQueueBoundsDelay(t *testing.T) {
	e := newEmu(t, 3)
	const rate, queue = 32000, 10000
	e.net.SetLink(addrA, addrB, LinkConfig{Rate: rate, Queue: queue, Jitter: 5 * ms, Latency: 10 * ms, Loss: 0.05, Dup: 0.05})
	bound := time.Duration(queue*8)*time.Second/rate + 15*ms
	sentAt := map[string]time.Duration{}
	var arrivals []arrival
	for i := range 3000 {
		p := fmt.Sprintf("%05d", i) + strings.Repeat(".", 40+i%200) // unique, 45..244 bytes
		send(t, e.a, addrB, p)
		sentAt[p] = e.clock.Now()
		e.clock.Advance(4 * ms) // 250 datagrams a second: far more than the link carries
		arrivals = append(arrivals, drain(e.b, e.clock.Now())...)
	}
	arrivals = append(arrivals, e.runUntil(e.b, ms, e.clock.Now()+2*bound)...)
	if len(arrivals) == 0 {
		t.Fatal("nothing delivered")
	}
	for _, a := range arrivals {
		if d := a.At - sentAt[a.Payload]; d > bound+4*ms {
			t.Fatalf("datagram %s waited %v, more than the bound %v", a.Payload[:5], d, bound)
		}
	}
	s := e.net.Stats(addrA, addrB)
	if s.Overflowed == 0 || s.Lost == 0 || s.Duplicated == 0 {
		t.Errorf("stats %+v: want overflow, loss and duplicates all exercised", s)
	}
	checkConservation(t, s)
	// What got through is about what the link carries: at most rate plus one queue's worth.
	var bytes int
	for _, a := range arrivals {
		bytes += len(a.Payload) + LinkOverhead
	}
	seconds := e.clock.Now().Seconds()
	if limit := rate/8*seconds + queue; float64(bytes) > limit {
		t.Errorf("%d bytes delivered in %.1fs on a %d bit/s link (bound %.0f)", bytes, seconds, rate, limit)
	}
}

// TestImpairedRate: the same model through an Impaired, outbound.
func TestImpairedRate(t *testing.T) {
	e := newEmu(t, 1)
	im := NewImpaired(e.a, e.clock, LinkConfig{Rate: 8000}, 1).(*Impaired)
	for range 3 {
		if err := im.WriteTo([]byte(payload('p', 72)), addrB); err != nil {
			t.Fatal(err)
		}
	}
	var at []time.Duration
	for range 400 {
		if err := im.Flush(); err != nil {
			t.Fatal(err)
		}
		for range drain(e.b, e.clock.Now()) {
			at = append(at, e.clock.Now())
		}
		e.clock.Advance(ms)
	}
	if diff := cmp.Diff([]time.Duration{100 * ms, 200 * ms, 300 * ms}, at); diff != "" {
		t.Fatalf("arrival times (-want +got):\n%s", diff)
	}
}
