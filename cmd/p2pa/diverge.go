//go:build p2pa_diverge

// A p2pa built with the p2pa_diverge tag has two hidden flags that make this player's game
// diverge on purpose (internal/diverge), for the process tests of resync.

package main

import (
	"flag"
	"fmt"

	"p2pa/game"
	"p2pa/internal/diverge"
	"p2pa/internal/peer"
	"p2pa/lockstep"
)

func init() {
	peer.ExtraFlags = func(fs *flag.FlagSet) func(*peer.Options) error {
		at := fs.Int("diverge-at", 0, "test build: this player's game diverges at this frame (0: never)")
		every := fs.Int("diverge-every", 0, "test build: and again every this many frames after it (0: once)")
		return func(o *peer.Options) error {
			switch {
			case *at < 0 || *every < 0:
				return fmt.Errorf("-diverge-at %d, -diverge-every %d: must not be negative", *at, *every)
			case *at == 0:
				return nil
			}
			o.WrapGame = func(st *game.State) lockstep.Game {
				return &diverge.Game{State: st, At: int32(*at), Every: int32(*every)}
			}
			return nil
		}
	}
}
