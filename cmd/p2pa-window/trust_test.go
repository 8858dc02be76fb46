package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"p2pa/game"
	"p2pa/internal/peer"
)

// TestFailedHandshakeScreens: whatever made the handshake fail, the window's screen says it
// in the peer's own words.
func TestFailedHandshakeScreens(t *testing.T) {
	s, err := game.New(game.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := peer.ParseFlags("test", []string{"-p", "1", "-peer", "127.0.0.1:7000", "-secret", "daisy"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{
		"the secrets differ: the peer's handshake does not prove our secret",
		"match full: every seat is taken by a player at another address",
		"peer runs protocol 3, we run 2",
		`peer plays "p2pa-coins mode=versus coins=50", we play "p2pa-coins mode=classic coins=50"`,
	} {
		sc, ok := screenFor(opts, view{Phase: peer.PhaseFailed, Err: errors.New(reason)}, s, false, 0)
		if !ok || sc.Title == "" || len(sc.Lines) == 0 || !strings.Contains(sc.Lines[0], reason) {
			t.Errorf("%q: screen %+v does not say why", reason, sc)
		}
	}
}
