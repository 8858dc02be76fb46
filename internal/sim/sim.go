// Package sim is the coin game on simtest, the one simulator: it fills a simtest.Scenario
// with the coin game (its mode and coins, internal/bot's seeded bots or a script, a
// wrapper for a deliberately broken game) and leaves the match to simtest: the runners,
// the emulated network, restarts and rejoins, link changes, per-frame checksums. Its tests
// are the coin game's scenarios.
//
// Two choices are the coin game's: every runner plays to Frames and holds there
// (simtest.Scenario.Hold), so the peers are compared at every frame to the end; and a
// runner reads its datagrams on its tick (simtest.OnTick), the delivery the scenarios'
// bounds and the benchmark figures (bench) were measured with. (The scenarios pass with
// simtest.OnArrival too; the departure matrix runs with both.)
package sim

import (
	"fmt"
	"time"

	"p2pa/game"
	"p2pa/internal/bot"
	"p2pa/lockstep"
	"p2pa/simtest"
)

// Tick is one frame of virtual time: the sessions' default frame duration (1/60 s).
const Tick = lockstep.DefaultFrameDuration

// The scenario's parts are simtest's.
type (
	Scenario   = simtest.Scenario
	Restart    = simtest.Restart
	LinkChange = simtest.LinkChange
	Peer       = simtest.Peer
)

// Coins is the coin game a simulated match plays.
type Coins struct {
	Mode  game.Mode
	Coins int // default game.DefaultCoins
	// Input, if set, replaces the bots: player p's input at frame f.
	Input func(player int, f lockstep.Frame) game.Input
	// Wrap, if set, may replace a process's game (a deliberately broken one, say); life is
	// the process's Peer.Life, so a restarted process can get another.
	Wrap func(player, life int, g *game.State) lockstep.Game
}

// Sim is a simulated coin-game match.
type Sim struct {
	*simtest.Sim
	Coins  Coins
	states map[*Peer]*game.State // each process's game, once its handshake is done
	bots   map[*Peer]*bot.Bot
}

// New prepares sc with the coin game c. sc's NewGame, Input, InputSize, Game, Hold and
// Delivery are filled in; MaxTime defaults to 4 × Frames + 600 frames.
func New(sc Scenario, c Coins) (*Sim, error) {
	if sc.Frames == 0 {
		sc.Frames = 600
	}
	if sc.MaxTime == 0 {
		sc.MaxTime = Tick * time.Duration(4*sc.Frames+600)
	}
	if c.Coins == 0 {
		c.Coins = game.DefaultCoins
	}
	s := &Sim{Coins: c, states: map[*Peer]*game.State{}, bots: map[*Peer]*bot.Bot{}}
	sc.Session.InputSize, sc.Session.Game = game.InputSize, fmt.Sprintf("p2pa-coins mode=%s coins=%d", c.Mode, c.Coins)
	sc.Hold, sc.Delivery = true, simtest.OnTick
	sc.NewGame, sc.Input = s.newGame, s.input
	var err error
	if s.Sim, err = simtest.New(sc); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return s, nil
}

// newGame makes player p's coin game from the agreed seed, for its current process.
func (s *Sim) newGame(p int, seed uint64) (lockstep.Game, error) {
	st, err := game.New(game.Config{Mode: s.Coins.Mode, Coins: s.Coins.Coins, Players: s.Scenario.Players, Seed: seed})
	if err != nil {
		return nil, err
	}
	pe := s.Peers[p]
	s.states[pe] = st
	if s.Coins.Wrap != nil {
		return s.Coins.Wrap(p, pe.Life, st), nil
	}
	return st, nil
}

// input is player p's input: the script or its current process's bot. The runner asks once
// per frame, so a bot's input for frame f depends only on its seed and f, whatever the
// network does; a restarted process gets a fresh bot.
func (s *Sim) input(p int, f lockstep.Frame, dst []byte) []byte {
	pe := s.Peers[p]
	var in game.Input
	if s.Coins.Input != nil {
		in = s.Coins.Input(p, f)
	} else {
		b := s.bots[pe]
		if b == nil {
			b = bot.NewBot(s.Scenario.Seed*7 + uint64(p) + uint64(pe.Life)<<32)
			s.bots[pe] = b
		}
		in = b.Next()
	}
	out, err := in.AppendBinary(dst)
	if err != nil {
		pe.Fail(fmt.Errorf("player %d: %w", p, err))
	}
	return out
}

// State is the coin game of process p; nil until its handshake is done.
func (s *Sim) State(p *Peer) *game.State { return s.states[p] }
