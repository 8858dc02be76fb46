package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Browsing is ours, not hashicorp/mdns's QueryContext: that one asks again for an instance
// each time an answer leaves it incomplete, with no limit, so a responder that answers
// every query with incomplete records drove a joiner to ~900 queries a second for its whole
// browse (issue 19). The loop below does what it did (a PTR query for the service, the
// records of each answer gathered per instance, an instance asked again while incomplete)
// with the asking again bounded by requeryLimit. hashicorp/mdns still answers queries
// (Advertise).

const (
	// requeryGap is the least time between two queries for the same incomplete instance: a
	// real responder answers in full within a round trip or two on a LAN, so asking more
	// often only adds traffic.
	requeryGap = 250 * time.Millisecond
	// maxRequeries bounds the queries for incomplete instances over one browse, whatever
	// the number of instances answers name.
	maxRequeries = 16
	// maxEntries bounds the instances one browse keeps track of: answers can name any.
	maxEntries = 64
)

// mDNS's multicast groups and port (RFC 6762).
var (
	mdnsGroup4 = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	mdnsGroup6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: 5353}
)

// entry is one instance as its answers describe it so far.
type entry struct {
	Name       string // the instance's full name, "name._p2pa._udp.local."
	Host       string
	Port       int
	AddrV4     net.IP
	AddrV6     *net.IPAddr // with the zone the answer came in on, for a link-local address
	InfoFields []string    // the TXT strings
	hasTXT     bool
}

func (e *entry) complete() bool {
	return (e.AddrV4 != nil || e.AddrV6 != nil) && e.Port != 0 && e.hasTXT
}

// requeryLimit says whether an instance whose answers are still incomplete may be asked
// about again: at most once per requeryGap each, and maxRequeries in all. Its zero value
// is ready; times are passed in.
type requeryLimit struct {
	last  map[string]time.Time
	total int
}

func (l *requeryLimit) allow(name string, now time.Time) bool {
	if l.total >= maxRequeries {
		return false
	}
	if t, ok := l.last[name]; ok && now.Sub(t) < requeryGap {
		return false
	}
	if l.last == nil {
		l.last = make(map[string]time.Time)
	}
	l.last[name] = now
	l.total++
	return true
}

// querier is one browse's query loop over one IP family, apart from its sockets (send, and
// handle for each answer), so a test can drive it with any answers and times.
type querier struct {
	suffix  string                 // "._p2pa._udp.local.": the names of instances of the service
	send    func(q *dns.Msg) error // multicasts a query
	entries map[string]*entry      // by instance name, and by host name (alias)
	order   []*entry               // each instance once, in the order first heard of
	limit   requeryLimit           // asking again about incomplete instances
	sent    int                    // queries sent, the first one included
	logf    func(string, ...any)   // the caller's logger; never nil
}

func newQuerier(svc string, send func(*dns.Msg) error, logf func(string, ...any)) *querier {
	return &querier{suffix: "." + svc + "." + domain + ".", send: send, entries: make(map[string]*entry), logf: logf}
}

// ask sends a PTR query for name (the service, or one instance).
func (q *querier) ask(name string) error {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypePTR)
	m.RecursionDesired = false
	q.sent++
	return q.send(m)
}

// get returns the entry for name, made if new and there is room; nil otherwise.
func (q *querier) get(name string) *entry {
	if e, ok := q.entries[name]; ok {
		return e
	}
	if len(q.order) >= maxEntries {
		return nil
	}
	e := &entry{Name: name}
	q.entries[name] = e
	q.order = append(q.order, e)
	return e
}

// handle takes one answer: its records fill in the instances they name, and an instance of
// the service it leaves incomplete is asked about again, within requeryLimit.
func (q *querier) handle(m *dns.Msg, from *net.UDPAddr, now time.Time) {
	var touched []*entry
	rrs := slices.Concat(m.Answer, m.Extra) // a copy: sorted below
	// Addresses last: they fill in the instance whose SRV record names their host, which
	// may come later in the same answer.
	addrLast := func(rr dns.RR) bool {
		switch rr.(type) {
		case *dns.A, *dns.AAAA:
			return true
		}
		return false
	}
	slices.SortStableFunc(rrs, func(a, b dns.RR) int {
		switch al, bl := addrLast(a), addrLast(b); {
		case al == bl:
			return 0
		case al:
			return 1
		}
		return -1
	})
	for _, rr := range rrs {
		var e *entry
		switch rr := rr.(type) {
		case *dns.PTR:
			e = q.get(rr.Ptr)
		case *dns.SRV:
			e = q.get(rr.Hdr.Name)
			if e != nil {
				e.Host, e.Port = rr.Target, int(rr.Port)
				if _, taken := q.entries[rr.Target]; !taken && rr.Target != rr.Hdr.Name {
					q.entries[rr.Target] = e // the host's A and AAAA records fill in this instance
				}
			}
		case *dns.TXT:
			e = q.get(rr.Hdr.Name)
			if e != nil {
				e.InfoFields, e.hasTXT = rr.Txt, true
			}
		case *dns.A:
			if e = q.entries[rr.Hdr.Name]; e != nil {
				e.AddrV4 = rr.A
			}
		case *dns.AAAA:
			if e = q.entries[rr.Hdr.Name]; e != nil {
				e.AddrV6 = &net.IPAddr{IP: rr.AAAA}
				if (rr.AAAA.IsLinkLocalUnicast() || rr.AAAA.IsLinkLocalMulticast()) && from != nil {
					// The zone is this machine's: take the interface the answer came in on.
					e.AddrV6.Zone = from.Zone
				}
			}
		}
		if e != nil && !containsEntry(touched, e) {
			touched = append(touched, e)
		}
	}
	for _, e := range touched {
		if e.complete() || !strings.HasSuffix(e.Name, q.suffix) || !q.limit.allow(e.Name, now) {
			continue
		}
		if err := q.ask(e.Name); err != nil {
			q.logf("mdns: asking about %q again: %v", e.Name, err)
		}
	}
}

// retry asks again about every instance of the service still incomplete, within
// requeryLimit: an answer that was lost, or one that came too soon after the last query to
// be asked about at once, is asked about at the next retry (every requeryGap).
func (q *querier) retry(now time.Time) {
	for _, e := range q.order {
		if e.complete() || !strings.HasSuffix(e.Name, q.suffix) || !q.limit.allow(e.Name, now) {
			continue
		}
		if err := q.ask(e.Name); err != nil {
			q.logf("mdns: asking about %q again: %v", e.Name, err)
		}
	}
}

func containsEntry(es []*entry, e *entry) bool {
	for _, x := range es {
		if x == e {
			return true
		}
	}
	return false
}

// complete lists the instances heard of in full, each once, in the order first heard of.
func (q *querier) complete() []*entry {
	var out []*entry
	for _, e := range q.order {
		if e.complete() {
			out = append(out, e)
		}
	}
	return out
}

// answer is one datagram received, decoded.
type answer struct {
	msg  *dns.Msg
	from *net.UDPAddr
}

// query browses for svc over one IP family (v6 false: IPv4) until timeout or ctx ends and
// returns the complete instances. Queries go out from a socket of their own (answers to
// it come unicast); multicast answers come in on the mDNS group.
func query(ctx context.Context, svc string, v6 bool, iface *net.Interface, timeout time.Duration, logf func(string, ...any)) ([]*entry, error) {
	network, group, wildcard := "udp4", mdnsGroup4, &net.UDPAddr{IP: net.IPv4zero}
	if v6 {
		network, group, wildcard = "udp6", mdnsGroup6, &net.UDPAddr{IP: net.IPv6unspecified}
	}
	uconn, err := net.ListenUDP(network, wildcard)
	if err != nil {
		return nil, fmt.Errorf("listen for answers: %w", err)
	}
	defer uconn.Close()
	mconn, err := net.ListenMulticastUDP(network, iface, group)
	if err != nil {
		return nil, fmt.Errorf("join the mDNS group: %w", err)
	}
	defer mconn.Close()
	if iface != nil {
		if v6 {
			err = ipv6.NewPacketConn(uconn).SetMulticastInterface(iface)
		} else {
			err = ipv4.NewPacketConn(uconn).SetMulticastInterface(iface)
		}
		if err != nil {
			return nil, fmt.Errorf("choose interface %s: %w", iface.Name, err)
		}
	}
	answers := make(chan answer, 32)
	done := make(chan struct{})
	defer close(done)
	for _, c := range []*net.UDPConn{uconn, mconn} {
		go receive(c, answers, done)
	}
	send := func(m *dns.Msg) error {
		b, err := m.Pack()
		if err != nil {
			return err
		}
		_, err = uconn.WriteToUDP(b, group)
		return err
	}
	q := newQuerier(svc, send, logf)
	if err := q.ask(svc + "." + domain + "."); err != nil {
		return nil, fmt.Errorf("send the query: %w", err)
	}
	finish := time.NewTimer(timeout)
	defer finish.Stop()
	retry := time.NewTicker(requeryGap)
	defer retry.Stop()
	for {
		select {
		case a := <-answers:
			q.handle(a.msg, a.from, time.Now())
		case now := <-retry.C:
			q.retry(now)
		case <-finish.C:
			return q.complete(), nil
		case <-ctx.Done():
			return q.complete(), nil
		}
	}
}

// receive hands over every datagram on c that decodes as DNS until c is closed (query's
// defers), or done.
func receive(c *net.UDPConn, answers chan<- answer, done <-chan struct{}) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // a transient error (an ICMP report, say): keep listening
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) != nil {
			continue // not DNS: anyone may send to the group
		}
		select {
		case answers <- answer{m, from}:
		case <-done:
			return
		}
	}
}
