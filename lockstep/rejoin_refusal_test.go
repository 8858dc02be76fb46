package lockstep

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestRejoinerAndSurvivorFull: a joiner of a 3-player match is told "match full" by player
// 1, whose seat 2 is held by another address (as a survivor between two legs of a match
// answered before it learned better). Once player 0 has taken the joiner (answered its
// handshake for the seat), a survivor's "match full" is not believed: player 0 decides the
// seats, and the survivor's next leg will answer a retry. Before player 0 has answered, the
// refusal ends the handshake as it always did. No clock but the virtual one; no randomness.
// exchange delivers at once what each session at addrs sends now, where open lets it
// through.
func exchange(sessions map[netip.AddrPort]*Session, addrs []netip.AddrPort, open func(from, to netip.AddrPort, now time.Duration) bool, now time.Duration) {
	for _, from := range addrs {
		for _, d := range sessions[from].Outgoing(now) {
			if to, ok := sessions[d.To]; ok && open(from, d.To, now) {
				to.Receive(from, append([]byte(nil), d.Data...), now)
			}
		}
	}
}

func TestRejoinerAndSurvivorFull(t *testing.T) {
	a0, a1, a2, elsewhere := nodeAddr(0), nodeAddr(1), nodeAddr(2), nodeAddr(7)
	for _, tc := range []struct {
		name      string
		hostFirst bool // player 0's answers reach the joiner before player 1's refusal
		wantFail  bool
	}{
		{"player 0 took the joiner", true, false},
		{"player 0 has not answered yet", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk := func(p int, peers []netip.AddrPort) *Session {
				s, err := NewSession(Config{Players: 3, InputSize: 1, Nonce: uint64(p)*7919 + 1}, p, peers)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			sessions := map[netip.AddrPort]*Session{
				a0: mk(0, make([]netip.AddrPort, 3)),
				a1: mk(1, []netip.AddrPort{a0, {}, elsewhere}), // seat 2: another address
				a2: mk(2, []netip.AddrPort{a0, a1, {}}),
			}
			joiner := sessions[a2]
			// open says whether a datagram between two addresses gets through now.
			open := func(from, to netip.AddrPort, now time.Duration) bool {
				if from == a1 && to == a2 || from == a2 && to == a1 {
					return !tc.hostFirst || joiner.peers[0].roundTrips > 0
				}
				if from == a0 && to == a2 || from == a2 && to == a0 {
					return tc.hostFirst || now >= 500*time.Millisecond
				}
				return true
			}
			for now := time.Millisecond; now < 2*time.Second; now += time.Millisecond {
				exchange(sessions, []netip.AddrPort{a0, a1, a2}, open, now)
			}
			failed := joiner.State() == StateFailed
			if failed != tc.wantFail {
				t.Fatalf("joiner: state %v, err %v; want failed %v", joiner.State(), joiner.Err(), tc.wantFail)
			}
			if failed && (joiner.Err() == nil || !strings.Contains(joiner.Err().Error(), "match full")) {
				t.Errorf("joiner failed with %v, want match full", joiner.Err())
			}
			if !failed && joiner.Stats(nil).Dropped.Foreign == 0 {
				t.Errorf("joiner: no refusal was received and ignored (drops %+v)", joiner.Stats(nil).Dropped)
			}
		})
	}
}
