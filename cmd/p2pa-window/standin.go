package main

// TEMPORARY: a local stand-in for p2pa/internal/peer, used until that package exists. It
// steps a game.State directly with every player's input taken from this window's mouse.

import (
	"fmt"
	"hash/fnv"
	"io"

	"p2pa/game"
)

type localSession struct {
	s      *game.State
	opts   options
	stdout io.Writer
	inputs []game.Input
}

func startLocal(opts options, stdout io.Writer) (*localSession, error) {
	s, err := game.New(game.Config{Mode: opts.Mode, Coins: opts.Coins, Players: 2, Seed: 1})
	if err != nil {
		return nil, fmt.Errorf("starting the local game: %w", err)
	}
	fmt.Fprintf(stdout, "p2pa-window: local stand-in session (no network), player %d\n", opts.Player)
	return &localSession{s: s, opts: opts, stdout: stdout, inputs: make([]game.Input, s.Players())}, nil
}

func (l *localSession) Tick(local game.Input) {
	if l.Done() {
		return
	}
	for i := range l.inputs {
		l.inputs[i] = local
	}
	l.s.Step(l.inputs)
}

func (l *localSession) State() *game.State { return l.s }

func (l *localSession) View() view {
	ph := phaseRunning
	if l.Done() {
		ph = phaseDone
	}
	return view{Phase: ph, Frame: l.s.Frame(), Confirmed: l.s.Frame(), RTT: -1}
}

func (l *localSession) Done() bool { return l.opts.Frames > 0 && int(l.s.Frame()) >= l.opts.Frames }

func (l *localSession) Close() error {
	h := fnv.New64a()
	for _, c := range l.s.Coins() {
		fmt.Fprint(h, c)
	}
	fmt.Fprintf(l.stdout, "frame=%d checksum=%016x rollbacks=0 rtt_ms=0\n", l.s.Frame(), h.Sum64())
	return nil
}
