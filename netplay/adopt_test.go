package netplay_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"p2pa/netplay"
	"p2pa/transport"
)

// TestAdoptPlayerCount: a joiner that was not told how many play guesses the fewest that
// fit its seat; player 0 refuses it with the match's count, and with AdoptPlayerCount the
// joiner asks OnSetup for a game of that count, starts its handshake over, and plays the
// match to the end on everyone's checksum. OnSetup may refuse the match, a count may have
// no seat for the joiner, and without AdoptPlayerCount the refusal ends the match.
func TestAdoptPlayerCount(t *testing.T) {
	const finish = 600
	tests := []struct {
		name    string
		n       int // the match's players
		joiner  int // the seat of the joiner that guesses
		guess   int // its Session.Players
		noAdopt bool
		// describe: the joiner's game description names the count it guessed, and
		// OnSetup gives the one for the match's count (Setup.Description)
		describe bool
		// rejoin: the joiner is the restarted process of a player who dropped from the
		// match in progress; it was first started with the count
		rejoin    bool
		refuse    error  // OnSetup's answer
		setups    []int  // the counts OnSetup was asked about
		wantError string // in the joiner's Result.Err; "": every player finishes
	}{
		{name: "3 players, player 1 guesses 2", n: 3, joiner: 1, guess: 2, setups: []int{3}},
		{name: "4 players, player 2 guesses 3", n: 4, joiner: 2, guess: 3, setups: []int{4}},
		{name: "the description changes with the count", n: 3, joiner: 1, guess: 2, describe: true, setups: []int{3}},
		{name: "a restart rejoins a 3-player match", n: 3, joiner: 1, guess: 2, rejoin: true, setups: []int{3}},
		{name: "OnSetup refuses", n: 3, joiner: 1, guess: 2, refuse: errors.New("not a match for us"),
			setups: []int{3}, wantError: "not a match for us"},
		{name: "no seat", n: 3, joiner: 3, guess: 4, setups: []int{3},
			wantError: "the match has 3 players (0..2), none of them player 3: peer expects 3 players, we expect 4"},
		{name: "not adopting", n: 3, joiner: 1, guess: 2, noAdopt: true, wantError: "peer expects 3 players, we expect 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var setups []int
			guessing := func(c *netplay.Config) {
				c.Player = tc.joiner
				c.Session.Players = tc.guess
				c.Peers = make([]netip.AddrPort, tc.guess)
				c.Peers[0] = netip.MustParseAddrPort("10.0.0.1:7000")
				c.AdoptPlayerCount = !tc.noAdopt
				if tc.describe {
					c.Session.Game = fmt.Sprintf("bulky for %d", tc.guess)
				}
				c.OnSetup = func(players int) (netplay.Setup, error) {
					setups = append(setups, players)
					if tc.refuse != nil {
						return netplay.Setup{}, tc.refuse
					}
					setup := netplay.Setup{Game: newBulky(0)}
					if tc.describe {
						setup.Description = "bulky" // as newMatch's players have it
					}
					return setup, nil
				}
			}
			intruding := false // the joiner's seat is not one of the match's: it joins (Sim.Join)
			restarting := false
			m := newMatch(t, tc.n, 50, 0, transport.LinkConfig{Latency: 5 * time.Millisecond}, finish,
				func(p int, c *netplay.Config) {
					if intruding || p == tc.joiner && (!tc.rejoin || restarting) {
						guessing(c)
					}
				})
			var joiner *netplay.Runner
			switch {
			case tc.rejoin:
				m.runUntil(5*time.Second, func() bool { return m.clock.Now() >= 4*time.Second })
				m.kill(tc.joiner)
				m.runUntil(7*time.Second, func() bool { return m.clock.Now() >= 5500*time.Millisecond })
				restarting = true
				m.start(tc.joiner)
				restarting = false
				joiner = m.runners[tc.joiner]
			case tc.joiner < tc.n:
				joiner = m.runners[tc.joiner]
			default:
				intruding = true
				joiner = m.intrude(0)
				intruding = false
			}
			if tc.wantError == "" {
				m.runUntil(60*time.Second, m.allDone)
				m.checkFinished(false) // the joiner too: it played as one of tc.n
				if tc.rejoin && !joiner.Match().Rejoined() {
					t.Errorf("the restarted process did not rejoin the match: base frame %d", joiner.BaseFrame())
				}
			} else {
				m.runUntil(60*time.Second, joiner.Done)
				if res := joiner.Result(); res.Reason != netplay.EndFailed || res.Err == nil || !strings.Contains(res.Err.Error(), tc.wantError) {
					t.Errorf("the joiner: %v (err %v), want it failed saying %q", res, res.Err, tc.wantError)
				}
			}
			if diff := gocmp.Diff(tc.setups, setups); diff != "" {
				t.Errorf("OnSetup asked about (-want +got):\n%s", diff)
			}
		})
	}
}
