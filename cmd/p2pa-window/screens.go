package main

import (
	"fmt"
	"image/color"
	"net"
	"strings"

	"p2pa/game"
	"p2pa/game/render"
)

var (
	accentWait  = color.NRGBA{255, 214, 64, 255}
	accentWarn  = color.NRGBA{255, 170, 60, 255}
	accentError = color.NRGBA{240, 90, 80, 255}
	accentDone  = color.NRGBA{120, 220, 150, 255}
)

const escQuits = "Esc quits (the other player is told you left)."

// screenFor composes the screen shown over the field for v, or false while playing.
// Every screen says what the player can do next.
func screenFor(opts options, v view, s *game.State) (render.Screen, bool) {
	sc := render.Screen{Progress: -1, Accent: accentWait}
	switch v.Phase {
	case phaseRunning:
		return sc, false
	case phaseWaiting, phaseSync:
		sc = waitingScreen(opts, v)
	case phaseInterrupted:
		sc.Title = "Connection interrupted"
		sc.Accent = accentWarn
		sc.Lines = []string{fmt.Sprintf("Nothing heard from the other player for %.1f s.", v.Since.Seconds())}
		if v.Timeout > 0 {
			sc.Lines = append(sc.Lines, fmt.Sprintf("The game goes on by itself if they are back within %.0f s.", v.Timeout.Seconds()))
			sc.Progress = min(1, max(0, v.Since.Seconds()/v.Timeout.Seconds()))
		} else {
			sc.Lines = append(sc.Lines, "The game goes on by itself when they are back.")
		}
		sc.Footer = escQuits
	case phaseDisconnected:
		sc.Title = "Disconnected"
		sc.Accent = accentError
		sc.Lines = []string{"The other player stopped answering."}
		if v.Err != nil {
			sc.Lines = append(sc.Lines, oneLine(v.Err))
		}
		sc.Lines = append(sc.Lines, "", "Check the network, then both players start again; here:")
		sc.Code = []string{ownCommand(opts)}
		sc.Footer = "Esc closes the window."
	case phasePeerLeft:
		sc.Title = "The other player left"
		sc.Accent = accentDone
		sc.Lines = append(scoreLines(s), "", "To play again, both players start p2pa again; here:")
		sc.Code = []string{ownCommand(opts)}
		sc.Footer = "Esc closes the window."
	case phaseDesync:
		sc.Title = "Desync: the two games disagree"
		sc.Accent = accentError
		sc.Lines = []string{
			fmt.Sprintf("Both players' simulations differ at frame %d.", v.Confirmed),
			"This is a bug in p2pa, not your network: please report it",
			"with the output of both players (run with -v for more).",
		}
		if v.Err != nil {
			sc.Lines = append(sc.Lines, oneLine(v.Err))
		}
		sc.Footer = "Esc closes the window."
	case phaseDone:
		sc.Title = "Game over"
		sc.Accent = accentDone
		sc.Lines = append([]string{fmt.Sprintf("%d frames played.", v.Confirmed)}, scoreLines(s)...)
		sc.Footer = "Esc closes the window; start p2pa again for a new match."
	case phaseFailed:
		sc.Title = "The session failed"
		sc.Accent = accentError
		if v.Err != nil {
			sc.Lines = []string{oneLine(v.Err)}
		}
		sc.Lines = append(sc.Lines, "", "Fix the problem above, then start again:")
		sc.Code = []string{ownCommand(opts)}
		sc.Footer = "Esc closes the window. Without a display or GL, try -headless."
	default:
		return sc, false
	}
	return sc, true
}

func waitingScreen(opts options, v view) render.Screen {
	sc := render.Screen{Progress: -1, Accent: accentWait, Footer: "Esc quits."}
	if opts.Peer == "" {
		addr := shareableAddr(parseListenFlag(opts.Listen))
		sc.Title = "Waiting for the other player"
		sc.Lines = []string{
			fmt.Sprintf("You are player %d, listening on %s.", opts.Player, addr),
			"On the other machine, type:",
		}
		sc.Code = []string{peerCommand(opts, addr)}
		if isLoopback(addr) {
			sc.Lines[1] = "Only this machine can reach a loopback address. In another terminal, type:"
		}
	} else {
		sc.Title = "Connecting to " + opts.Peer
		host, port, err := net.SplitHostPort(opts.Peer)
		if err != nil || host == "" {
			host, port = "the other machine", "7000"
		}
		sc.Lines = []string{
			fmt.Sprintf("You are player %d. Waiting for an answer from %s.", opts.Player, opts.Peer),
			fmt.Sprintf("If it is not running yet, type on %s:", host),
		}
		sc.Code = []string{listenCommand(opts, port)}
	}
	if v.Phase == phaseSync {
		sc.Title = "Connecting: handshake"
		sc.Progress = min(1, max(0, v.Progress))
		sc.Lines = append(sc.Lines[:len(sc.Lines):len(sc.Lines)], fmt.Sprintf("Handshake %.0f%% done.", 100*sc.Progress))
	}
	return sc
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// matchFlags are the flags both players must give alike, to repeat in the commands shown.
func matchFlags(opts options) string {
	var b strings.Builder
	if opts.Mode != game.Classic {
		fmt.Fprintf(&b, " -mode %s", opts.Mode)
	}
	if opts.Coins != 0 && opts.Coins != game.DefaultCoins {
		fmt.Fprintf(&b, " -coins %d", opts.Coins)
	}
	return b.String()
}

// peerCommand is what the other player types to join a player 0 listening at addr.
func peerCommand(opts options, addr string) string {
	return fmt.Sprintf("p2pa -p %d -peer %s%s", 1-min(opts.Player, 1), addr, matchFlags(opts))
}

// listenCommand is what player 0 types on the machine this player connects to.
func listenCommand(opts options, port string) string {
	return fmt.Sprintf("p2pa -p 0 -listen :%s%s", port, matchFlags(opts))
}

// ownCommand repeats this player's own start command, for the screens that end a session.
func ownCommand(opts options) string {
	if opts.Peer != "" {
		return fmt.Sprintf("p2pa -p %d -peer %s%s", opts.Player, opts.Peer, matchFlags(opts))
	}
	return fmt.Sprintf("p2pa -p %d -listen %s%s", opts.Player, opts.Listen, matchFlags(opts))
}

func scoreLines(s *game.State) []string {
	if s == nil {
		return nil
	}
	if s.Mode() == game.Classic {
		return []string{fmt.Sprintf("Final score: %d (round %d).", s.TotalScore(), s.Round())}
	}
	parts := make([]string, 0, s.Players())
	for p := range s.Players() {
		parts = append(parts, fmt.Sprintf("player %d: %d", p, s.Score(p)))
	}
	return []string{"Final scores: " + strings.Join(parts, ", ") + "."}
}

// oneLine keeps an error message to one short line for a panel.
func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return s
}
