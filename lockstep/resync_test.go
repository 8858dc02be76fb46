package lockstep

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAgreedState(t *testing.T) {
	const a, b, c, d = 0xa, 0xb, 0xc, 0xd
	for _, tc := range []struct {
		name  string
		sums  []uint64 // by player; 0: not in the match
		right uint64
		donor int
	}{
		{"two players: player 0's", []uint64{a, b}, a, 0},
		{"two players, player 0 gone", []uint64{0, b, c}, b, 1},
		{"three: majority", []uint64{a, b, b}, b, 1},
		{"three: majority with player 0", []uint64{a, b, a}, a, 0},
		{"three all differ: player 0's", []uint64{a, b, c}, a, 0},
		{"four: majority of three", []uint64{a, b, b, b}, b, 1},
		{"four: two against two", []uint64{a, b, b, a}, a, 0},
		{"four: two against one and one", []uint64{a, b, c, c}, c, 2},
		{"four all differ", []uint64{d, c, b, a}, d, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sums [MaxPlayers]uint64
			var in [MaxPlayers]bool
			for p, v := range tc.sums {
				sums[p], in[p] = v, v != 0
			}
			right, donor := agreedState(&sums, &in)
			if right != tc.right || donor != tc.donor {
				t.Errorf("agreedState(%x) = %x from player %d, want %x from player %d", tc.sums, right, donor, tc.right, tc.donor)
			}
		})
	}
}

// resyncCase is a match in which some players' games diverge: faults[p] are player p's
// (frame: how much its sum is off), and want the resyncs every peer reports.
type resyncCase struct {
	name    string
	players int
	faults  map[int]map[int64]uint64
	want    []wantResync
}

type wantResync struct {
	frame     Frame
	donor     int
	receivers []int
}

// TestSessionResyncs: one and then two peers diverge, with 2, 3 and 4 players and 5% loss
// (seeded): every peer reports one resync per player that differed, from the donor the
// rule names, and the match plays on to the same checksums.
func TestSessionResyncs(t *testing.T) {
	for _, tc := range []resyncCase{
		{"2 players", 2, map[int]map[int64]uint64{1: {100: 1, 400: 5}, 0: {400: 9}},
			[]wantResync{{120, 0, []int{1}}, {420, 0, []int{1}}}},
		{"3 players", 3, map[int]map[int64]uint64{2: {100: 1, 400: 5}, 1: {400: 9}},
			[]wantResync{{120, 0, []int{2}}, {420, 0, []int{1, 2}}}},
		{"3 players, player 0 differs", 3, map[int]map[int64]uint64{0: {100: 1}},
			[]wantResync{{120, 1, []int{0}}}},
		{"4 players", 4, map[int]map[int64]uint64{3: {100: 1}, 1: {400: 5}, 2: {400: 5}},
			[]wantResync{{120, 0, []int{3}}, {420, 0, []int{1, 2}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runResyncCase(t, tc, 0x5eed+uint64(tc.players))
		})
	}
}

func runResyncCase(t *testing.T, tc resyncCase, seed uint64) {
	tn := newNet(t, tc.players, 2*tick, nil)
	rng := rand.New(rand.NewPCG(seed, 5))
	tn.filter = func(*packet) bool { return rng.IntN(100) >= 5 }
	for p, faults := range tc.faults {
		tn.nodes[p].g = &faultyGame{faults: faults}
	}
	tn.until(2*time.Second, "handshake", tn.running)
	tn.until(20*time.Second, "frame 900", func() bool {
		for _, nd := range tn.nodes {
			if nd.s.ConfirmedFrame() < 900 {
				return false
			}
		}
		return true
	})
	tn.noErrors()
	for _, nd := range tn.nodes {
		var got []wantResync
		for _, e := range nd.events {
			if e.Kind != EventResync {
				continue
			}
			if n := len(got); n > 0 && got[n-1].frame == e.Frame && got[n-1].donor == e.Donor {
				got[n-1].receivers = append(got[n-1].receivers, e.Player)
			} else {
				got = append(got, wantResync{e.Frame, e.Donor, []int{e.Player}})
			}
		}
		for _, g := range got {
			sortInts(g.receivers)
		}
		if !sameResyncs(got, tc.want) {
			t.Errorf("player %d reported resyncs %+v, want %+v", nd.player, got, tc.want)
		}
		if n := nd.count(EventDesync); n != 0 {
			t.Errorf("player %d: %d desync events", nd.player, n)
		}
	}
	// After the last resync every peer computes the same states.
	for f := Frame(600); f <= 900; f++ {
		var first uint64
		for i, nd := range tn.nodes {
			sum, ok := nd.sums[f]
			if !ok {
				t.Fatalf("player %d recorded no checksum of frame %d", nd.player, f)
			}
			if i == 0 {
				first = sum
			} else if sum != first {
				t.Fatalf("frame %d: player %d has %016x, player 0 %016x", f, nd.player, sum, first)
			}
		}
	}
}

func sortInts(v []int) {
	for i := range v {
		for j := i + 1; j < len(v); j++ {
			if v[j] < v[i] {
				v[i], v[j] = v[j], v[i]
			}
		}
	}
}

func sameResyncs(a, b []wantResync) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].frame != b[i].frame || a[i].donor != b[i].donor || len(a[i].receivers) != len(b[i].receivers) {
			return false
		}
		for j := range a[i].receivers {
			if a[i].receivers[j] != b[i].receivers[j] {
				return false
			}
		}
	}
	return true
}

// TestSessionDesyncRecurs: a game that diverges every 40 frames is resynced three times,
// and the fourth desync within a minute stops every peer with an error that says why.
func TestSessionDesyncRecurs(t *testing.T) {
	tn := newNet(t, 2, 2*tick, nil)
	tn.nodes[1].g = &faultyGame{faults: map[int64]uint64{100: 1}, first: 100, every: 40}
	tn.until(30*time.Second, "desync", func() bool {
		return tn.nodes[0].s.State() == StateDesync && tn.nodes[1].s.State() == StateDesync
	})
	for _, nd := range tn.nodes {
		if n := nd.count(EventResync); n != maxDesyncsPerMinute {
			t.Errorf("player %d: %d resyncs, want %d", nd.player, n, maxDesyncsPerMinute)
		}
		e, ok := nd.first(EventDesync)
		if !ok || e.Err == nil || !errors.Is(e.Err, ErrDesync) || !strings.Contains(e.Err.Error(), "not deterministic") {
			t.Errorf("player %d: desync event %+v", nd.player, e.Event)
		}
		if err := nd.s.Err(); !errors.Is(err, ErrDesync) || !strings.Contains(err.Error(), "4 desyncs within 1m0s: the game is not deterministic") {
			t.Errorf("player %d: Err() = %v", nd.player, err)
		}
	}
}

// TestReloadSavesItsFrame: the state a resync hands over replaces the ring's state of its
// frame too, so a later rollback to that frame (a remote input of it arrived late) starts
// from the right state rather than the wrong one it replaced.
func TestReloadSavesItsFrame(t *testing.T) {
	s := newSyncLayer(2, 1, 8, 0)
	var g toyGame
	for f := range Frame(12) {
		s.addInput(0, f, []byte{1})
		s.addInput(1, f, []byte{2})
		if err := Apply(&g, s.advance()); err != nil {
			t.Fatal(err)
		}
	}
	right := toyGame{frame: 10, sum: 12345}
	s.reload = &cell{frame: 10, state: right.SaveState(nil)}
	if err := Apply(&g, s.catchup()); err != nil {
		t.Fatal(err)
	}
	want := right
	want.AdvanceFrame([]byte{1, 2})
	want.AdvanceFrame([]byte{1, 2})
	if g != want {
		t.Fatalf("after the replay: %+v, want %+v", g, want)
	}
	s.rollbackTo(10)
	if err := Apply(&g, s.catchup()); err != nil {
		t.Fatal(err)
	}
	if g != want {
		t.Errorf("after a rollback to the resync's frame: %+v, want %+v", g, want)
	}
}

// TestSessionResyncStalls: a receiver that never gets the state (every resync chunk is
// lost) stops after DisconnectTimeout without progress, as a desync that stops does, with
// an error that says why, and reports no resync.
func TestSessionResyncStalls(t *testing.T) {
	tn := newNet(t, 2, 2*tick, nil)
	tn.nodes[1].g = &faultyGame{faults: map[int64]uint64{100: 1}}
	tn.filter = func(p *packet) bool { return msgType(p.data[1]&0x0f) != msgResync }
	tn.until(20*time.Second, "the receiver stops", func() bool { return tn.nodes[1].s.State() == StateDesync })
	err := tn.nodes[1].s.Err()
	if !errors.Is(err, ErrDesync) || !strings.Contains(err.Error(), "the resync from player 0 stalled at 0 of") {
		t.Errorf("receiver: %v", err)
	}
	e, ok := tn.nodes[1].first(EventDesync)
	if !ok || e.Err == nil || e.Frame != 120 {
		t.Errorf("receiver's desync event %+v", e.Event)
	}
	if n := tn.nodes[1].count(EventResync); n != 0 {
		t.Errorf("receiver reported %d resyncs of a state it never got", n)
	}
}

// TestDesyncErrorNamesTheMatchFrame: in a later leg of a match (a rejoin resumed it at
// frame 300), the error of a desync at the leg's frame 20 names the match's frame 320, as
// the runner's translated events and the desync dump do.
func TestDesyncErrorNamesTheMatchFrame(t *testing.T) {
	s, err := NewSession(Config{Players: 2, InputSize: 3, Nonce: 99}, 0, []netip.AddrPort{{}, nodeAddr(0)})
	if err != nil {
		t.Fatal(err)
	}
	s.resume = resumeInfo{set: true, frame: 300}
	s.stopDesync(1, 20, 0xabc, errors.New("4 desyncs within 1m0s: the game is not deterministic"))
	if err := s.Err(); !errors.Is(err, ErrDesync) || !strings.Contains(err.Error(), "at frame 320:") {
		t.Errorf("the error: %v, want one at frame 320", err)
	}
}
