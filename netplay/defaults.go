package netplay

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	"p2pa/lockstep"
)

// random is where New draws a zero Nonce or Seed from. A test swaps in a reader that fails.
var random io.Reader = rand.Reader

// fillRandom gives a session configuration the randomness the engine cannot draw itself
// (lockstep has no global source): a zero Nonce becomes a random one on every player, and
// a zero Seed a random one on player 0.
//
// The nonce protects the match: the session nonces key every datagram, so with the same
// nonce in every run a leftover process of an earlier match would be believed. A seed
// must be the same on every peer, and the handshake makes it so: every other player adopts
// player 0's (lockstep.Config.Seed). So only player 0's seed is filled. A joiner's zero
// seed stays zero, as it is never used, except when SeedGiven says the user chose it (a
// rejoin is then refused by a match that plays another seed, so 0 must stay 0). New
// configures the first leg only: a later one has the match's seed (lockstep.Match.NextLeg).
func fillRandom(sc *lockstep.Config, player int) error {
	if sc.Nonce == 0 {
		n, err := randomUint64()
		if err != nil {
			return fmt.Errorf("netplay: a random nonce: %w", err)
		}
		sc.Nonce = n
	}
	if sc.Seed == 0 && player == 0 && !sc.SeedGiven {
		s, err := randomUint64()
		if err != nil {
			return fmt.Errorf("netplay: a random seed: %w", err)
		}
		sc.Seed = s
	}
	return nil
}

func randomUint64() (uint64, error) {
	var b [8]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
