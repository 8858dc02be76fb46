//go:build !js

package main

import (
	"context"
	"errors"
	"io"
	"os"

	"p2pa/game"
	"p2pa/internal/peer"
)

// findSession is a joining player with no -peer: it looks for a game (peer.FindGame, in
// the background, so the window keeps drawing) and, once there is exactly one, becomes
// that match. With several it shows them until Esc.
type findSession struct {
	opts   options
	stdout io.Writer
	cancel context.CancelFunc
	result chan findResult
	match  session // nil until a game is found and started
	games  []peer.Found
	err    error
	quit   bool
}

type findResult struct {
	opts  options
	games []peer.Found
	err   error
}

func startFinding(opts options, stdout io.Writer) session {
	ctx, cancel := context.WithCancel(context.Background())
	f := &findSession{opts: opts, stdout: stdout, cancel: cancel, result: make(chan findResult, 1)}
	go func() {
		o, games, err := peer.FindGame(ctx, opts, stdout)
		f.result <- findResult{o, games, err}
	}()
	return f
}

func (f *findSession) Tick(in game.Input) {
	if f.match != nil {
		f.match.Tick(in)
		return
	}
	select {
	case r := <-f.result:
		f.games = r.games
		if r.err != nil {
			f.err = r.err
			return
		}
		m, err := startMatch(r.opts, f.stdout)
		if err != nil {
			f.err = err
			return
		}
		f.match = m
	default:
	}
}

func (f *findSession) State() *game.State {
	if f.match != nil {
		return f.match.State()
	}
	return nil
}

func (f *findSession) View() view {
	if f.match != nil {
		return f.match.View()
	}
	v := view{Phase: peer.PhaseWaiting, Looking: true, Games: f.games, RTT: -1}
	if f.err != nil && !errors.Is(f.err, peer.ErrSeveralGames) {
		v.Phase, v.Err = peer.PhaseFailed, f.err
	}
	return v
}

func (f *findSession) Quit() {
	if f.match != nil {
		f.match.Quit()
		return
	}
	f.quit = true
	f.cancel()
}

func (f *findSession) Stop(sig os.Signal) {
	if f.match != nil {
		f.match.Stop(sig)
		return
	}
	f.Quit()
	if f.err == nil || errors.Is(f.err, peer.ErrSeveralGames) {
		// Stopped while still looking: a script must not mistake it for a finished match.
		f.err = &peer.Interrupted{Signal: sig, Frame: -1, Frames: f.opts.Frames}
	}
}

func (f *findSession) Done() bool {
	if f.match != nil {
		return f.match.Done()
	}
	// Several games: the list stays up until Esc.
	return f.quit || (f.err != nil && !errors.Is(f.err, peer.ErrSeveralGames))
}

func (f *findSession) Close() error {
	f.cancel()
	if f.match != nil {
		return f.match.Close()
	}
	var intr *peer.Interrupted
	if errors.As(f.err, &intr) {
		return f.err
	}
	if f.quit || errors.Is(f.err, peer.ErrSeveralGames) {
		return nil // nothing was played; the list was shown
	}
	return f.err
}

func (f *findSession) FinalState() (*game.State, error) {
	if f.match != nil {
		return f.match.FinalState()
	}
	return nil, errors.New("no match was played")
}
