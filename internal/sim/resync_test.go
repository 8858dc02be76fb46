package sim

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/internal/diverge"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// divergeEach makes each player of games diverge as its game there says (its State is
// filled in).
func divergeEach(games map[int]diverge.Game) func(int, int, *game.State) lockstep.Game {
	return func(p, _ int, st *game.State) lockstep.Game {
		g, ok := games[p]
		if !ok {
			return st
		}
		g.State = st
		return &g
	}
}

// TestResyncScenarios: with 2, 3 and 4 players over links that lose 5%, one peer's game
// diverges, and later two peers' (each nudging another coin, so their states differ from
// each other too). Each divergence is found at the next checksum frame
// and resynced once (every peer reports a resync of each player that differed, at that
// frame), and the match ends with every peer on the same checksum: Compare agrees on
// every frame but those the resynced processes played on their wrong states.
func TestResyncScenarios(t *testing.T) {
	for _, tc := range []struct {
		players int
		games   map[int]diverge.Game // player: how its game diverges
		want    map[lockstep.Frame][]int
	}{
		{2, map[int]diverge.Game{1: {At: 360, More: []int32{960}}, 0: {At: 960, Coin: 1}},
			map[lockstep.Frame][]int{360: {1}, 960: {1}}},
		{3, map[int]diverge.Game{2: {At: 360, More: []int32{960}}, 1: {At: 960, Coin: 1}},
			map[lockstep.Frame][]int{360: {2}, 960: {1, 2}}},
		{4, map[int]diverge.Game{3: {At: 360}, 1: {At: 960}, 2: {At: 960, Coin: 1}},
			map[lockstep.Frame][]int{360: {3}, 960: {1, 2}}},
	} {
		t.Run(strings.Repeat("p", tc.players), func(t *testing.T) {
			t.Parallel()
			mode := game.Classic
			if tc.players > 2 {
				mode = game.Versus
			}
			s, err := New(Scenario{
				Players: tc.players, Frames: 1500, Seed: uint64(40 + tc.players),
				Link: transport.LinkConfig{Latency: 20 * time.Millisecond, Loss: 0.05},
			}, Coins{Mode: mode, Wrap: divergeEach(tc.games)})
			if err != nil {
				t.Fatal(err)
			}
			rep := s.Run()
			if rep.Err != nil {
				t.Fatalf("seed %d: %v", s.Scenario.Seed, rep.Err)
			}
			checkResyncs(t, s, tc.want)
		})
	}
}

// checkResyncs checks that every peer reported exactly the resyncs in want (by frame: the
// players that differed) and ended on the same checksum as the others: that of the
// latest frame every peer recorded, near the end.
func checkResyncs(t *testing.T, s *Sim, want map[lockstep.Frame][]int) {
	t.Helper()
	for _, p := range s.Peers {
		got := map[lockstep.Frame][]int{}
		for _, e := range p.Events {
			switch e.Kind {
			case lockstep.EventResync:
				got[e.Frame] = append(got[e.Frame], e.Player)
			case lockstep.EventDesync:
				t.Errorf("player %d: %v", p.Player, e)
			}
		}
		for f := range got {
			slices.Sort(got[f])
		}
		if !mapsEqual(got, want) {
			t.Errorf("player %d: resyncs %v, want %v", p.Player, got, want)
		}
	}
	end := lockstep.Frame(s.Scenario.Frames)
	for f := end; f > end-60; f-- {
		sums := make([]uint64, 0, len(s.Peers))
		for _, p := range s.Peers {
			if sum, ok := p.Checksum(f); ok {
				sums = append(sums, sum)
			}
		}
		if len(sums) < len(s.Peers) {
			continue
		}
		for i, sum := range sums {
			if sum != sums[0] {
				t.Errorf("frame %d, the last all recorded: player %d has %016x, player 0 %016x", f, i, sum, sums[0])
			}
		}
		t.Logf("every peer ends on %016x at frame %d", sums[0], f)
		return
	}
	t.Errorf("no frame of the last second was recorded by every peer")
}

func mapsEqual(a, b map[lockstep.Frame][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestResyncRecurringEnds is the negative control: a game that diverges every 60 frames
// is resynced three times, and the fourth desync within a minute ends the match on both
// sides as a desync, saying the game is not deterministic.
func TestResyncRecurringEnds(t *testing.T) {
	t.Parallel()
	s, err := New(Scenario{Frames: 1500, Seed: 77,
		Link: transport.LinkConfig{Latency: 20 * time.Millisecond, Loss: 0.05}},
		Coins{Wrap: func(p, _ int, st *game.State) lockstep.Game {
			if p == 1 {
				return &diverge.Game{State: st, At: 360, Every: 60}
			}
			return st
		}})
	if err != nil {
		t.Fatal(err)
	}
	rep := s.Run()
	if rep.Err == nil {
		t.Fatal("the match did not end on the desync")
	}
	for _, p := range s.Peers {
		if n := p.Count(lockstep.EventResync); n != 3 {
			t.Errorf("player %d: %d resyncs, want 3", p.Player, n)
		}
		err := p.Runner.Session().Err()
		if !errors.Is(err, lockstep.ErrDesync) || !strings.Contains(err.Error(), "the game is not deterministic") {
			t.Errorf("player %d: %v", p.Player, err)
		}
		if p.Runner.Done() && p.Runner.Result().Reason != netplay.EndDesync {
			t.Errorf("player %d ended: %v", p.Player, p.Runner.Result().Reason)
		}
	}
}
