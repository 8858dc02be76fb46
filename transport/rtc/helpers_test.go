package rtc

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"p2pa/transport"
)

// hub is an in-memory signaling server: each member's signals are handed to the recipient's
// HandleSignal on one goroutine per recipient, in order, as a WebSocket relay would.
type hub struct {
	mu     sync.Mutex
	queues map[string]chan [2]string // by recipient: {from, data}
	conns  map[string]*Conn
	errs   []error
	wg     sync.WaitGroup
}

func newHub() *hub {
	return &hub{queues: make(map[string]chan [2]string), conns: make(map[string]*Conn)}
}

// sender is one member's Signaler.
type sender struct {
	h    *hub
	from string
}

func (s sender) Signal(to, data string) error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	q := s.h.queues[to]
	if q == nil {
		return fmt.Errorf("hub: no member %q", to)
	}
	select {
	case q <- [2]string{s.from, data}:
		return nil
	default:
		return fmt.Errorf("hub: queue of %q full", to)
	}
}

func (h *hub) add(c *Conn) {
	q := make(chan [2]string, 1024)
	h.mu.Lock()
	h.queues[c.cfg.Member] = q
	h.conns[c.cfg.Member] = c
	h.mu.Unlock()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for m := range q {
			if err := c.HandleSignal(m[0], m[1]); err != nil && !errors.Is(err, ErrClosed) {
				h.mu.Lock()
				h.errs = append(h.errs, fmt.Errorf("%s: %w", c.cfg.Member, err))
				h.mu.Unlock()
			}
		}
	}()
}

// addSilent adds a member that takes signals and never answers.
func (h *hub) addSilent(member string) {
	q := make(chan [2]string, 1024)
	h.mu.Lock()
	h.queues[member] = q
	h.mu.Unlock()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for range q {
		}
	}()
}

// remove takes a member off the hub (its process ended); later signals to it fail.
func (h *hub) remove(member string) {
	h.mu.Lock()
	q := h.queues[member]
	delete(h.queues, member)
	delete(h.conns, member)
	if q != nil {
		close(q) // under h.mu: no Signal is sending on it
	}
	h.mu.Unlock()
}

func (h *hub) close() []error {
	h.mu.Lock()
	ms := make([]string, 0, len(h.queues))
	for m := range h.queues {
		ms = append(ms, m)
	}
	h.mu.Unlock()
	for _, m := range ms {
		h.remove(m)
	}
	h.wg.Wait()
	return h.errs
}

// events collects a Conn's events for a test to wait on.
type events struct {
	mu   sync.Mutex
	all  []Event
	wake chan struct{}
}

func newEvents() *events { return &events{wake: make(chan struct{}, 1)} }

func (e *events) on(ev Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// wait returns the first event of member, failing the test at the deadline.
func (e *events) wait(t testing.TB, member string, deadline time.Duration) Event {
	t.Helper()
	return e.waitState(t, member, deadline)
}

// waitState returns the first event of member in one of the states (any, if none given).
func (e *events) waitState(t testing.TB, member string, deadline time.Duration, states ...LinkState) Event {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		e.mu.Lock()
		for _, ev := range e.all {
			if ev.Member == member && (len(states) == 0 || slices.Contains(states, ev.State)) {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		select {
		case <-e.wake:
		case <-timer.C:
			t.Fatalf("no event for %s in %v within %v; events: %+v", member, states, deadline, e.list())
		}
	}
}

func (e *events) list() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.all...)
}

type member struct {
	c  *Conn
	ev *events
}

// newMember makes a Conn on the hub; cfg's Member, Signaler and OnEvent are filled in.
func newMember(t testing.TB, h *hub, id string, cfg Config) member {
	t.Helper()
	ev := newEvents()
	cfg.Member, cfg.Signaler, cfg.OnEvent = id, sender{h: h, from: id}, ev.on
	if cfg.Net == nil {
		cfg.IncludeLoopback = true
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.add(c)
	return member{c: c, ev: ev}
}

// exchange sends n distinct datagrams from a to b and waits until every one arrived intact
// from a's address, resending the missing ones now and then (ordering and delivery are not
// promised: datagrams).
func exchange(t testing.TB, a, b *Conn, n int, deadline time.Duration) {
	t.Helper()
	want := make(map[string]bool)
	msg := func(i int) []byte { return []byte(fmt.Sprintf("%s->%s #%d", a.cfg.Member, b.cfg.Member, i)) }
	for i := range n {
		want[string(msg(i))] = true
	}
	buf := make([]byte, transport.MaxDatagram)
	end := time.Now().Add(deadline)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for len(want) > 0 {
		if time.Now().After(end) {
			t.Fatalf("%d of %d datagrams %s -> %s missing after %v", len(want), n, a.cfg.Member, b.cfg.Member, deadline)
		}
		for i := range n {
			if m := msg(i); want[string(m)] {
				if err := a.WriteTo(m, b.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
		}
		timer.Reset(200 * time.Millisecond)
	wait:
		for {
			select {
			case <-b.Readable():
				for {
					k, from, ok := b.ReadFrom(buf)
					if !ok {
						break
					}
					if from != a.LocalAddr() {
						continue // another member's traffic
					}
					if !bytes.HasPrefix(buf[:k], []byte(a.cfg.Member+"->")) {
						t.Fatalf("datagram from %v reads %q", from, buf[:k])
					}
					delete(want, string(buf[:k]))
				}
				if len(want) == 0 {
					break wait
				}
			case <-timer.C:
				break wait
			}
		}
	}
}

func mustAddr(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
