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
func TestFrozenPeerLearnsItWasDropped(t *testing.T) {
	const (
		tick     = time.Second / 60
		freezeAt = 120            // ticks
		resumeAt = freezeAt + 420 // a 7 s freeze; DisconnectTimeout is 5 s
		ticks    = resumeAt + 120
	)
	for _, survivor := range []string{"running", "closed", "exited"} {
		t.Run("survivor "+survivor, func(t *testing.T) {
			var sess [2]*Session
			var games [2]*toyGame
			for p := range 2 {
				addrs := []netip.AddrPort{addrOf(0), addrOf(1)}
				if p == 0 {
					addrs[1] = netip.AddrPort{} // player 0 learns player 1's address
				}
				s, err := NewSession(Config{Players: 2, InputSize: 3, Nonce: uint64(p + 1), Seed: 42}, p, addrs)
				if err != nil {
					t.Fatal(err)
				}
				sess[p], games[p] = s, &toyGame{}
			}
			type delivery struct {
				from int
				data []byte
			}
			var inbox [2][]delivery // what the link delivers to each peer at its next tick
			end := [2]Frame{NullFrame, NullFrame}
			var endKind [2]EventKind
			endTick := [2]int{-1, -1}
			closed := false
			in := make([]byte, 3)
			for i := range ticks {
				now := time.Duration(i) * tick
				for p, s := range sess {
					if p == 1 && i >= freezeAt && i < resumeAt {
						continue // stopped: datagrams wait in its socket buffer
					}
					if p == 0 && survivor == "exited" && endTick[0] >= 0 {
						inbox[0] = inbox[0][:0]
						continue // gone: datagrams to it are lost
					}
					for _, d := range inbox[p] {
						s.Receive(addrOf(d.from), d.data, now)
					}
					inbox[p] = inbox[p][:0]
					if s.Running() {
						in[0], in[1] = byte(i%3), byte(p)
						r, err := s.Step(now, in)
						if err != nil {
							t.Fatal(err)
						}
						if err := Apply(games[p], r.Requests); err != nil {
							t.Fatal(err)
						}
					}
					out := s.Outgoing(now)
					for _, e := range s.Events() {
						if (e.Kind == EventDisconnected || e.Kind == EventPeerLeft) && endTick[p] < 0 {
							end[p], endKind[p], endTick[p] = e.Frame, e.Kind, i
						}
					}
					if p == 0 && survivor == "closed" && endTick[0] >= 0 && !closed {
						out = s.Close(now)
						closed = true
					}
					for _, d := range out {
						inbox[1-p] = append(inbox[1-p], delivery{from: p, data: append([]byte(nil), d.Data...)})
					}
				}
			}
			if endKind[0] != EventDisconnected || endTick[0] < freezeAt || endTick[0] >= resumeAt {
				t.Fatalf("peer 0: end %v at tick %d, want a disconnect during the freeze (ticks %d..%d)", endKind[0], endTick[0], freezeAt, resumeAt)
			}
			if survivor == "exited" {
				// Nobody answers: dropped once the grace after resuming is over.
				grace := int(750*time.Millisecond/tick) + 2
				if endKind[1] != EventDisconnected || endTick[1] < resumeAt+grace-4 || endTick[1] > resumeAt+grace {
					t.Errorf("peer 1: %v at tick %d, want a disconnect about %d ticks after resuming at %d", endKind[1], endTick[1], grace, resumeAt)
				}
			} else {
				if endKind[1] != EventPeerLeft {
					t.Errorf("peer 1: ended by %v, want a goodbye (EventPeerLeft)", endKind[1])
				}
				if endTick[1] < resumeAt || endTick[1] > resumeAt+10 {
					t.Errorf("peer 1 learned the end at tick %d, want within 10 ticks of resuming at %d", endTick[1], resumeAt)
				}
			}
			if end[0] != end[1] {
				t.Errorf("the peers end on different frames: %d and %d", end[0], end[1])
			}
			for p, s := range sess {
				if s.EndFrame() != end[0] {
					t.Errorf("peer %d: EndFrame %d, want %d", p, s.EndFrame(), end[0])
				}
			}
		})
	}
}
