//go:build !js

// Command p2pa-window is p2pa's window: it opens an 800x600 window, feeds this player's
// mouse to the match 60 times a second and draws the shared game. F1 toggles the network
// HUD; Esc (or closing the window, or Ctrl-C) leaves the match cleanly, so both players
// end on the same frame; a second Esc closes at once.
//
// It takes the same flags as p2pa, which starts it when a display is present (see p2pa -h),
// and plays -replay files at -speed 1 or 4. With -frames N it closes by itself once frame N
// is confirmed; otherwise a finished match stays on its screen until Esc.
//
// -screenshot FILE writes, when the window closes, the playfield alone (no score, HUD or
// screens) of the state at the frame of the final line. The live state can be a few
// predicted frames past that frame, so the window draws the state the match saved at its
// end frame once that frame was confirmed (peer.Match.FinalState), whose checksum is the
// final line's. Both players' files then agree pixel for pixel. If the end was never
// confirmed, it writes the latest state instead and exits with status 1, saying why.
//
// stdout: p2pa's banner, a "p2pa-window: playing at frame N" line once the match runs,
// and at the end the score line and the final line `frame=N checksum=X rollbacks=N
// rtt_ms=X`. Exit status: 0, 1 when the match or the window failed, 2 for bad arguments,
// 130 (SIGINT) or 143 (SIGTERM) when a signal stopped the match before its -frames.
//
// Only this binary (and the render tests) link ebiten: on Linux ebiten needs an X display
// as soon as the program starts. Without one, this program says so in one line and exits
// with status 1 (see internal/xdisplay).
//
// The tests of this package carry the build tag display: their binary links ebiten, whose
// package init needs a display before any test runs (here internal/xdisplay would exit
// first). make test runs them with -tags display under xvfb-run; go test -short ./...
// without the tag reports "no test files" here and passes without a display.
//
// GOOS=js GOARCH=wasm builds the same window for a browser page (make web): main_js.go is
// its main, page.go what it plays (a room, the page's local mode, or a screen saying what
// the page needs). That build never opens a UDP socket or looks for games with multicast
// DNS: Go's net package in js/wasm is an in-process fake, where a socket "listens" and
// nobody can reach it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hajimehoshi/ebiten/v2"

	// Imported first for its side effect: it exits with a one-line message before ebiten's
	// own initialisation would panic for want of a display.
	_ "p2pa/cmd/p2pa-window/internal/xdisplay"
	// Imported for its side effect too: it silences xgb's logger before ebiten uses it.
	_ "p2pa/cmd/p2pa-window/internal/xquiet"

	"p2pa/game"
	"p2pa/game/render"
	"p2pa/internal/peer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run opens the window and returns the exit status: 0, 1 when the match or the window
// failed, 2 for bad arguments, 130/143 when a signal stopped the match early (as p2pa).
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := peer.ParseFlags("p2pa-window", args, stdout)
	if errors.Is(err, peer.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "p2pa-window: %v\n", err)
		return 2
	}
	if opts.Headless || opts.SyncTest || opts.Diff {
		fmt.Fprintln(stderr, "p2pa-window: -headless, -synctest and -diff need no window: run them with p2pa")
		return 2
	}
	defer peer.StartProfile(opts.Profile)()
	r, err := render.New()
	if err != nil {
		fmt.Fprintf(stderr, "p2pa-window: %v\n", err)
		return 1
	}
	var sess session
	switch {
	case opts.Server != "":
		// A room that cannot be joined is not the arguments' fault: exit 1, as p2pa.
		if sess, err = startRoomMatch(opts, stdout); err != nil {
			fmt.Fprintf(stderr, "p2pa-window: %v\n", err)
			return 1
		}
	case opts.Replay != "":
		sess, err = startReplay(opts, stdout)
	case opts.Spectate != "":
		sess, err = startSpectate(opts, stdout)
	case opts.Player != 0 && opts.Peer == "":
		sess = startFinding(opts, stdout)
	default:
		sess, err = startMatch(opts, stdout)
	}
	if err != nil {
		// A port in use or an address that does not resolve: the arguments' fault.
		fmt.Fprintf(stderr, "p2pa-window: %v\n", err)
		return 2
	}
	w := newWindow(opts, sess, r, stdout)

	ebiten.SetWindowSize(game.Width, game.Height)
	w.updateTitle(sess.View())
	placeWindow(opts.Player)
	ebiten.SetTPS(tps)
	// Both players' windows may sit on one desktop (make demo); the unfocused one must
	// keep ticking or its peer would stall waiting for its inputs.
	ebiten.SetRunnableOnUnfocused(true)
	// Closing the window goes through Update, like Esc, so the match ends cleanly.
	ebiten.SetWindowClosingHandled(true)
	// Ctrl-C in the terminal also ends the match cleanly rather than killing it mid-frame
	// (p2pa, which started us, ignores it and waits).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	w.signals = sig

	// A display that goes away ends the match as Esc would, even when ebiten's loop is stuck
	// on it, and the process exits here (leaveOnLostDisplay). Without a watcher (it could
	// not connect) Xlib's own handling is left as it was.
	if lost, err := watchDisplay(); err != nil {
		releaseDisplayHold()
		if opts.Verbose {
			fmt.Fprintf(stderr, "p2pa-window: not watching the display: %v\n", err)
		}
	} else if lost != nil {
		go func() {
			why := <-lost
			os.Exit(w.leaveOnLostDisplay(why, stderr))
		}()
	}
	stopReceiving := w.receive()
	err = runGame(w)
	stopReceiving()
	if err != nil {
		if !w.finished {
			// The loop died before finish: still tell the peer and print the final line.
			_ = sess.Close()
		}
		fmt.Fprintf(stderr, "p2pa-window: cannot open a window: %v; run p2pa with -headless to play without a window\n", oneLine(err))
		return 1
	}
	if w.err != nil {
		fmt.Fprintf(stderr, "p2pa-window: %v\n", oneLine(w.err))
		return peer.ExitCode(w.err)
	}
	return 0
}

// placeWindow puts player 0's window left of the centre and the others' right of it, so
// two windows on one desktop (make demo) do not open exactly on top of each other.
func placeWindow(player int) {
	m := ebiten.Monitor()
	if m == nil {
		return
	}
	mw, mh := m.Size()
	if mw <= 0 || mh <= 0 {
		return
	}
	x := (mw - game.Width) / 2
	if player == 0 {
		x -= game.Width/2 + 8
	} else {
		x += game.Width/2 + 8
	}
	x = max(0, min(x, mw-game.Width))
	y := max(0, (mh-game.Height)/2)
	ebiten.SetWindowPosition(x, y)
}
