package main

import (
	"fmt"
	"image/color"
	"math"
	"net"
	"strings"
	"time"

	"p2pa/game"
	"p2pa/game/render"
	"p2pa/internal/peer"
	"p2pa/netplay"
)

var (
	accentWait  = color.NRGBA{255, 214, 64, 255}
	accentWarn  = color.NRGBA{255, 170, 60, 255}
	accentError = color.NRGBA{240, 90, 80, 255}
	accentDone  = color.NRGBA{120, 220, 150, 255}
)

const escQuits = "Esc quits (the other player is told you left)."

// screenFor composes the screen shown over the field, or false while playing. Every
// screen says what the player can do next. quitting is set after Esc, while the match
// ends cleanly; silent is how long the peer has been quiet when interrupted.
func screenFor(opts options, v view, s *game.State, quitting bool, silent time.Duration) (render.Screen, bool) {
	sc := render.Screen{Progress: -1, Accent: accentWait}
	if opts.Peer == "" && opts.Player != 0 && v.Peer != "" {
		opts.Peer = v.Peer // found by looking: show it as if given with -peer
	}
	switch {
	case v.Notice != nil:
		return *v.Notice, true
	case v.Looking && v.Phase == peer.PhaseWaiting:
		return lookingScreen(opts, v), true
	case quitting && v.Phase == peer.PhaseRejoinWait:
		sc.Title = "Leaving the match"
		sc.Lines = []string{"The match ends where it paused, without the player who dropped."}
		sc.Footer = "Press Esc again to close at once."
		return sc, true
	case quitting && v.Phase <= peer.PhaseInterrupted:
		sc.Title = "Leaving the match"
		sc.Lines = []string{"Making sure the other player has all your moves,", "so both games end on the same frame."}
		sc.Footer = "Press Esc again to close at once."
		return sc, true
	case v.Phase == peer.PhaseRunning:
		return sc, false
	}
	switch v.Phase {
	case peer.PhaseWaiting, peer.PhaseSynchronizing:
		sc = waitingScreen(opts, v)
	case peer.PhaseInterrupted:
		sc.Title = "Connection interrupted"
		sc.Accent = accentWarn
		sc.Lines = []string{fmt.Sprintf("Nothing heard from the other player for %.1f s.", silent.Seconds())}
		if left := opts.Disconnect - silent; left > 0 {
			sc.Lines = append(sc.Lines, fmt.Sprintf("The game goes on by itself if they are back within %.0f s.", left.Seconds()))
			sc.Progress = min(1, max(0, silent.Seconds()/opts.Disconnect.Seconds()))
		} else {
			sc.Lines = append(sc.Lines, "The game goes on by itself when they are back.")
		}
		sc.Footer = escQuits
	case peer.PhaseRejoinWait:
		sc = rejoinWaitScreen(opts, v)
	case peer.PhaseRejoining:
		sc = rejoiningScreen(v)
	case peer.PhaseDisconnected:
		sc.Title = "Disconnected"
		sc.Accent = accentError
		if v.NotRejoined {
			sc.Lines = []string{fmt.Sprintf("Player %d dropped and did not rejoin within %s; the match ended.", v.Dropped, wholeSeconds(opts.Rejoin))}
		} else {
			sc.Lines = []string{fmt.Sprintf("Nothing heard from the other player for %.0f s; the match ended.", opts.Disconnect.Seconds())}
		}
		sc.Lines = append(sc.Lines, scoreLines(s)...)
		sc.Lines = append(sc.Lines, "", "Check the network, then both players start again. Here:")
		sc.Code = []string{ownCommand(opts)}
		sc.Footer = "Esc closes the window."
	case peer.PhasePeerLeft:
		sc.Title = "The other player left"
		sc.Accent = accentDone
		sc.Lines = append(scoreLines(s), "", "To play again, both players start p2pa again. Here:")
		sc.Code = []string{ownCommand(opts)}
		sc.Footer = "Esc closes the window."
	case peer.PhaseDesync:
		sc.Title = "Desync: the two games disagree"
		sc.Accent = accentError
		sc.Lines = []string{
			"The two simulations differ: a bug in p2pa, not your network.",
			"Please report it with both players' output (run with -v for more).",
		}
		if v.DesyncFile != "" {
			sc.Lines = append(sc.Lines, "Our state was saved; compare it with the other player's file:")
			sc.Code = []string{"p2pa -diff " + v.DesyncFile + " THEIRS.state"}
		}
		sc.Footer = "Esc closes the window."
	case peer.PhaseDone:
		sc.Title = "Game over"
		if v.Replay {
			sc.Title = "Replay finished"
		}
		sc.Accent = accentDone
		sc.Lines = append([]string{fmt.Sprintf("%d frames played.", v.Confirmed)}, scoreLines(s)...)
		sc.Footer = "Esc closes the window; start p2pa again for a new match."
	case peer.PhaseFailed:
		sc.Title = "The match could not go on"
		sc.Accent = accentError
		if v.Err != nil {
			sc.Lines = []string{oneLine(v.Err)}
		}
		sc.Lines = append(sc.Lines, "", "Fix the problem above, then start again:")
		sc.Code = []string{ownCommand(opts)}
		sc.Footer = "Esc closes the window."
	default:
		return sc, false
	}
	return sc, true
}

// rejoinWaitScreen is a survivor's: the match is paused for a player who dropped, and
// counts down the time left for them to rejoin. The field stays drawn under it as it was.
func rejoinWaitScreen(opts options, v view) render.Screen {
	sc := render.Screen{Title: "Match paused", Progress: -1, Accent: accentWarn}
	sc.Lines = []string{
		fmt.Sprintf("Player %d dropped — waiting for them to rejoin (%s).", v.Rejoin.Player, wholeSeconds(v.Rejoin.Left)),
		"They rejoin by running the same command again; the match goes on from here.",
	}
	if opts.Rejoin > 0 {
		sc.Progress = min(1, max(0, 1-v.Rejoin.Left.Seconds()/opts.Rejoin.Seconds()))
	}
	sc.Footer = "Esc quits without waiting for them."
	return sc
}

// rejoiningScreen is the returning player's: the match in progress hands it its state.
func rejoiningScreen(v view) render.Screen {
	sc := render.Screen{Title: "Rejoining the match", Progress: -1, Accent: accentWait, Footer: "Esc quits."}
	r := v.Rejoin
	if r.Phase != netplay.RejoinReceiving || r.Total <= 0 {
		sc.Lines = []string{"Rejoining… waiting for the match's state."}
		return sc
	}
	sc.Progress = min(1, max(0, float64(r.Held)/float64(r.Total)))
	sc.Lines = []string{
		fmt.Sprintf("Rejoining… %.0f%% (%s of the match's state).", 100*sc.Progress, heldOf(r.Held, r.Total)),
		fmt.Sprintf("The match goes on from frame %d once it is all in.", r.Frame),
	}
	return sc
}

// heldOf says how much of a handover of total bytes is in: in bytes under 10 KB, else
// in KB.
func heldOf(held, total int) string {
	if total < 10<<10 {
		return fmt.Sprintf("%d of %d bytes", held, total)
	}
	return fmt.Sprintf("%.1f of %.1f KB", float64(held)/(1<<10), float64(total)/(1<<10))
}

// wholeSeconds is d rounded up to whole seconds, as "27 s": a countdown shows 1 s until
// the time is up.
func wholeSeconds(d time.Duration) string {
	return fmt.Sprintf("%.0f s", math.Ceil(max(d, 0).Seconds()))
}

func waitingScreen(opts options, v view) render.Screen {
	sc := render.Screen{Progress: -1, Accent: accentWait, Footer: "Esc quits."}
	if opts.Peer == "" {
		_, port, err := net.SplitHostPort(v.LocalAddr)
		if err != nil {
			port = peer.DefaultPort
		}
		sc.Title = "Waiting for the other player"
		host, _, _ := net.SplitHostPort(opts.Listen)
		ip := net.ParseIP(host)
		where := v.LocalAddr
		if host == "" || (ip != nil && ip.IsUnspecified()) {
			where = "port " + port
		}
		sc.Lines = []string{fmt.Sprintf("You are player %d, listening on %s.", opts.Player, where)}
		switch {
		case ip != nil && ip.IsLoopback(), host == "localhost":
			sc.Lines = append(sc.Lines, "Only this machine can reach that address. In another terminal, type:")
			sc.Code = []string{peerCommand(opts, net.JoinHostPort(host, port))}
		case host != "" && (ip == nil || !ip.IsUnspecified()):
			sc.Lines = append(sc.Lines, "On the other machine, type:")
			sc.Code = []string{peerCommand(opts, net.JoinHostPort(host, port))}
		case len(v.LANAddrs) > 0:
			sc.Lines = append(sc.Lines, "On the other machine, type:")
			sc.Code = []string{peerCommand(opts, net.JoinHostPort(v.LANAddrs[0], port))}
			sc.Notes = []string{"To play both sides on this machine, type in another terminal:"}
			sc.Notes = append(sc.Notes, "    "+peerCommand(opts, net.JoinHostPort("127.0.0.1", port)))
		default:
			sc.Lines = append(sc.Lines, "This machine has no network address; to play here, type in another terminal:")
			sc.Code = []string{peerCommand(opts, net.JoinHostPort("127.0.0.1", port))}
		}
	} else {
		sc.Title = "Connecting to " + opts.Peer
		host, port, err := net.SplitHostPort(opts.Peer)
		if err != nil || host == "" {
			host, port = "the other machine", peer.DefaultPort
		}
		where := "on " + host
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			where = "in another terminal"
		}
		sc.Lines = []string{
			fmt.Sprintf("You are player %d. Waiting for player 0 at %s to answer.", opts.Player, opts.Peer),
			fmt.Sprintf("If it is not running yet, type %s:", where),
		}
		sc.Code = []string{listenCommand(opts, port)}
	}
	if v.Phase == peer.PhaseSynchronizing {
		sc.Title = "Connecting: handshake"
		sc.Progress = min(1, max(0, v.Progress))
		sc.Notes = append(sc.Notes, fmt.Sprintf("Handshake with %s: %.0f%% done.", v.Peer, 100*sc.Progress))
	}
	return sc
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

// lookingScreen is a joining player with no -peer: looking, or choosing among several.
func lookingScreen(opts options, v view) render.Screen {
	sc := render.Screen{Progress: -1, Accent: accentWait, Footer: "Esc quits."}
	if len(v.Games) == 0 {
		sc.Title = "Looking for a game on this network…"
		sc.Lines = []string{
			"Waiting for a player 0 on this network or on this machine.",
			"On the other machine, type:",
		}
		sc.Code = []string{"p2pa" + matchFlags(opts)}
		sc.Notes = []string{fmt.Sprintf("Or join an address directly: p2pa -p %d -peer HOST:%s%s", opts.Player, peer.DefaultPort, matchFlags(opts))}
		return sc
	}
	sc.Title = "Several games on this network"
	sc.Lines = []string{"Start again with the one to join:"}
	for _, g := range v.Games {
		sc.Code = append(sc.Code, fmt.Sprintf("p2pa -p %d -join %s%s    (%s, %d of %d seated)", opts.Player, g.Instance, matchFlags(opts), g.Addr, g.Seated, g.Want))
	}
	return sc
}

// forPage turns an end screen's command-line advice into a browser's: there is no command
// to type and no window to close, only the page to reload.
func forPage(sc render.Screen) render.Screen {
	if len(sc.Code) > 0 {
		sc.Code = nil
		if n := len(sc.Lines); n > 0 && strings.HasSuffix(sc.Lines[n-1], ":") {
			sc.Lines = sc.Lines[:n-1] // the line that introduced the command
		}
	}
	sc.Footer = "Reload the page to play again."
	return sc
}
