package discovery

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testSvc = "_p2pa._udp"

// rr parses one record in zone-file form.
func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return r
}

func msg(rrs ...dns.RR) *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	m.Answer = rrs
	return m
}

// TestRequeryLimit: an incomplete instance is asked about again at most once per
// requeryGap, and all of them at most maxRequeries times in one browse.
func TestRequeryLimit(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name  string
		asks  []string        // instance names
		at    []time.Duration // since t0, one per ask
		allow []bool
	}{
		{"one name, too soon", []string{"a", "a", "a"}, []time.Duration{0, requeryGap - 1, requeryGap}, []bool{true, false, true}},
		{"two names", []string{"a", "b", "a", "b"}, []time.Duration{0, 0, 1, requeryGap}, []bool{true, true, false, true}},
	} {
		var l requeryLimit
		for i, name := range tc.asks {
			if got := l.allow(name, t0.Add(tc.at[i])); got != tc.allow[i] {
				t.Errorf("%s: ask %d (%s at %v): %v, want %v", tc.name, i, name, tc.at[i], got, tc.allow[i])
			}
		}
	}
	var l requeryLimit
	allowed := 0
	for i := range 10 * maxRequeries {
		if l.allow(fmt.Sprint("name", i), t0.Add(time.Duration(i)*requeryGap)) {
			allowed++
		}
	}
	if allowed != maxRequeries {
		t.Errorf("%d asks allowed over a browse, want %d", allowed, maxRequeries)
	}
}

// TestRogueResponder: a responder that answers every query at once with an incomplete
// record (hashicorp/mdns asked again for each, ~900 queries a second) gets a bounded number
// of queries, however many answers it sends and however much time passes.
func TestRogueResponder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers int
		every   time.Duration // between answers
		names   int           // distinct instance names the rogue cycles through
	}{
		{"burst, one name", 10000, 0, 1},
		{"3 s at 1 ms, one name", 3000, time.Millisecond, 1},
		{"3 s at 1 ms, many names", 3000, time.Millisecond, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newQuerier(testSvc, func(*dns.Msg) error { return nil }, t.Logf)
			if err := q.ask(testSvc + ".local."); err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1000, 0)
			for i := range tc.answers {
				name := fmt.Sprintf("rogue%d.%s.local.", i%tc.names, testSvc)
				// A PTR to an instance, with no SRV, TXT or address: never complete.
				q.handle(msg(rr(t, testSvc+".local. 120 IN PTR "+name)), nil, now)
				if i%100 == 0 {
					q.retry(now) // the loop's retries come in between answers
				}
				now = now.Add(tc.every)
			}
			if limit := 1 + maxRequeries; q.sent > limit {
				t.Errorf("%d queries sent for %d incomplete answers, want at most %d", q.sent, tc.answers, limit)
			}
			if len(q.entries) > maxEntries+1 || len(q.complete()) != 0 {
				t.Errorf("%d entries kept (%d complete), want at most %d and none complete", len(q.entries), len(q.complete()), maxEntries)
			}
		})
	}
}

// TestQuerierGathers: an answer split over several datagrams, records in any order, makes
// one complete instance; the address of the SRV record's host fills it in; an incomplete
// instance is asked about again once, and not an answer about anything else.
func TestQuerierGathers(t *testing.T) {
	inst := "living-room." + testSvc + ".local."
	host := "living-room-p2pa.local."
	var asked []string
	q := newQuerier(testSvc, func(m *dns.Msg) error { asked = append(asked, m.Question[0].Name); return nil }, t.Logf)
	now := time.Unix(1000, 0)
	from := &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 5353, Zone: "eth0"}
	q.handle(msg(rr(t, "other.local. 120 IN PTR x.other.local.")), from, now)
	q.handle(msg(rr(t, host+" 120 IN AAAA fe80::2"), rr(t, inst+" 120 IN SRV 0 0 7000 "+host), rr(t, testSvc+".local. 120 IN PTR "+inst)), from, now)
	if len(asked) != 1 || asked[0] != inst {
		t.Errorf("asked about %q, want only %q", asked, inst)
	}
	q.handle(msg(rr(t, inst+` 120 IN TXT "p=2"`)), from, now.Add(time.Second))
	got := q.complete()
	if len(got) != 1 || got[0].Name != inst || got[0].Port != 7000 || got[0].AddrV6 == nil || got[0].AddrV6.Zone != "eth0" || len(got[0].InfoFields) != 1 {
		t.Fatalf("complete instances %+v, want %s on port 7000 at fe80::2%%eth0 with its TXT", got, inst)
	}
	if len(asked) != 1 {
		t.Errorf("asked again about a complete instance: %q", asked)
	}
}

// TestRetryAsksAgain: an instance left incomplete is asked about again at a retry once
// requeryGap has passed, even with no new answer (the rest of its records were lost),
// until the limit.
func TestRetryAsksAgain(t *testing.T) {
	inst := "den." + testSvc + ".local."
	var asked int
	q := newQuerier(testSvc, func(*dns.Msg) error { asked++; return nil }, t.Logf)
	now := time.Unix(1000, 0)
	q.handle(msg(rr(t, testSvc+".local. 120 IN PTR "+inst)), nil, now)
	q.retry(now.Add(requeryGap / 2))
	if asked != 1 {
		t.Errorf("%d queries after an answer and a retry within requeryGap, want 1", asked)
	}
	for i := 1; i <= 2*maxRequeries; i++ {
		q.retry(now.Add(time.Duration(i) * requeryGap))
	}
	if asked != maxRequeries {
		t.Errorf("%d queries after many retries, want the limit, %d", asked, maxRequeries)
	}
}

// FuzzQuerierHandle: whatever datagrams arrive on the mDNS group (anyone may send), the
// browse loop never panics, keeps at most maxEntries instances and sends at most
// maxRequeries queries after its first, and what it calls complete is.
func FuzzQuerierHandle(f *testing.F) {
	inst := "living-room." + testSvc + ".local."
	host := "living-room-p2pa.local."
	full := new(dns.Msg)
	full.Response = true
	for _, s := range []string{testSvc + ".local. 120 IN PTR " + inst, inst + " 120 IN SRV 0 0 7000 " + host, inst + ` 120 IN TXT "p=2"`, host + " 120 IN A 192.0.2.7"} {
		r, err := dns.NewRR(s)
		if err != nil {
			f.Fatal(err)
		}
		full.Answer = append(full.Answer, r)
	}
	b, err := full.Pack()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, uint8(3))
	f.Add(b[:len(b)/2], uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, repeat uint8) {
		var m dns.Msg
		if m.Unpack(data) != nil {
			return
		}
		q := newQuerier(testSvc, func(*dns.Msg) error { return nil }, func(string, ...any) {})
		q.sent = 1 // the first query
		now := time.Unix(1000, 0)
		for i := range int(repeat) + 1 {
			q.handle(&m, nil, now.Add(time.Duration(i)*requeryGap))
			q.retry(now.Add(time.Duration(i)*requeryGap + 1))
		}
		if q.sent > 1+maxRequeries || len(q.order) > maxEntries {
			t.Fatalf("%d queries, %d instances", q.sent, len(q.order))
		}
		for _, e := range q.complete() {
			if !e.complete() || e.Port == 0 || !e.hasTXT {
				t.Fatalf("%+v called complete", e)
			}
		}
	})
}
