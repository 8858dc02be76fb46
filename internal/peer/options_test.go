package peer

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep/synctest"
	"p2pa/transport"
)

// defaultOptions is what `p2pa` alone means: player 0 of 2, listening on :7000.
func defaultOptions() Options {
	return Options{
		Player:           0,
		Players:          2,
		Listen:           ":7000",
		MaxPred:          8,
		Mode:             game.Classic,
		Coins:            game.DefaultCoins,
		CheckDistance:    synctest.DefaultDistance,
		Interrupt:        750 * time.Millisecond,
		Disconnect:       5 * time.Second,
		Rejoin:           30 * time.Second,
		ChecksumInterval: 60,
		Speed:            1,
		Name:             DefaultName(),
	}
}

func TestParseFlags(t *testing.T) {
	with := func(f func(o *Options)) Options {
		o := defaultOptions()
		f(&o)
		return o
	}
	link, err := transport.ParseNetsim("latency=40ms,loss=5%")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want Options
	}{
		{nil, defaultOptions()},
		{[]string{"-p", "0"}, defaultOptions()},
		{[]string{"-p", "1", "-peer", "127.0.0.1:7000"}, with(func(o *Options) { o.Player, o.Peer, o.Listen = 1, "127.0.0.1:7000", ":0" })},
		{[]string{"-p", "1", "-peer", ":7000", "-listen", "127.0.0.1:7001"}, with(func(o *Options) { o.Player, o.Peer, o.Listen = 1, ":7000", "127.0.0.1:7001" })},
		{[]string{"-listen", "127.0.0.1:0"}, with(func(o *Options) { o.Listen = "127.0.0.1:0" })},
		// A joining player with no address looks for one (FindGame); -join names the match.
		{[]string{"-p", "1"}, with(func(o *Options) { o.Player, o.Listen = 1, ":0" })},
		{[]string{"-p", "1", "-join", "alice"}, with(func(o *Options) { o.Player, o.Listen, o.Join = 1, ":0", "alice" })},
		{[]string{"-name", "living-room_2", "-no-advertise"}, with(func(o *Options) { o.Name, o.NoAdvertise = "living-room_2", true })},
		{[]string{"-seed", "7", "-frames", "300", "-bot", "-headless"}, with(func(o *Options) { o.Seed, o.Frames, o.Bot, o.Headless = 7, 300, true, true })},
		{[]string{"-seed", "-1"}, with(func(o *Options) { o.Seed = math.MaxUint64 })},
		// Through a room: no LAN advertisement; a spectator names the room it watches.
		{[]string{"-server", "http://203.0.113.7:8080"}, with(func(o *Options) { o.Server, o.NoAdvertise = "http://203.0.113.7:8080", true })},
		{[]string{"-p", "1", "-server", "ws://h:1/ws", "-room", "k7qf2ma"}, with(func(o *Options) {
			o.Player, o.Listen, o.Server, o.Room, o.NoAdvertise = 1, ":0", "ws://h:1/ws", "k7qf2ma", true
		})},
		{[]string{"-server", "http://h:1", "-spectate", "K7QF2MA"}, with(func(o *Options) {
			o.Server, o.Spectate, o.Room, o.NoAdvertise = "http://h:1", "K7QF2MA", "K7QF2MA", true
		})},
		{[]string{"-mode", "VERSUS", "-coins", "100"}, with(func(o *Options) { o.Mode, o.ModeSet, o.Coins, o.CoinsSet = game.Versus, true, 100, true })},
		// 3-4 players: player 0 hosts them, in versus; a joiner assumes the fewest that fit
		// its seat until player 0 tells it the count.
		{[]string{"-players", "3"}, with(func(o *Options) { o.Players, o.PlayersSet, o.Mode = 3, true, game.Versus })},
		{[]string{"-players", "4", "-mode", "versus"}, with(func(o *Options) { o.Players, o.PlayersSet, o.Mode, o.ModeSet = 4, true, game.Versus, true })},
		{[]string{"-spectate", "127.0.0.1:7000", "-headless", "-frames", "900"}, with(func(o *Options) {
			o.Spectate, o.Headless, o.Frames, o.Listen = "127.0.0.1:7000", true, 900, ":0"
		})},
		{[]string{"-p", "2", "-peer", "127.0.0.1:7000"}, with(func(o *Options) {
			o.Player, o.Players, o.Mode, o.Peer, o.Listen = 2, 3, game.Versus, "127.0.0.1:7000", ":0"
		})},
		{[]string{"-delay", "30", "-maxpred", "60"}, with(func(o *Options) { o.Delay, o.MaxPred = 30, 60 })},
		{[]string{"-netsim", "latency=40ms,loss=5%"}, with(func(o *Options) { o.Netsim, o.NetsimCfg = "latency=40ms,loss=5%", link })},
		{[]string{"-interrupt", "1s", "-disconnect", "1s", "-checksum-interval", "1"}, with(func(o *Options) { o.Interrupt, o.Disconnect, o.ChecksumInterval = time.Second, time.Second, 1 })},
		// The sync test runs alone: any player count, a deep check without -maxpred, no address.
		{[]string{"-synctest", "-players", "4", "-check", "20"}, with(func(o *Options) {
			o.SyncTest, o.Players, o.PlayersSet, o.CheckDistance, o.Listen = true, 4, true, 20, ""
		})},
		{[]string{"-synctest", "-check", "8", "-maxpred", "8"}, with(func(o *Options) { o.SyncTest, o.Listen = true, "" })},
		{[]string{"-replay", "m.p2pa", "-speed", "4"}, with(func(o *Options) { o.Replay, o.Speed, o.Listen = "m.p2pa", 4, "" })},
		{[]string{"-diff", "a.state", "b.state"}, Options{Diff: true, Name: DefaultName(), DiffA: "a.state", DiffB: "b.state", Players: 2, MaxPred: 8, Coins: game.DefaultCoins,
			CheckDistance: synctest.DefaultDistance, Interrupt: 750 * time.Millisecond, Disconnect: 5 * time.Second, Rejoin: 30 * time.Second, ChecksumInterval: 60, Speed: 1}},
		{[]string{"-record", "out.p2pa", "-v", "-profile", "cpu", "-screenshot", "s.png"}, with(func(o *Options) { o.Record, o.Verbose, o.Profile, o.Screenshot = "out.p2pa", true, "cpu", "s.png" })},
	} {
		var stderr strings.Builder
		got, err := ParseFlags("p2pa", tc.args, &stderr)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
		if stderr.Len() != 0 {
			t.Errorf("%q: wrote %q", tc.args, stderr.String())
		}
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the flag the one-line error must name
	}{
		{[]string{"-bogus"}, "-bogus"},
		{[]string{"-p"}, "-p"},
		{[]string{"-p", "x"}, "-p"},
		// Every player number out of range gets the same sentence.
		{[]string{"-p", "-1"}, "-p -1: a 2-player game has players 0..1"},
		{[]string{"-p", "7"}, "-p 7: a 2-player game has players 0..1"},
		{[]string{"-p", "2", "-players", "2"}, "-p 2: a 2-player game has players 0..1"},
		{[]string{"-synctest", "-players", "4", "-p", "4"}, "-p 4: a 4-player game has players 0..3"},
		// The range named is the mode's: a network game takes 2..4, -synctest 1..4.
		{[]string{"-players", "5"}, "-players 5: a network game has 2..4 players"},
		{[]string{"-players", "99"}, "-players 99: a network game has 2..4 players"},
		{[]string{"-players", "1"}, "-players 1: a network game has 2..4 players"},
		{[]string{"-players", "0"}, "-players 0: a network game has 2..4 players"},
		{[]string{"-synctest", "-players", "5"}, "-players 5: -synctest takes 1..4 players"},
		{[]string{"-spectate", "nohost", "-headless"}, "-spectate"},
		{[]string{"-room", "abc"}, "-room: only with -server URL"},
		{[]string{"-p", "1", "-server", "http://h:1"}, "-room: player 1 joins a room"},
		{[]string{"-server", "ftp://h:1"}, "-server ftp://h:1"},
		{[]string{"-server", "http://h:1", "-room", "no spaces"}, "-room no spaces"},
		{[]string{"-server", "http://h:1", "-peer", "127.0.0.1:7000"}, "-peer: not with -server"},
		{[]string{"-server", "http://h:1", "-listen", ":7000"}, "-listen: not with -server"},
		{[]string{"-server", "http://h:1", "-spectate", "a", "-room", "b"}, "-spectate a"},
		{[]string{"-server", "http://h:1", "-spectate", "a", "-p", "1"}, "-p: a spectator has no seat"},
		{[]string{"-players", "3", "-mode", "classic"}, "-mode classic"},
		{[]string{"-players", "3", "-peer", "127.0.0.1:7000"}, "-peer"},
		{[]string{"-frames", "-1"}, "-frames -1"},
		{[]string{"-delay", "-1"}, "-delay -1"},
		{[]string{"-delay", "31"}, "-delay 31"},
		{[]string{"-maxpred", "0"}, "-maxpred 0"},
		{[]string{"-maxpred", "61"}, "-maxpred 61"},
		{[]string{"-check", "0"}, "-check 0"},
		{[]string{"-check", "20", "-maxpred", "8"}, "-check 20"},
		{[]string{"-synctest", "-check", "61"}, "-check 61"},
		{[]string{"-coins", "0"}, "-coins 0"},
		{[]string{"-interrupt", "0s"}, "-interrupt"},
		{[]string{"-interrupt", "1s", "-disconnect", "500ms"}, "-disconnect"},
		{[]string{"-disconnect", "soon"}, "-disconnect"},
		{[]string{"-checksum-interval", "0"}, "-checksum-interval 0"},
		{[]string{"-speed", "2"}, "-speed 2"},
		{[]string{"-profile", "gpu"}, "-profile gpu"},
		{[]string{"-mode", "coop"}, "-mode coop"},
		{[]string{"-seed", "seven"}, "-seed"},
		{[]string{"-netsim", "latency=fast"}, "-netsim"},
		{[]string{"-netsim", "loss=101%"}, "-netsim"},
		{[]string{"-listen", "not an address"}, "-listen"},
		{[]string{"-listen", "127.0.0.1:70000"}, "-listen"},
		{[]string{"-name", "a b"}, "-name"},
		{[]string{"-name", "a.local"}, "-name"},
		{[]string{"-join", "alice"}, "-join"},
		{[]string{"-p", "1", "-join", "alice", "-peer", "127.0.0.1:7000"}, "-join"},
		{[]string{"-p", "1", "-join", "x\\032y"}, "-join"},
		{[]string{"-p", "1", "-peer", "nohost"}, "-peer"},
		{[]string{"-p", "1", "-peer", "127.0.0.1:0"}, "-peer"},
		{[]string{"-diff", "a.state"}, "-diff: want two state files, got 1 argument"},
		{[]string{"-diff", "a", "b", "c"}, "got 3 arguments"},
		{[]string{"stray"}, `"stray"`},
	} {
		var stderr strings.Builder
		_, err := ParseFlags("p2pa", tc.args, &stderr)
		switch {
		case err == nil:
			t.Errorf("%q: accepted", tc.args)
		case errors.Is(err, ErrHelp):
			t.Errorf("%q: asked for help", tc.args)
		case strings.Contains(err.Error(), "\n"):
			t.Errorf("%q: error of several lines: %q", tc.args, err)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%q: %q does not name %q", tc.args, err, tc.want)
		}
		if stderr.Len() != 0 {
			t.Errorf("%q: wrote %q besides returning the error", tc.args, stderr.String())
		}
	}
}

func TestParseFlagsHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var usage strings.Builder
		_, err := ParseFlags("p2pa", []string{arg}, &usage)
		if !errors.Is(err, ErrHelp) {
			t.Errorf("%s: %v, want ErrHelp", arg, err)
		}
		out := usage.String()
		for _, want := range []string{"-netsim", "-headless", "each direction", "160 ms", "130", "143"} {
			if !strings.HasPrefix(out, Usage) || !strings.Contains(out, want) {
				t.Errorf("%s: usage lacks %q: %q", arg, want, out)
			}
		}
	}
}

func TestGameDescription(t *testing.T) {
	o, err := ParseFlags("p2pa", []string{"-mode", "versus", "-coins", "7"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	a := o.GameDescription()
	o.Coins = 8
	if a != "p2pa-coins mode=versus coins=7" || a == o.GameDescription() {
		t.Errorf("descriptions %q and %q", a, o.GameDescription())
	}
}

// TestParseGameDescription: what GameDescription writes reads back; anything else (another
// game, another spelling, a coin count p2pa would refuse) is not adopted.
func TestParseGameDescription(t *testing.T) {
	for _, tc := range []struct {
		in    string
		mode  game.Mode
		coins int
		ok    bool
	}{
		{"p2pa-coins mode=classic coins=50", game.Classic, 50, true},
		{"p2pa-coins mode=versus coins=80", game.Versus, 80, true},
		{fmt.Sprintf("p2pa-coins mode=versus coins=%d", game.MaxCoins), game.Versus, game.MaxCoins, true},
		{"p2pa-coins mode=versus coins=0", 0, 0, false},
		{fmt.Sprintf("p2pa-coins mode=versus coins=%d", game.MaxCoins+1), 0, 0, false},
		{"p2pa-coins mode=VERSUS coins=80", 0, 0, false},
		{"p2pa-coins mode=versus coins=080", 0, 0, false},
		{"p2pa-coins mode=versus  coins=80", 0, 0, false},
		{"p2pa-coins coins=80 mode=versus", 0, 0, false},
		{"p2pa-coins mode=tag coins=80", 0, 0, false},
		{"p2pa-coins mode=versus coins=80 extra=1", 0, 0, false},
		{"pong", 0, 0, false},
		{"", 0, 0, false},
	} {
		mode, coins, err := parseGameDescription(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (mode != tc.mode || coins != tc.coins)) {
			t.Errorf("%q: %v %d %v, want %v %d ok=%v", tc.in, mode, coins, err, tc.mode, tc.coins, tc.ok)
		}
	}
}

// FuzzParseGameDescription: whatever player 0's handshake says, parsing it never panics,
// and what it accepts is exactly what GameDescription would have written.
func FuzzParseGameDescription(f *testing.F) {
	f.Add("p2pa-coins mode=classic coins=50")
	f.Add("p2pa-coins mode=versus coins=80")
	f.Add("p2pa-coins mode=versus coins=-1")
	f.Fuzz(func(t *testing.T, s string) {
		mode, coins, err := parseGameDescription(s)
		if err != nil {
			return
		}
		if got := (Options{Mode: mode, Coins: coins}).GameDescription(); got != s {
			t.Fatalf("%q parsed as %v %d, which writes %q", s, mode, coins, got)
		}
		if coins < 1 || coins > game.MaxCoins {
			t.Fatalf("%q: %d coins accepted", s, coins)
		}
	})
}

// TestAdoptsGame: browsing keeps a match a joiner could play: player 0's mode and coins for
// whichever of -mode and -coins it was not given; a match that contradicts a flag given, or
// is not a coin game, is not offered.
func TestAdoptsGame(t *testing.T) {
	for _, tc := range []struct {
		args []string
		game string
		want int // players the match wants
		ok   bool
	}{
		{[]string{"-p", "1"}, "p2pa-coins mode=classic coins=50", 2, true},
		{[]string{"-p", "1"}, "p2pa-coins mode=versus coins=80", 2, true},
		{[]string{"-p", "1"}, "p2pa-coins mode=versus coins=50", 4, true},
		{[]string{"-p", "1", "-mode", "versus"}, "p2pa-coins mode=versus coins=80", 2, true},
		{[]string{"-p", "1", "-mode", "classic"}, "p2pa-coins mode=versus coins=50", 2, false},
		{[]string{"-p", "1", "-coins", "50"}, "p2pa-coins mode=classic coins=80", 2, false},
		{[]string{"-p", "1", "-coins", "80"}, "p2pa-coins mode=versus coins=80", 2, true},
		// -players 3 plays versus: a classic match cannot be it.
		{[]string{"-p", "1", "-players", "3"}, "p2pa-coins mode=classic coins=50", 2, false},
		{[]string{"-p", "1", "-players", "3"}, "p2pa-coins mode=versus coins=50", 3, true},
		{[]string{"-p", "1"}, "pong", 2, false},
	} {
		o, err := ParseFlags("p2pa", tc.args, &strings.Builder{})
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := adoptsGame(o, Found{Game: tc.game, Want: tc.want}); got != tc.ok {
			t.Errorf("%q and a %d-player %q: %v, want %v", tc.args, tc.want, tc.game, got, tc.ok)
		}
	}
}
