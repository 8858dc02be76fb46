//go:build !js

package main

// The sessions a native window plays over its own sockets or files: a match over UDP, a
// spectator, a replay (and, in find.go, looking for a game with multicast DNS). The browser
// build leaves them out altogether: in js/wasm Go's net package is an in-process fake, so
// a socket there would "listen" where nobody can reach it (page.go is what a page plays).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"p2pa/game"
	"p2pa/internal/peer"
)

// startRoomMatch joins the room of -server and -room (or -spectate), then starts the match
// (or watching it) over its links.
func startRoomMatch(opts options, stdout io.Writer) (session, error) {
	link, err := peer.JoinRoom(context.Background(), opts, stdout)
	if err != nil {
		return nil, err
	}
	if opts.Spectate != "" {
		w, err := peer.StartWatchLink(opts, link, stdout)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("starting to watch: %w", err), link.Conn.Close())
		}
		return spectatorSession{w, link.Name}, nil
	}
	m, err := peer.StartLink(opts, link, stdout)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("starting the match: %w", err), link.Conn.Close())
	}
	return &matchSession{Match: m, pausedFor: -1}, nil
}

func startMatch(opts options, stdout io.Writer) (session, error) {
	m, err := peer.Start(opts, stdout)
	if err != nil {
		return nil, fmt.Errorf("starting the match: %w", err)
	}
	return &matchSession{Match: m, pausedFor: -1}, nil
}

// replaySession plays a -replay file in the window, -speed frames per tick, with no
// network. It prints the same final line as p2pa -headless -replay.
type replaySession struct {
	r      *peer.Replay
	s      *game.State
	speed  int
	stdout io.Writer
	quit   bool
	signal os.Signal
}

func startReplay(opts options, stdout io.Writer) (session, error) {
	r, err := peer.ReadReplay(opts.Replay)
	if err != nil {
		return nil, fmt.Errorf("-replay: %w", err)
	}
	s, err := r.NewState()
	if err != nil {
		return nil, fmt.Errorf("-replay %s: %w", opts.Replay, err)
	}
	fmt.Fprintf(stdout, "p2pa: replaying %s: %d frames, %s, at %dx\n", opts.Replay, r.Frames, r.Mode, opts.Speed)
	return &replaySession{r: r, s: s, speed: max(1, opts.Speed), stdout: stdout}, nil
}

func (p *replaySession) Tick(game.Input) {
	for range p.speed {
		if p.Done() {
			return
		}
		p.s.AdvanceFrame(p.r.FrameInputs(int(p.s.Frame())))
	}
}

func (p *replaySession) State() *game.State { return p.s }
func (p *replaySession) Quit()              { p.quit = true }
func (p *replaySession) Stop(sig os.Signal) { p.quit, p.signal = true, sig }
func (p *replaySession) Done() bool         { return p.quit || int(p.s.Frame()) >= p.r.Frames }

func (p *replaySession) View() view {
	ph := peer.PhaseRunning
	if p.Done() {
		ph = peer.PhaseDone
	}
	return view{Phase: ph, Frame: p.s.Frame(), Confirmed: p.s.Frame(), Replay: true, RTT: -1}
}

func (p *replaySession) FinalState() (*game.State, error) { return p.s, nil }

func (p *replaySession) Close() error {
	s := p.s
	fmt.Fprintf(p.stdout, "score=%d round=%d coins_left=%d\n", s.TotalScore(), s.Round(), s.CoinsLeft())
	fmt.Fprintln(p.stdout, peer.FormatResult(int64(s.Frame()), s.Checksum(), 0, 0))
	if int(s.Frame()) == p.r.Frames && s.Checksum() != p.r.Checksum {
		return fmt.Errorf("replay of %d frames ends on checksum %016x, but the match recorded %016x", p.r.Frames, s.Checksum(), p.r.Checksum)
	}
	if p.signal != nil && int(s.Frame()) < p.r.Frames {
		return &peer.Interrupted{Signal: p.signal, Frame: int64(s.Frame())}
	}
	return nil
}

func startSpectate(opts options, stdout io.Writer) (session, error) {
	w, err := peer.StartWatch(opts, stdout)
	if err != nil {
		return nil, err
	}
	return spectatorSession{w, opts.Spectate}, nil
}
