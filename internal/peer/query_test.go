package peer

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"p2pa/game"
)

func TestParseQuery(t *testing.T) {
	base := defaultOptions()
	base.Listen = ""
	with := func(f func(pg *Page)) Page {
		pg := Page{Options: base}
		f(&pg)
		return pg
	}
	for _, tc := range []struct {
		query string
		want  Page
	}{
		{"", Page{Options: base}},
		{"?", Page{Options: base}},
		{"?bot=1&frames=1200&seed=7", with(func(pg *Page) { pg.Bot, pg.Frames, pg.Seed = true, 1200, 7 })},
		{"bot&frames=60", with(func(pg *Page) { pg.Bot, pg.Frames = true, 60 })},
		{"?bot=0", Page{Options: base}},
		{"?room=K7QF2M&p=1", with(func(pg *Page) { pg.Room, pg.Player, pg.Seat = "K7QF2M", 1, true })},
		{"?room=K7QF2M", with(func(pg *Page) { pg.Room = "K7QF2M" })},
		{"?room=friday&p=0", with(func(pg *Page) { pg.Room, pg.Seat = "friday", true })},
		{"?disconnect=30s&rejoin=1m", with(func(pg *Page) { pg.Disconnect, pg.Rejoin = 30*time.Second, time.Minute })},
		{"?room=K7QF2M&spectate=1", with(func(pg *Page) { pg.Room, pg.Watch = "K7QF2M", true })},
		{"?local=1&bot=true", with(func(pg *Page) { pg.Local, pg.Bot = true, true })},
		{"?mode=versus&coins=10&delay=2&secret=pass%20word", with(func(pg *Page) {
			pg.Mode, pg.ModeSet, pg.Coins, pg.CoinsSet, pg.Delay, pg.Secret = game.Versus, true, 10, true, 2, "pass word"
		})},
		{"?players=3&p=2&room=R", with(func(pg *Page) {
			pg.Players, pg.PlayersSet, pg.Player, pg.Seat, pg.Room, pg.Mode = 3, true, 2, true, "R", game.Versus
		})},
		// A value that starts with '-' is a value, not another flag.
		{"?seed=-1", with(func(pg *Page) { pg.Seed = 1<<64 - 1 })},
	} {
		got, err := ParseQuery(tc.query)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tc.query, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseQuery(%q) =\n %+v\nwant\n %+v", tc.query, got, tc.want)
		}
	}
}

// TestParseQueryErrors: the page address is outside input; every bad one is a message that
// names what is wrong, never a panic.
func TestParseQueryErrors(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"?coins=0", "in the page address: coins=0: must be 1.."},
		{"?coins=many", `coins=many: not a valid value (parse error)`},
		{"?mode=chess", "mode=chess: want classic or versus"},
		{"?p=7", "p=7: a 2-player game has players 0..1"},
		{"?frames=-5", "frames=-5: must not be negative"},
		{"?delay=99", "delay=99: must be 0.."},
		{"?bot=maybe", "bot=maybe: want 1 or 0"},
		{"?spectate=2", "spectate=2: want 1 or 0"},
		{"?listen=:7000", `unknown option "listen" in the page address`},
		{"?peer=1.2.3.4:7000", `unknown option "peer"`},
		{"?frames=1&frames=2", "frames= is given 2 times"},
		{"?room=a/b", "room=\"a/b\": a room code has only letters"},
		{"?room=", "a room code has 1..64 characters"},
		{"?room=" + strings.Repeat("x", 65), "a room code has 1..64 characters"},
		{"?%zz", "malformed"},
		{"?local=1&room=ABC", "local=1 plays both sides in this page"},
		{"?local=1&players=3", "local=1 plays a 2-player match"},
		{"?players=3&mode=classic", "mode=classic: classic is a 2-player mode"},
		{"?seed=x", "seed=x: not a valid value"},
		{"?players=9", "players=9: a network game has 2..4 players"},
		{"?p=1", "p=1..3 join a room: add room=CODE"},
		{"?spectate=1", "spectate=1 and p=1..3 join a room"},
		{"?room=R&spectate=1&p=1", "spectate=1 watches without a seat"},
		{"?disconnect=soon", "disconnect=soon: not a valid value"},
		{"?disconnect=-1s", "disconnect=-1s"},
	} {
		_, err := ParseQuery(tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseQuery(%q) = %v, want an error containing %q", tc.query, err, tc.want)
		}
	}
}

func TestFormatResult(t *testing.T) {
	for _, tc := range []struct {
		frame     int64
		sum       uint64
		rollbacks int64
		rtt       time.Duration
		want      string
	}{
		{1200, 0x12b5535f66547372, 31, 1234567 * time.Nanosecond, "frame=1200 checksum=12b5535f66547372 rollbacks=31 rtt_ms=1.23"},
		{0, 1, 0, 0, "frame=0 checksum=0000000000000001 rollbacks=0 rtt_ms=0.00"},
	} {
		if got := FormatResult(tc.frame, tc.sum, tc.rollbacks, tc.rtt); got != tc.want {
			t.Errorf("FormatResult = %q, want %q", got, tc.want)
		}
	}
}
