package rtc

import (
	"errors"
	"testing"
	"time"
)

const deadline = 20 * time.Second // generous: the machine is shared

func TestLinkKinds(t *testing.T) {
	for _, tc := range []struct {
		name       string
		offer, ans LinkKind // Config.Link of the offerer and the answerer
		want       LinkKind
	}{
		{"native pair: ICE-only", LinkAuto, LinkAuto, LinkICE},
		{"both data channels", LinkDataChannel, LinkDataChannel, LinkDataChannel},
		{"native offers ICE, answerer turns it into a data channel", LinkAuto, LinkDataChannel, LinkDataChannel},
		{"data-channel offer to a native member", LinkDataChannel, LinkAuto, LinkDataChannel},
		{"ICE only both", LinkICE, LinkICE, LinkICE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub()
			a := newMember(t, h, "a", Config{Link: tc.offer})
			b := newMember(t, h, "b", Config{Link: tc.ans})
			defer func() {
				for _, err := range []error{a.c.Close(), b.c.Close()} {
					if err != nil {
						t.Error(err)
					}
				}
				for _, err := range h.close() {
					t.Error(err)
				}
			}()
			if err := a.c.Connect("b"); err != nil {
				t.Fatal(err)
			}
			ea, eb := a.ev.wait(t, "b", deadline), b.ev.wait(t, "a", deadline)
			for _, e := range []Event{ea, eb} {
				if e.State != LinkOpen || e.Info.Kind != tc.want || e.Info.Path != PathDirect {
					t.Fatalf("event %+v, want open %s direct", e, tc.want)
				}
			}
			t.Logf("a: %+v", ea.Info)
			t.Logf("b: %+v", eb.Info)
			exchange(t, a.c, b.c, 50, deadline)
			exchange(t, b.c, a.c, 50, deadline)
			if info, ok := a.c.LinkInfo("b"); !ok || info.State != LinkOpen || info.Addr != AddrOf("b") {
				t.Fatalf("LinkInfo(b) = %+v, %v", info, ok)
			}
		})
	}
}

// No common link kind: an ICE-only member and a data-channel-only one fail at once, on both
// sides, with a reason.
func TestNoCommonKind(t *testing.T) {
	h := newHub()
	a := newMember(t, h, "a", Config{Link: LinkICE})
	b := newMember(t, h, "b", Config{Link: LinkDataChannel})
	defer func() {
		a.c.Close()
		b.c.Close()
		h.close() // b's HandleSignal reported the refusal: expected
	}()
	if err := a.c.Connect("b"); err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{a.ev.wait(t, "b", deadline), b.ev.wait(t, "a", deadline)} {
		if e.State != LinkFailed && e.State != LinkClosed {
			t.Fatalf("event %+v, want failed or closed", e)
		}
		if e.Err == nil {
			t.Fatalf("event %+v without a reason", e)
		}
	}
}

func TestWriteWithoutLinkIsDropped(t *testing.T) {
	h := newHub()
	a := newMember(t, h, "a", Config{})
	defer func() {
		if err := a.c.Close(); err != nil {
			t.Error(err)
		}
		h.close()
	}()
	for _, to := range []string{"nobody", "b"} {
		if err := a.c.WriteTo([]byte("x"), AddrOf(to)); err != nil {
			t.Fatalf("WriteTo(%s) = %v, want a silent drop", to, err)
		}
	}
	if err := a.c.WriteTo([]byte("x"), mustAddr("127.0.0.1:7000")); err != nil {
		t.Fatal(err)
	}
	if s := a.c.Stats(); s.DroppedNoLink != 3 || s.Sent != 0 {
		t.Fatalf("stats %+v, want 3 dropped, 0 sent", s)
	}
	if _, _, ok := a.c.ReadFrom(make([]byte, 10)); ok {
		t.Fatal("ReadFrom on an idle Conn returned a datagram")
	}
	if err := a.c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.c.WriteTo([]byte("x"), AddrOf("b")); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteTo after Close = %v", err)
	}
	if err := a.c.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

// A member that closes and comes back as a new member (a restarted process gets a new id)
// is reached on a new link at a new address; the old address drops datagrams.
func TestRestartedMember(t *testing.T) {
	for _, kind := range []LinkKind{LinkAuto, LinkDataChannel} {
		t.Run(kind.String(), func(t *testing.T) {
			h := newHub()
			a := newMember(t, h, "a", Config{Link: kind})
			b := newMember(t, h, "b", Config{Link: kind})
			defer func() {
				a.c.Close()
				for _, err := range h.close() {
					t.Error(err)
				}
			}()
			if err := b.c.Connect("a"); err != nil { // the newcomer offers
				t.Fatal(err)
			}
			if e := a.ev.wait(t, "b", deadline); e.State != LinkOpen {
				t.Fatalf("event %+v", e)
			}
			exchange(t, b.c, a.c, 10, deadline)
			if err := b.c.Close(); err != nil {
				t.Fatal(err)
			}
			h.remove("b")
			if e := a.ev.waitState(t, "b", deadline, LinkClosed, LinkFailed); e.State != LinkClosed {
				t.Fatalf("after b closed: event %+v, want closed", e)
			}
			if err := a.c.Forget("b"); err != nil {
				t.Fatal(err)
			}
			if _, ok := a.c.LinkInfo("b"); ok {
				t.Fatal("a forgotten member still has a link")
			}

			b2 := newMember(t, h, "b2", Config{Link: kind})
			defer b2.c.Close()
			if err := b2.c.Connect("a"); err != nil {
				t.Fatal(err)
			}
			if e := a.ev.wait(t, "b2", deadline); e.State != LinkOpen {
				t.Fatalf("event %+v", e)
			}
			exchange(t, a.c, b2.c, 10, deadline)
			exchange(t, b2.c, a.c, 10, deadline)
			before := a.c.Stats().DroppedNoLink
			if err := a.c.WriteTo([]byte("to the old b"), AddrOf("b")); err != nil {
				t.Fatal(err)
			}
			if got := a.c.Stats().DroppedNoLink; got != before+1 {
				t.Fatalf("DroppedNoLink %d, want %d", got, before+1)
			}
		})
	}
}

// Both members offer at once: the smaller id's offer wins and one link opens.
func TestGlare(t *testing.T) {
	h := newHub()
	a := newMember(t, h, "a", Config{})
	b := newMember(t, h, "b", Config{})
	defer func() {
		a.c.Close()
		b.c.Close()
		for _, err := range h.close() {
			t.Error(err)
		}
	}()
	errs := make(chan error, 2)
	go func() { errs <- a.c.Connect("b") }()
	go func() { errs <- b.c.Connect("a") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	ea, eb := a.ev.wait(t, "b", deadline), b.ev.wait(t, "a", deadline)
	if ea.State != LinkOpen || eb.State != LinkOpen {
		t.Fatalf("events %+v / %+v", ea, eb)
	}
	exchange(t, a.c, b.c, 10, deadline)
	exchange(t, b.c, a.c, 10, deadline)
}

// Three members, each newcomer connecting to those already there: a full mesh.
func TestThreeMembers(t *testing.T) {
	h := newHub()
	ids := []string{"p0", "p1", "p2"}
	kinds := []LinkKind{LinkAuto, LinkAuto, LinkDataChannel}
	var ms []member
	defer func() {
		for _, m := range ms {
			m.c.Close()
		}
		for _, err := range h.close() {
			t.Error(err)
		}
	}()
	for i, id := range ids {
		ms = append(ms, newMember(t, h, id, Config{Link: kinds[i]}))
		for j := range i {
			if err := ms[i].c.Connect(ids[j]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range ms {
		for j := range ms {
			if i == j {
				continue
			}
			e := ms[i].ev.wait(t, ids[j], deadline)
			want := LinkICE
			if kinds[i] == LinkDataChannel || kinds[j] == LinkDataChannel {
				want = LinkDataChannel
			}
			if e.State != LinkOpen || e.Info.Kind != want {
				t.Fatalf("%s's event for %s: %+v, want open %s", ids[i], ids[j], e, want)
			}
			exchange(t, ms[i].c, ms[j].c, 5, deadline)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	sig := sender{h: newHub(), from: "a"}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no member", Config{Signaler: sig}},
		{"no signaler", Config{Member: "a"}},
		{"bad link kind", Config{Member: "a", Signaler: sig, Link: LinkDataChannel + 1}},
		{"keepalive too slow", Config{Member: "a", Signaler: sig, Timeouts: Timeouts{Keepalive: 5 * time.Second, Disconnected: time.Second}}},
		{"bad ICE server", Config{Member: "a", Signaler: sig, ICEServers: []ICEServer{{URLs: []string{"http://x"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := New(tc.cfg); err == nil {
				c.Close()
				t.Fatal("New accepted it")
			}
		})
	}
}

// A member that never answers (its signals vanish) fails the link with ErrNoAnswer at the
// Connect deadline.
func TestNoAnswer(t *testing.T) {
	h := newHub()
	a := newMember(t, h, "a", Config{Timeouts: Timeouts{Connect: 200 * time.Millisecond}})
	defer func() {
		a.c.Close()
		h.close()
	}()
	h.addSilent("silent")
	if err := a.c.Connect("silent"); err != nil {
		t.Fatal(err)
	}
	e := a.ev.waitState(t, "silent", deadline, LinkFailed, LinkOpen)
	if e.State != LinkFailed || !errors.Is(e.Err, ErrNoAnswer) {
		t.Fatalf("event %+v, want failed with ErrNoAnswer", e)
	}
}

// TestEndedLinkDrains: a member's last datagrams can be read after the news that it is
// gone (its end signal, or Forget when the room says it left), as a player's goodbye was
// in rooms; the link goes on delivering them until drainWait passes, sends nothing more,
// and its path is released then, or at Close if sooner.
func TestEndedLinkDrains(t *testing.T) {
	for _, kind := range []LinkKind{LinkAuto, LinkDataChannel} {
		for _, how := range []string{"end signal then forget", "forget", "released after the wait"} {
			t.Run(kind.String()+"/"+how, func(t *testing.T) {
				h := newHub()
				a := newMember(t, h, "a", Config{Link: kind})
				b := newMember(t, h, "b", Config{Link: kind})
				defer func() {
					b.c.Close()
					for _, err := range h.close() {
						t.Error(err)
					}
				}()
				// Long enough for the exchange below on a loaded machine; the last case
				// waits for the release instead.
				a.c.drainFor = deadline
				if how == "released after the wait" {
					a.c.drainFor = 50 * time.Millisecond
				}
				if err := b.c.Connect("a"); err != nil {
					t.Fatal(err)
				}
				if e := a.ev.wait(t, "b", deadline); e.State != LinkOpen {
					t.Fatalf("event %+v", e)
				}
				a.c.mu.RLock()
				l := a.c.links["b"]
				a.c.mu.RUnlock()
				if how == "end signal then forget" {
					// As if b had closed, but its side stays open to send after the news.
					data, err := signal{Type: sigEnd, Token: l.token}.encode()
					if err != nil {
						t.Fatal(err)
					}
					if err := (sender{h: h, from: "b"}).Signal("a", data); err != nil {
						t.Fatal(err)
					}
					if e := a.ev.waitState(t, "b", deadline, LinkClosed, LinkFailed); e.State != LinkClosed {
						t.Fatalf("after b's end signal: event %+v, want closed", e)
					}
				}
				// The room's news that b left comes after its end signal: still draining.
				if err := a.c.Forget("b"); err != nil {
					t.Fatal(err)
				}
				closed := func() bool {
					l.mu.Lock()
					defer l.mu.Unlock()
					return l.closed
				}
				if how == "released after the wait" {
					for end := time.Now().Add(deadline); !closed(); time.Sleep(10 * time.Millisecond) {
						if time.Now().After(end) {
							t.Fatalf("the forgotten link is still open %v after a drain of %v", deadline, a.c.drainFor)
						}
					}
					a.c.mu.RLock()
					n := len(a.c.draining)
					a.c.mu.RUnlock()
					if n != 0 {
						t.Errorf("%d links still draining after the release", n)
					}
					return
				}
				exchange(t, b.c, a.c, 10, deadline)
				before := a.c.Stats().DroppedNoLink
				if err := a.c.WriteTo([]byte("x"), AddrOf("b")); err != nil {
					t.Fatal(err)
				}
				if got := a.c.Stats().DroppedNoLink; got != before+1 {
					t.Errorf("a datagram to a draining link: DroppedNoLink %d, want %d", got, before+1)
				}
				if closed() {
					t.Fatal("the link closed before its drain ended")
				}
				if err := a.c.Close(); err != nil {
					t.Fatal(err)
				}
				if !closed() {
					t.Error("Close left a draining link open")
				}
			})
		}
	}
}
