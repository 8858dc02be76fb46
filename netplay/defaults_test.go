package netplay_test

import (
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// TestZeroConfigAgrees: two runners given no Seed and no Nonce play one game. Player 0's
// random seed reaches player 1 through the handshake, so both games start from the same,
// non-zero seed and end on the same checksum.
func TestZeroConfigAgrees(t *testing.T) {
	var seeds [2][]uint64
	x := newPair(t, 0, transport.LinkConfig{Latency: 10 * time.Millisecond}, func(p int, c *netplay.Config) {
		c.Session.Seed, c.Session.Nonce = 0, 0
		c.Game = nil
		c.NewGame = func(seed uint64) (lockstep.Game, error) {
			seeds[p] = append(seeds[p], seed)
			return &counter{total: seed}, nil
		}
		c.FinishAt = 120
	})
	x.run(t, 30*time.Second, x.bothDone)
	if len(seeds[0]) != 1 || len(seeds[1]) != 1 || seeds[0][0] != seeds[1][0] || seeds[0][0] == 0 {
		t.Fatalf("games made from seeds %v and %v; want one each, the same, not 0", seeds[0], seeds[1])
	}
	a, b := x.runners[0].Result(), x.runners[1].Result()
	if a.Reason != netplay.EndFinished || b.Reason != netplay.EndFinished || a.Frame != 120 || b.Frame != 120 || a.Checksum != b.Checksum {
		t.Fatalf("results %v and %v", a, b)
	}
}

// TestRejoinSeedGivenToPlayer0Only: player 0 was given its seed (SeedGiven) and player 1
// adopted it. Player 0's process dies and comes back with the same seed; player 1, the
// donor, resumes with the match's seed, not its own zero one, so the rejoin is accepted.
func TestRejoinSeedGivenToPlayer0Only(t *testing.T) {
	const at, back = 5 * time.Second, 2 * time.Second
	m := newMatch(t, 2, 3, 0, transport.LinkConfig{}, 900, func(p int, c *netplay.Config) {
		c.Session.Seed, c.Session.SeedGiven = 0, false
		if p == 0 {
			c.Session.Seed, c.Session.SeedGiven = 77, true
		}
	})
	m.runUntil(at, func() bool { return m.clock.Now() >= at })
	m.kill(0)
	m.runUntil(at+back, func() bool { return m.clock.Now() >= at+back })
	m.start(0)
	m.runUntil(at+back+60*time.Second, m.allDone)
	m.checkFinished(true)
}
