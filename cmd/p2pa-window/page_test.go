//go:build display

package main

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/game/render"
	"p2pa/internal/peer"
	"p2pa/transport"
)

var resultRE = regexp.MustCompile(`(?m)^frame=(\d+) checksum=([0-9a-f]{16}) rollbacks=\d+ rtt_ms=\d+\.\d\d$`)

// TestStartPage: what a page plays for its address, rooms or not in the build.
func TestStartPage(t *testing.T) {
	saved := joinRoom
	t.Cleanup(func() { joinRoom = saved })
	joinRoom = nil
	for _, tc := range []struct {
		query string
		title string // the notice's title; "" for a match
		err   string // what Close reports, if anything
	}{
		{"", "Rooms are not available in this build yet", ""},
		{"?room=K7QF2M&p=1", "Rooms are not available in this build yet", ""},
		{"?coins=0", "This page's address has a bad option", "coins=0: must be"},
		{"?bogus=1", "This page's address has a bad option", `unknown option "bogus"`},
		{"?local=1&bot=1&frames=60&seed=3", "", ""},
	} {
		pg, err := peer.ParseQuery(tc.query)
		var out strings.Builder
		s := startPage(pg, err, &out)
		v := s.View()
		if !v.Page {
			t.Errorf("%q: view not marked as a page's", tc.query)
		}
		if tc.title != "" {
			if v.Notice == nil || v.Notice.Title != tc.title {
				t.Errorf("%q: notice %+v, want the title %q", tc.query, v.Notice, tc.title)
			}
			if sc, ok := screenFor(pg.Options, v, nil, false, 0); !ok || sc.Title != tc.title {
				t.Errorf("%q: screenFor shows %q, want the notice", tc.query, sc.Title)
			}
			if s.Done() {
				t.Errorf("%q: a notice is done before Esc", tc.query)
			}
			s.Quit()
			if !s.Done() {
				t.Errorf("%q: not done after Quit", tc.query)
			}
		} else {
			for i := 0; i < 60*60 && !s.Done(); i++ {
				s.Tick(game.Input{})
			}
		}
		err = s.Close()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: Close = %v, want %q", tc.query, err, tc.err)
		}
		if strings.Contains(out.String(), "listening on") {
			t.Errorf("%q: the page says it listens on a socket:\n%s", tc.query, &out)
		}
		if tc.title == "" {
			if m := resultRE.FindAllString(out.String(), -1); len(m) != 1 || !strings.HasPrefix(m[0], "frame=60 ") {
				t.Errorf("%q: result lines %q, want one at frame 60\n%s", tc.query, m, &out)
			}
		}
	}
}

// TestRoomSession plugs a room into the seam (joinRoom) as transport/rtc + rendezvous
// will: the page, player 1, joins a bot hosting over the emulator, and both end on the
// same frame and checksum. A room that cannot be joined, and watching, fail on the page.
func TestRoomSession(t *testing.T) {
	saved := joinRoom
	t.Cleanup(func() { joinRoom = saved })

	clock := transport.NewVirtualClock(0)
	network := transport.NewNetwork(clock, 1)
	a0, a1 := netip.MustParseAddrPort("[fd70::1]:7000"), netip.MustParseAddrPort("[fd70::2]:7000")
	c0, err := network.Listen(a0)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := network.Listen(a1)
	if err != nil {
		t.Fatal(err)
	}
	var joined peer.Page
	joinRoom = func(_ context.Context, pg peer.Page, _ io.Writer) (roomJoin, error) {
		joined = pg
		return roomJoin{link: peer.Link{Conn: c1, Host: a0, Name: "room T3ST", Clock: clock}, player: 1, room: "T3ST"}, nil
	}
	hostOpts, err := peer.ParseQuery("?bot=1&seed=5&frames=120")
	if err != nil {
		t.Fatal(err)
	}
	var hostOut, pageOut strings.Builder
	host, err := peer.StartLink(hostOpts.Options, peer.Link{Conn: c0, Name: "room T3ST", Clock: clock}, &hostOut)
	if err != nil {
		t.Fatal(err)
	}
	// No p=: the page plays the seat joinRoom found free.
	pg, err := peer.ParseQuery("?room=T3ST&bot=1&seed=5&frames=120")
	if err != nil {
		t.Fatal(err)
	}
	s := startPage(pg, nil, &pageOut)
	if v := s.View(); v.Notice == nil || v.Notice.Title != "Joining room T3ST…" {
		t.Errorf("before joining: notice %+v", v.Notice)
	}
	// The window's receiver waits on Readable: before joining, on the joining itself.
	rc, ok := s.(receiver)
	if !ok {
		t.Fatal("a room's session does not hand datagrams over as they arrive")
	}
	waiting := rc.Readable()
	if waiting == nil {
		t.Fatal("Readable before joining is nil: the receiver would never wake")
	}
	for i := 0; i < 1000; i++ {
		s.Tick(game.Input{})
		if rc.Readable() != waiting {
			break
		}
		time.Sleep(time.Millisecond) // joinRoom runs in the background
	}
	select {
	case <-waiting:
	default:
		t.Fatal("joining did not wake the receiver")
	}
	if got := rc.Readable(); got != nil {
		t.Errorf("Readable once joined = %v, want the match's (nil: the emulator cannot signal)", got)
	}
	deadline := time.Now().Add(time.Minute)
	sawWaiting := false
	for !(s.Done() && host.Done()) && time.Now().Before(deadline) {
		s.Tick(game.Input{})
		host.Tick(game.Input{})
		clock.Advance(time.Second / tps)
		if v := s.View(); v.Notice != nil && strings.Contains(strings.Join(v.Notice.Lines, " "), "in room T3ST") {
			sawWaiting = true
		}
	}
	if err := errors.Join(s.Close(), host.Close()); err != nil {
		t.Fatalf("close: %v\npage:\n%s\nhost:\n%s", err, &pageOut, &hostOut)
	}
	if joined.Room != "T3ST" || joined.Seat {
		t.Errorf("joinRoom was given %+v", joined)
	}
	if !sawWaiting {
		t.Error("the page never said it waits in room T3ST")
	}
	mp, mh := resultRE.FindStringSubmatch(pageOut.String()), resultRE.FindStringSubmatch(hostOut.String())
	if mp == nil || mh == nil || mp[1] != "120" || mp[1] != mh[1] || mp[2] != mh[2] {
		t.Errorf("result lines differ or are missing:\npage:\n%s\nhost:\n%s", &pageOut, &hostOut)
	}
	if rl, ok := s.(resultLiner); !ok || !strings.HasPrefix(rl.ResultLine(), "frame=120 checksum="+mp[2]) {
		t.Errorf("the session's ResultLine does not repeat the line it printed")
	}

	for _, tc := range []struct {
		query, want string
		join        func(context.Context, peer.Page, io.Writer) (roomJoin, error)
	}{
		{"?room=GONE", "joining the room: the server is gone", func(context.Context, peer.Page, io.Writer) (roomJoin, error) {
			return roomJoin{}, errors.New("the server is gone")
		}},
		{"?room=W&spectate=1", "starting to watch: watch: the link names no player 0", func(context.Context, peer.Page, io.Writer) (roomJoin, error) {
			c, err := network.Listen(netip.MustParseAddrPort("[fd70::3]:7000"))
			return roomJoin{link: peer.Link{Conn: c, Name: "room W"}}, err
		}},
	} {
		joinRoom = tc.join
		pg, err := peer.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		s := startPage(pg, nil, io.Discard)
		for i := 0; i < 600 && !s.Done(); i++ {
			s.Tick(game.Input{})
			time.Sleep(time.Millisecond) // joinRoom runs in the background
		}
		v := s.View()
		if !s.Done() || v.Phase != peer.PhaseFailed || v.Notice == nil || v.Notice.Title != "Could not join the room" {
			t.Errorf("%s: done %v, view %v %+v", tc.query, s.Done(), v.Phase, v.Notice)
		}
		if err := s.Close(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Close = %v, want %q", tc.query, err, tc.want)
		}
	}
}

func TestForPage(t *testing.T) {
	for _, tc := range []struct {
		in, want render.Screen
	}{
		{
			render.Screen{Title: "The other player left", Lines: []string{"Final score: 3.", "", "To play again, both players start p2pa again. Here:"}, Code: []string{"p2pa -p 0 -listen :7000"}, Footer: "Esc closes the window."},
			render.Screen{Title: "The other player left", Lines: []string{"Final score: 3.", ""}, Footer: "Reload the page to play again."},
		},
		{
			render.Screen{Title: "Game over", Lines: []string{"60 frames played."}, Footer: "Esc closes the window; start p2pa again for a new match."},
			render.Screen{Title: "Game over", Lines: []string{"60 frames played."}, Footer: "Reload the page to play again."},
		},
	} {
		got := forPage(tc.in)
		if got.Title != tc.want.Title || strings.Join(got.Lines, "|") != strings.Join(tc.want.Lines, "|") || len(got.Code) != 0 || got.Footer != tc.want.Footer {
			t.Errorf("forPage(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"one two three", 7, []string{"one two", "three"}},
		{"averyveryverylongword x", 5, []string{"averyveryverylongword", "x"}},
	} {
		if got := wrap(tc.s, tc.width); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}
