package netplay

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"p2pa/lockstep"
)

// adoptNonce is mixed into the session nonce of a handshake started over with the match's
// player count, so its datagrams are not taken for the refused session's.
const adoptNonce = 0x2545f4914f6cdd1d

// adoptable reports whether err is the match refusing our handshake for the player count
// alone, which a runner with AdoptPlayerCount takes up (once): the count the match has.
func (r *Runner) adoptable(err error) (players int, ok bool) {
	var se *lockstep.SetupError
	if !r.cfg.AdoptPlayerCount || r.adopted || r.cfg.Player == 0 || r.phase != PhaseHandshake || !errors.As(err, &se) {
		return 0, false
	}
	if se.Players == se.OurPlayers || se.Players < 2 || se.Players > lockstep.MaxPlayers {
		return 0, false // a refusal for the game, or a count no match has
	}
	return se.Players, true
}

// adoptPlayerCount starts the handshake over with the match's player count n: OnSetup is
// asked for the game (and its description), and a new first leg (a session for n players, the addresses known so
// far) replaces the refused one. Nothing was played, so nothing else is carried over.
// refusal is the match's refusal, which a count with no seat for us ends the match with.
func (r *Runner) adoptPlayerCount(n int, refusal error, now time.Duration) {
	r.adopted = true
	setup, err := r.cfg.OnSetup(n)
	if err != nil {
		r.fail(EndFailed, err)
		return
	}
	if r.cfg.Player >= n {
		r.fail(EndFailed, fmt.Errorf("netplay: the match has %d players (0..%d), none of them player %d: %w", n, n-1, r.cfg.Player, refusal))
		return
	}
	sc := r.cfg.Session
	sc.Players = n
	sc.Nonce ^= adoptNonce
	if setup.Description != "" {
		sc.Game = setup.Description
	}
	peers := make([]netip.AddrPort, n)
	copy(peers, r.cfg.Peers)
	sess, err := lockstep.NewSession(sc, r.cfg.Player, peers)
	if err != nil {
		r.fail(EndFailed, fmt.Errorf("netplay: start over with %d players: %w", n, err))
		return
	}
	r.cfg.Session, r.cfg.Peers = sc, peers
	if setup.Game != nil {
		r.cfg.Game, r.game = setup.Game, setup.Game
	}
	r.match = lockstep.NewMatch(sess)
	r.inputs = make([]byte, 0, n*sc.InputSize)
	r.joining = false
	r.send(sess.Outgoing(now)) // the new handshake's first request goes out now
}
