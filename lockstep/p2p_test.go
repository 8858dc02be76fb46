package lockstep

import (
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// flight is a datagram on a fakeLink, due at a time.
type flight struct {
	at       time.Duration
	seq      int
	from, to int
	data     []byte
}

type flights []flight

func (f flights) Len() int { return len(f) }
func (f flights) Less(i, j int) bool {
	if f[i].at != f[j].at {
		return f[i].at < f[j].at
	}
	return f[i].seq < f[j].seq
}
func (f flights) Swap(i, j int) { f[i], f[j] = f[j], f[i] }
func (f *flights) Push(x any)   { *f = append(*f, x.(flight)) }
func (f *flights) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}

// fakeLink is the smallest network for the package's own tests: one-way latency, jitter and
// loss, seeded. (The full emulator lives in package transport.)
type fakeLink struct {
	latency, jitter time.Duration
	loss            float64
	rng             *rand.Rand
	q               flights
	seq             int
	cut             func(now time.Duration) bool
}

func (l *fakeLink) send(now time.Duration, from, to int, data []byte) {
	if l.cut != nil && l.cut(now) {
		return
	}
	if l.rng.Float64() < l.loss {
		return
	}
	d := l.latency
	if l.jitter > 0 {
		d += time.Duration(l.rng.Int64N(int64(2*l.jitter))) - l.jitter
	}
	l.seq++
	heap.Push(&l.q, flight{at: now + max(0, d), seq: l.seq, from: from, to: to, data: append([]byte(nil), data...)})
}

func addrOf(p int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(7000+p))
}

type simPeer struct {
	s     *Session
	g     *toyGame
	rng   *rand.Rand
	sums  map[Frame]uint64
	stall int
	gone  bool
}

type simResult struct {
	peers    []*simPeer
	maxDepth int
}

// runSim plays n sessions against each other on link for frames ticks of 1/60 s. hook, if
// set, runs before each peer's tick; it returns true to stop that peer for good.
// step runs one frame of player p with a random input, and keeps the checksums of the
// last confirmed frames. It returns the depth of the step's rollback.
func (sp *simPeer) step(t *testing.T, p int, now time.Duration, in []byte) int {
	t.Helper()
	if sp.rng.IntN(10) == 0 {
		in[0] = byte(sp.rng.IntN(3))
	}
	in[1] = byte(p)
	status, reqs, err := sp.s.Step(now, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(sp.g, reqs); err != nil {
		t.Fatal(err)
	}
	if status.Stalled() {
		sp.stall++
	}
	st := sp.s.Stats(nil)
	for f := st.ConfirmedFrame; f > st.ConfirmedFrame-3 && f >= 0; f-- {
		if sum, ok := sp.s.Checksum(f); ok {
			sp.sums[f] = sum
		}
	}
	return st.LastRollback
}

func runSim(t *testing.T, n int, link *fakeLink, ticks int, cfg Config, hook func(p int, s *Session, tick int) bool) simResult {
	t.Helper()
	var peers []*simPeer
	for p := range n {
		addrs := make([]netip.AddrPort, n)
		for q := range n {
			if p != 0 || q == 0 { // player 0 learns the others' addresses
				addrs[q] = addrOf(q)
			}
		}
		c := cfg
		c.Players, c.InputSize, c.Nonce, c.Seed = n, 3, uint64(p+1), 42
		s, err := NewSession(c, p, addrs)
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, &simPeer{s: s, g: &toyGame{}, rng: rand.New(rand.NewPCG(uint64(p), 9)), sums: map[Frame]uint64{}})
	}
	in := make([]byte, 3)
	tick := time.Second / 60
	res := simResult{peers: peers}
	for i := range ticks {
		now := time.Duration(i) * tick
		for link.q.Len() > 0 && link.q[0].at <= now {
			f := heap.Pop(&link.q).(flight)
			if !peers[f.to].gone {
				peers[f.to].s.Receive(addrOf(f.from), f.data, now)
			}
		}
		for p, sp := range peers {
			if sp.gone {
				continue
			}
			if hook != nil && hook(p, sp.s, i) {
				sp.gone = true
				continue
			}
			if sp.s.Running() {
				res.maxDepth = max(res.maxDepth, sp.step(t, p, now, in))
			}
			for _, d := range sp.s.Outgoing(now) {
				for q := range n {
					if addrOf(q) == d.To {
						link.send(now, p, q, d.Data)
					}
				}
			}
			sp.s.Events()
		}
	}
	return res
}

func TestP2PTwoPeersAgree(t *testing.T) {
	for _, tc := range []struct {
		name    string
		players int
		link    fakeLink
		delay   int
	}{
		{"perfect", 2, fakeLink{}, 0},
		{"60ms-rtt", 2, fakeLink{latency: 30 * time.Millisecond}, 0},
		{"150ms-jitter-loss", 2, fakeLink{latency: 75 * time.Millisecond, jitter: 10 * time.Millisecond, loss: 0.05}, 2},
		{"three", 3, fakeLink{latency: 20 * time.Millisecond, loss: 0.02}, 1},
		{"four", 4, fakeLink{latency: 20 * time.Millisecond, jitter: 5 * time.Millisecond}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			link := tc.link
			link.rng = rand.New(rand.NewPCG(7, 7))
			res := runSim(t, tc.players, &link, 3000, Config{InputDelay: tc.delay}, nil)
			compared := 0
			for f, sum := range res.peers[0].sums {
				for _, other := range res.peers[1:] {
					if o, ok := other.sums[f]; ok {
						compared++
						if o != sum {
							t.Fatalf("frame %d: checksums differ %x vs %x", f, sum, o)
						}
					}
				}
			}
			for i, sp := range res.peers {
				st := sp.s.Stats(nil)
				t.Logf("peer %d: frame %d confirmed %d rollbacks %d depth %d stall %d rtt %v drops %+v", i, st.Frame, st.ConfirmedFrame, st.Rollbacks, st.MaxRollbackDepth, sp.stall, st.Peers[0].RTT, st.Dropped)
				if st.Frame < 2500 {
					t.Errorf("peer %d only reached frame %d", i, st.Frame)
				}
				if sp.s.Err() != nil {
					t.Errorf("peer %d: %v", i, sp.s.Err())
				}
			}
			if compared < 1000 {
				t.Errorf("only %d checksums compared", compared)
			}
			if res.maxDepth > 8 {
				t.Errorf("rollback of %d frames, deeper than the prediction window", res.maxDepth)
			}
		})
	}
}

// TestSetInputDelayMidMatch: one peer raises its input delay mid-match and later lowers it
// below the start; the confirmed checksums still agree, the delay takes effect, and the game
// goes on.
func TestSetInputDelayMidMatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		link fakeLink
	}{
		{"perfect", fakeLink{}},
		{"lossy", fakeLink{latency: 40 * time.Millisecond, jitter: 10 * time.Millisecond, loss: 0.05}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			link := tc.link
			link.rng = rand.New(rand.NewPCG(11, 11))
			changes := map[int]int{600: 5, 1200: 0, 1800: 3} // tick -> player 1's new delay
			var ahead []int                                  // player 1's LastLocalFrame-Frame, just before each change
			res := runSim(t, 2, &link, 2400, Config{InputDelay: 2}, func(p int, s *Session, tick int) bool {
				if d, ok := changes[tick]; ok && p == 1 {
					ahead = append(ahead, int(s.LastLocalFrame()-s.Frame()))
					if err := s.SetInputDelay(d); err != nil {
						t.Fatal(err)
					}
				}
				return false
			})
			s1 := res.peers[1].s
			ahead = append(ahead, int(s1.LastLocalFrame()-s1.Frame()))
			// Before a change to d the local input runs d-1 frames past the current frame
			// (the next Step adds frame+d).
			if want := []int{1, 4, -1, 2}; !slices.Equal(ahead, want) {
				t.Errorf("player 1's local input ran %v frames ahead at the changes and the end, want %v", ahead, want)
			}
			if err := s1.SetInputDelay(MaxInputDelay + 1); err == nil {
				t.Errorf("an input delay of %d was accepted", MaxInputDelay+1)
			}
			compared := 0
			for f, sum := range res.peers[0].sums {
				if o, ok := res.peers[1].sums[f]; ok {
					compared++
					if o != sum {
						t.Fatalf("frame %d: checksums differ %x vs %x", f, sum, o)
					}
				}
			}
			for i, sp := range res.peers {
				if err := sp.s.Err(); err != nil {
					t.Errorf("peer %d: %v", i, err)
				}
				if f := sp.s.Frame(); f < 2000 {
					t.Errorf("peer %d only reached frame %d", i, f)
				}
			}
			if compared < 1000 {
				t.Errorf("only %d checksums compared", compared)
			}
		})
	}
}
