package rtc

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// fakePath is a path whose selected pair the test sets, as ICE moving an open link from
// one pair to another would: the link's watch of its path without an ICE agent, so the
// order of pairs is the test's and not the timing of checks.
type fakePath struct {
	mu     sync.Mutex
	lt, rt CandidateType
	la, ra string
	looks  int // calls of selected
	looked chan struct{}
}

func newFakePath() *fakePath { return &fakePath{looked: make(chan struct{}, 1)} }

func (p *fakePath) set(lt, rt CandidateType, la, ra string) {
	p.mu.Lock()
	p.lt, p.rt, p.la, p.ra = lt, rt, la, ra
	p.mu.Unlock()
}

func (p *fakePath) selected() (CandidateType, CandidateType, string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.looks++
	select {
	case p.looked <- struct{}{}:
	default:
	}
	return p.lt, p.rt, p.la, p.ra
}

func (p *fakePath) lookCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.looks
}

// waitLooks waits until the link has looked at the path n more times: a look that began
// before the call may be one of them, so n = 2 makes sure one began after it.
func (p *fakePath) waitLooks(t *testing.T, n int) {
	t.Helper()
	want := p.lookCount() + n
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for p.lookCount() < want {
		select {
		case <-p.looked:
		case <-timer.C:
			t.Fatalf("the link looked at its path %d times in %v, want %d", p.lookCount(), deadline, want)
		}
	}
}

func (p *fakePath) offer() (signal, error)        { return signal{}, nil }
func (p *fakePath) answer(signal) (signal, error) { return signal{}, nil }
func (p *fakePath) accept(signal) error           { return nil }
func (p *fakePath) addCandidate(string) error     { return nil }
func (p *fakePath) write([]byte) error            { return nil }
func (p *fakePath) close() error                  { return nil }

// An open link that ICE moves from the relay to a direct pair, and back, reports each move
// as a LinkOpen event with PathChanged, and LinkInfo follows; a pair of other candidate
// types on the same path, or a pair not known for a moment, is no move; a link that failed
// reports nothing more.
func TestPathChange(t *testing.T) {
	ev := newEvents()
	c, err := New(Config{
		Member:     "a",
		Signaler:   SignalerFunc(func(to, data string) error { return nil }),
		OnEvent:    ev.on,
		ICEServers: []ICEServer{{URLs: []string{"turn:198.51.100.1:3478?transport=udp"}, Username: "u", Credential: "p"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.pathPoll = 5 * time.Millisecond // before any link opens: the watch reads it then
	p := newFakePath()
	p.set(CandidateRelay, CandidateSrflx, "198.51.100.1:50000", "203.0.113.9:4000")
	c.mu.Lock()
	l := c.newLinkLocked("b", 1, LinkICE, true)
	c.mu.Unlock()
	if err := l.setPath(p); err != nil {
		t.Fatal(err)
	}
	c.opened(l)

	// nth waits for the n-th event of b (1-based) and returns it.
	nth := func(n int) Event {
		t.Helper()
		timer := time.NewTimer(deadline)
		defer timer.Stop()
		for {
			var bs []Event
			for _, e := range ev.list() {
				if e.Member == "b" {
					bs = append(bs, e)
				}
			}
			if len(bs) >= n {
				return bs[n-1]
			}
			select {
			case <-ev.wake:
			case <-timer.C:
				t.Fatalf("%d events of b within %v, want %d: %+v", len(bs), deadline, n, bs)
			}
		}
	}
	count := func() int {
		n := 0
		for _, e := range ev.list() {
			if e.Member == "b" {
				n++
			}
		}
		return n
	}

	e := nth(1)
	if e.State != LinkOpen || e.PathChanged || e.Info.Path != PathRelayed || e.Info.Relay != "198.51.100.1:3478" {
		t.Fatalf("first event %+v, want open relayed through 198.51.100.1:3478, not a change", e)
	}

	// The direct pair's checks come back and ICE moves the link.
	p.set(CandidateSrflx, CandidatePrflx, "203.0.113.5:4000", "203.0.113.9:4001")
	e = nth(2)
	if e.State != LinkOpen || !e.PathChanged || e.Info.Path != PathDirect || e.Info.Relay != "" ||
		e.Info.Local != CandidateSrflx || e.Info.Remote != CandidatePrflx {
		t.Fatalf("second event %+v, want a change to direct srflx/prflx", e)
	}
	if in, _ := c.LinkInfo("b"); in.Path != PathDirect || in.State != LinkOpen {
		t.Fatalf("LinkInfo %+v, want open and direct", in)
	}

	// Another direct pair: LinkInfo follows, no event.
	p.set(CandidateHost, CandidateHost, "10.0.0.1:4000", "10.0.0.2:4000")
	p.waitLooks(t, 2)
	if in, _ := c.LinkInfo("b"); in.Local != CandidateHost || in.Path != PathDirect {
		t.Fatalf("LinkInfo %+v, want direct host/host", in)
	}
	// No pair for a moment: the last known path stays, no event.
	p.set(CandidateUnknown, CandidateUnknown, "", "")
	p.waitLooks(t, 2)
	if in, _ := c.LinkInfo("b"); in.Path != PathDirect {
		t.Fatalf("LinkInfo %+v, want still direct", in)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d events of b, want 2: %+v", n, ev.list())
	}

	// The direct pair stops working and ICE moves the link back to the relay.
	p.set(CandidateSrflx, CandidateRelay, "203.0.113.5:4000", "198.51.100.1:50002")
	e = nth(3)
	if !e.PathChanged || e.Info.Path != PathRelayed || e.Info.Relay != "198.51.100.1:3478" {
		t.Fatalf("third event %+v, want a change to relayed through 198.51.100.1:3478", e)
	}

	// A failed link looks no more, and its failure is its last event.
	before := p.lookCount()
	c.fail(l, errors.New("test: gone"))
	if e := nth(4); e.State != LinkFailed {
		t.Fatalf("fourth event %+v, want failed", e)
	}
	p.set(CandidateHost, CandidateHost, "10.0.0.1:4000", "10.0.0.2:4000")
	time.Sleep(20 * c.pathPoll) // 20 looks, were the link still watched
	// One look may have begun before the failure and end after it; none begins after.
	if n := p.lookCount() - before; n > 1 {
		t.Fatalf("the failed link looked at its path %d more times", n)
	}
	if n := count(); n != 4 {
		t.Fatalf("%d events of b, want 4: %+v", n, ev.list())
	}
}
