//go:build display

package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/internal/peer"
	"p2pa/netplay"
)

// TestRejoinScreens: the survivors of a drop see who dropped and a countdown in whole
// seconds, rounded up; the returning player sees how much of the state is in; once the
// window runs out, the disconnected screen says they did not rejoin.
func TestRejoinScreens(t *testing.T) {
	s, err := game.New(game.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := peer.ParseFlags("test", []string{"-listen", "127.0.0.1:7000", "-rejoin", "30s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	paused := func(player int, left time.Duration) view {
		return view{Phase: peer.PhaseRejoinWait, Rejoin: netplay.RejoinStatus{Phase: netplay.RejoinPaused, Player: player, Frame: 900, Left: left}}
	}
	receiving := func(held, total int) view {
		return view{Phase: peer.PhaseRejoining, Rejoin: netplay.RejoinStatus{Phase: netplay.RejoinReceiving, Player: 1, Frame: 900, Held: held, Total: total}}
	}
	for _, c := range []struct {
		name     string
		v        view
		quitting bool
		title    string
		line     string  // Lines[0]
		progress float64 // the bar; <0: none
	}{
		{"paused, full window", paused(1, 30*time.Second), false, "Match paused", "Player 1 dropped — waiting for them to rejoin (30 s).", 0},
		{"paused, rounded up", paused(1, 26*time.Second+100*time.Millisecond), false, "Match paused", "Player 1 dropped — waiting for them to rejoin (27 s).", 1 - 26.1/30},
		{"paused, last instant", paused(2, time.Millisecond), false, "Match paused", "Player 2 dropped — waiting for them to rejoin (1 s).", 1 - 0.001/30},
		{"paused, time up", paused(0, 0), false, "Match paused", "Player 0 dropped — waiting for them to rejoin (0 s).", 1},
		{"paused, Esc", paused(1, 10*time.Second), true, "Leaving the match", "The match ends where it paused, without the player who dropped.", -1},
		{"rejoining, size unknown", receiving(0, 0), false, "Rejoining the match", "Rejoining… waiting for the match's state.", -1},
		{"rejoining, none in", receiving(0, 1059), false, "Rejoining the match", "Rejoining… 0% (0 of 1059 bytes of the match's state).", 0},
		{"rejoining, part in", receiving(512, 1024), false, "Rejoining the match", "Rejoining… 50% (512 of 1024 bytes of the match's state).", 0.5},
		{"rejoining, large, part in", receiving(15<<10, 40<<10), false, "Rejoining the match", "Rejoining… 38% (15.0 of 40.0 KB of the match's state).", 0.375},
		{"rejoining, all in", receiving(40<<10, 40<<10), false, "Rejoining the match", "Rejoining… 100% (40.0 of 40.0 KB of the match's state).", 1},
		{"not rejoined", view{Phase: peer.PhaseDisconnected, NotRejoined: true, Dropped: 1}, false, "Disconnected", "Player 1 dropped and did not rejoin within 30 s; the match ended.", -1},
		{"disconnected without a pause", view{Phase: peer.PhaseDisconnected}, false, "Disconnected", "Nothing heard from the other player for 5 s; the match ended.", -1},
	} {
		sc, ok := screenFor(opts, c.v, s, c.quitting, 0)
		if !ok {
			t.Errorf("%s: no screen", c.name)
			continue
		}
		if sc.Title != c.title || len(sc.Lines) == 0 || sc.Lines[0] != c.line || sc.Footer == "" {
			t.Errorf("%s: title %q, lines %q, footer %q; want title %q, first line %q and a footer", c.name, sc.Title, sc.Lines, sc.Footer, c.title, c.line)
		}
		if d := sc.Progress - c.progress; d < -1e-9 || d > 1e-9 {
			t.Errorf("%s: progress %v, want %v", c.name, sc.Progress, c.progress)
		}
	}
	if sc, _ := screenFor(opts, receiving(512, 1024), s, false, 0); len(sc.Lines) < 2 || !strings.Contains(sc.Lines[1], "frame 900") {
		t.Errorf("rejoining screen %q does not say the frame the match goes on from", sc.Lines)
	}
}

// TestViewRemembersThePause: a match that ends disconnected after pausing for a player
// ended because they did not rejoin; one that resumed, or never paused, did not.
func TestViewRemembersThePause(t *testing.T) {
	pause := peer.Status{Phase: peer.PhaseRejoinWait, Rejoin: netplay.RejoinStatus{Phase: netplay.RejoinPaused, Player: 1, Left: time.Second}}
	for _, c := range []struct {
		name   string
		phases []peer.Status
		want   bool
	}{
		{"never paused", []peer.Status{{Phase: peer.PhaseRunning}, {Phase: peer.PhaseDisconnected}}, false},
		{"the window ran out", []peer.Status{{Phase: peer.PhaseRunning}, pause, {Phase: peer.PhaseDisconnected}}, true},
		{"rejoined, then disconnected", []peer.Status{pause, {Phase: peer.PhaseRunning}, {Phase: peer.PhaseInterrupted}, {Phase: peer.PhaseDisconnected}}, false},
	} {
		m := &matchSession{pausedFor: -1}
		var v view
		for _, st := range c.phases {
			v = m.viewOf(st)
		}
		if v.NotRejoined != c.want || (c.want && v.Dropped != 1) {
			t.Errorf("%s: NotRejoined %v, Dropped %d; want %v (player 1)", c.name, v.NotRejoined, v.Dropped, c.want)
		}
	}
	m := &matchSession{pausedFor: -1}
	if v := m.viewOf(pause); v.Rejoin != pause.Rejoin {
		t.Errorf("view's Rejoin = %+v, want the status's %+v", v.Rejoin, pause.Rejoin)
	}
}
