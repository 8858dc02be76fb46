package lockstep

import (
	"net/netip"
	"testing"
	"time"
)

// TestFrozenPeerLearnsItWasDropped: peer 1 is frozen (its process stopped: it neither
// receives nor sends) for longer than DisconnectTimeout, so peer 0 drops it and ends its
// game. When peer 1 resumes, its first inputs are answered with a goodbye: it learns at
// once (within a few ticks, not after its own timeout) that the game is over, and both
// sides end on the same frame. Peer 0 either goes on running (a window that stays on its
// end screen) or has closed its session (the match is done); both answer. If peer 0 is
// gone for good (its process exited), peer 1 waits InterruptTimeout after resuming, not
// DisconnectTimeout, and then drops it, on the frame peer 0 ended at (the link loses
// nothing here).
// Timing of TestFrozenPeerLearnsItWasDropped, in ticks of frozenTick.
const (
	frozenTick     = time.Second / 60
	frozenFreezeAt = 120                  // ticks
	frozenResumeAt = frozenFreezeAt + 420 // a 7 s freeze; DisconnectTimeout is 5 s
	frozenTicks    = frozenResumeAt + 120
)

func TestFrozenPeerLearnsItWasDropped(t *testing.T) {
	for _, survivor := range []string{"running", "closed", "exited"} {
		t.Run("survivor "+survivor, func(t *testing.T) {
			f := newFrozenRun(t, survivor)
			for i := range frozenTicks {
				for p := range f.sess {
					f.tick(t, p, i)
				}
			}
			f.check(t)
		})
	}
}

// frozenDelivery is a datagram on its way to a peer.
type frozenDelivery struct {
	from int
	data []byte
}

// frozenRun is two sessions on a link, player 1 frozen (its process stopped) for longer
// than DisconnectTimeout while player 0 runs on, closes or exits (survivor).
type frozenRun struct {
	survivor string
	sess     [2]*Session
	games    [2]*toyGame
	inbox    [2][]frozenDelivery // what the link delivers to each peer at its next tick
	end      [2]Frame
	endKind  [2]EventKind
	endTick  [2]int
	closed   bool
	in       []byte
}

func newFrozenRun(t *testing.T, survivor string) *frozenRun {
	t.Helper()
	f := &frozenRun{survivor: survivor, end: [2]Frame{NullFrame, NullFrame}, endTick: [2]int{-1, -1}, in: make([]byte, 3)}
	for p := range 2 {
		addrs := []netip.AddrPort{addrOf(0), addrOf(1)}
		if p == 0 {
			addrs[1] = netip.AddrPort{} // player 0 learns player 1's address
		}
		s, err := NewSession(Config{Players: 2, InputSize: 3, Nonce: uint64(p + 1), Seed: 42}, p, addrs)
		if err != nil {
			t.Fatal(err)
		}
		f.sess[p], f.games[p] = s, &toyGame{}
	}
	return f
}

// tick runs player p's tick i.
func (f *frozenRun) tick(t *testing.T, p, i int) {
	t.Helper()
	now := time.Duration(i) * frozenTick
	s := f.sess[p]
	if p == 1 && i >= frozenFreezeAt && i < frozenResumeAt {
		return // stopped: datagrams wait in its socket buffer
	}
	if p == 0 && f.survivor == "exited" && f.endTick[0] >= 0 {
		f.inbox[0] = f.inbox[0][:0]
		return // gone: datagrams to it are lost
	}
	for _, d := range f.inbox[p] {
		s.Receive(addrOf(d.from), d.data, now)
	}
	f.inbox[p] = f.inbox[p][:0]
	if s.Running() {
		f.in[0], f.in[1] = byte(i%3), byte(p)
		_, reqs, err := s.Step(now, f.in)
		if err != nil {
			t.Fatal(err)
		}
		if err := Apply(f.games[p], reqs); err != nil {
			t.Fatal(err)
		}
	}
	out := s.Outgoing(now)
	for _, e := range s.Events() {
		if (e.Kind == EventDisconnected || e.Kind == EventPeerLeft) && f.endTick[p] < 0 {
			f.end[p], f.endKind[p], f.endTick[p] = e.Frame, e.Kind, i
		}
	}
	if p == 0 && f.survivor == "closed" && f.endTick[0] >= 0 && !f.closed {
		out = s.Close(now)
		f.closed = true
	}
	for _, d := range out {
		f.inbox[1-p] = append(f.inbox[1-p], frozenDelivery{from: p, data: append([]byte(nil), d.Data...)})
	}
}

// check checks how each peer learned of the end, and that they agree on its frame.
func (f *frozenRun) check(t *testing.T) {
	t.Helper()
	end, endKind, endTick := f.end, f.endKind, f.endTick
	if endKind[0] != EventDisconnected || endTick[0] < frozenFreezeAt || endTick[0] >= frozenResumeAt {
		t.Fatalf("peer 0: end %v at tick %d, want a disconnect during the freeze (ticks %d..%d)", endKind[0], endTick[0], frozenFreezeAt, frozenResumeAt)
	}
	if f.survivor == "exited" {
		// Nobody answers: dropped once the grace after resuming is over.
		grace := int(750*time.Millisecond/frozenTick) + 2
		if endKind[1] != EventDisconnected || endTick[1] < frozenResumeAt+grace-4 || endTick[1] > frozenResumeAt+grace {
			t.Errorf("peer 1: %v at tick %d, want a disconnect about %d ticks after resuming at %d", endKind[1], endTick[1], grace, frozenResumeAt)
		}
	} else {
		if endKind[1] != EventPeerLeft {
			t.Errorf("peer 1: ended by %v, want a goodbye (EventPeerLeft)", endKind[1])
		}
		if endTick[1] < frozenResumeAt || endTick[1] > frozenResumeAt+10 {
			t.Errorf("peer 1 learned the end at tick %d, want within 10 ticks of resuming at %d", endTick[1], frozenResumeAt)
		}
	}
	if end[0] != end[1] {
		t.Errorf("the peers end on different frames: %d and %d", end[0], end[1])
	}
	for p, s := range f.sess {
		if s.EndFrame() != end[0] {
			t.Errorf("peer %d: EndFrame %d, want %d", p, s.EndFrame(), end[0])
		}
	}
}
