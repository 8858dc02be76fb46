package peer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/lockstep/synctest"
	"p2pa/netplay"
	"p2pa/rendezvous"
	"p2pa/transport"
)

// The values of -on-desync.
const (
	onDesyncResync = "resync"
	onDesyncStop   = "stop"
)

// DefaultPort is where player 0 listens unless told otherwise, as in the 2020 prototype.
const DefaultPort = "7000"

// Options is everything the command line can say. Both binaries (p2pa and p2pa-window)
// parse the same flags with ParseFlags, so p2pa can hand its arguments to the window as is.
type Options struct {
	Player  int
	Players int
	// PlayersSet, ModeSet, CoinsSet: -players, -mode and -coins were given. A joiner adopts
	// player 0's count, mode and coins for each one not given (more than 2 players play
	// versus unless -mode says otherwise); one given and different is an error naming it.
	PlayersSet, ModeSet, CoinsSet bool
	Spectate                      string // -spectate HOST:PORT: watch player 0's match there
	// Server and Room: meet the others in a room on a rendezvous server (p2pa -serve)
	// instead of at UDP addresses, which works across NATs (JoinRoom).
	Server     string
	Room       string
	Listen     string
	Peer       string
	Delay      int
	MaxPred    int
	Mode       game.Mode
	Coins      int
	Seed       uint64 // 0: player 0 picks one at random
	Secret     string // both players give the same word, or neither does
	Frames     int    // stop once this frame is confirmed; 0: play until quit
	Netsim     string
	NetsimCfg  transport.LinkConfig
	Bot        bool
	Headless   bool
	Verbose    bool
	Screenshot string
	Profile    string

	SyncTest      bool
	CheckDistance int

	Interrupt        time.Duration
	Disconnect       time.Duration
	Rejoin           time.Duration
	ChecksumInterval int
	StopOnDesync     bool // -on-desync stop (the default, resync, mends a desync and plays on)

	// WrapGame, if set, replaces the coin game a match plays (a game that diverges on
	// purpose, in builds with the p2pa_diverge tag: see ExtraFlags).
	WrapGame func(*game.State) lockstep.Game

	Record string
	Replay string
	Speed  int // replay speed in the window: 1 or 4
	DiffA  string
	DiffB  string
	Diff   bool

	Name        string // the name player 0 advertises (default: the host's)
	NoAdvertise bool
	Join        string // a joining player with no -peer joins the match advertised as this

	Serve ServeOptions // p2pa -serve: run the rendezvous server instead of playing
}

// ExtraFlags, if set, adds flags that only some builds have (cmd/p2pa's p2pa_diverge tag
// sets it in an init function): it is called with the flag set before parsing, and the
// function it returns with the options after.
var ExtraFlags func(fs *flag.FlagSet) func(o *Options) error

// ErrHelp is returned when -h was asked for; the usage text was printed.
var ErrHelp = flag.ErrHelp

// Usage is the text -h prints.
const Usage = `p2pa — two players collect bouncing coins; only their inputs cross the network.

Usage:
  p2pa [flags]                       player 0, listening on :7000, advertised on the LAN
  p2pa -p 1 [flags]                  player 1, finding player 0 on the LAN or this machine
  p2pa -p 1 -peer HOST:7000 [flags]  player 1, joining player 0 at that address

One machine, two windows:
  p2pa -p 0 -listen 127.0.0.1:7000 &
  p2pa -p 1 -peer 127.0.0.1:7000

Two machines on a LAN (player 0's banner prints the address to use):
  on 192.168.1.20:   p2pa -p 0 -listen :7000
  on the other one:  p2pa -p 1 -peer 192.168.1.20:7000

Without a display (bots play, the last line is the result):
  p2pa -p 0 -listen 127.0.0.1:7000 -headless -bot -frames 1200
  p2pa -p 1 -peer 127.0.0.1:7000 -headless -bot -frames 1200

A rendezvous server for play across NATs (rooms over HTTP/WebSocket on :8080, and a
TURN relay on UDP 3478 for players no direct path joins; until stopped):
  p2pa -serve :8080 -turn :3478 -public 203.0.113.7

Determinism check (forced rollbacks every frame, checksums compared):
  p2pa -synctest -frames 100000 -seed 7

Controls: left click starts the coins, right click turns collection on, F1 shows the
network HUD, Esc quits (the other player sees "peer left").

Exit status: 0 for a match that ended normally (-frames reached, or Esc), 1 when it
failed or ended before -frames (the peer left, vanished or desynced), 2 for bad
arguments, 130 when Ctrl-C (SIGINT) and 143 when SIGTERM stopped it before -frames.

Flags:
`

// ParseFlags parses args (without the program name). Errors are one line naming the flag;
// the caller prints them and exits with status 2. -h prints the usage to usageOut (stdout:
// help that was asked for is output, not an error) and returns ErrHelp.
func ParseFlags(name string, args []string, usageOut io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var mode string
	var seed int64
	var public, allow, ice string
	serveFlagVars(fs, &o, &public, &allow, &ice)
	fs.IntVar(&o.Player, "p", 0, "player number: 0 hosts and waits, 1 joins (finds player 0, or -peer, -join)")
	fs.IntVar(&o.Players, "players", lockstep.DefaultPlayers, "players in the game, 2..4 (player 0 decides; the others learn it from player 0; -synctest takes 1..4)")
	fs.StringVar(&o.Listen, "listen", "", "local UDP address (default :7000 for player 0, any free port for player 1)")
	fs.StringVar(&o.Peer, "peer", "", "the other player's address, host:port (player 1 without it looks for player 0)")
	fs.IntVar(&o.Delay, "delay", 0, "input delay in frames (hides latency, costs responsiveness)")
	fs.IntVar(&o.MaxPred, "maxpred", lockstep.DefaultMaxPrediction, "prediction window: frames the game may run ahead of the remote input")
	fs.StringVar(&mode, "mode", "classic", "game mode: classic (player 1 collects) or versus (each player has a collector)")
	fs.IntVar(&o.Coins, "coins", game.DefaultCoins, "coins per round")
	fs.Int64Var(&seed, "seed", 0, "RNG seed (player 0's is used by both; 0 picks one)")
	fs.StringVar(&o.Secret, "secret", "", "a word both players give: the handshake proves it without sending it, and a peer with another (or none) is refused")
	fs.IntVar(&o.Frames, "frames", 0, "stop once this frame is confirmed and print the result line (0: play until quit; -synctest: 10000; -replay: the whole recording)")
	fs.StringVar(&o.Netsim, "netsim", "", "emulate a bad link on this peer, e.g. 'latency=40ms,jitter=10ms,loss=5%,dup=1%,reorder=1%'\n"+
		"or a thin one, 'rate=32kbit,queue=10kB'. Each setting applies to each direction, on this peer:\n"+
		"latency=40ms adds 80 ms to the round trip; the same flag on both peers adds 160 ms (plus jitter)")
	fs.BoolVar(&o.Bot, "bot", false, "a bot plays this player's input")
	fs.BoolVar(&o.Headless, "headless", false, "no window (works without a display)")
	fs.BoolVar(&o.Verbose, "v", false, "verbose structured logs on stderr")
	fs.StringVar(&o.Screenshot, "screenshot", "", "on exit, write the playfield at the final frame as PNG (the same pixels on both peers)")
	fs.StringVar(&o.Profile, "profile", "", "write a profile: cpu or mem")
	fs.BoolVar(&o.SyncTest, "synctest", false, "run the determinism sync test instead of a game")
	fs.IntVar(&o.CheckDistance, "check", synctest.DefaultDistance, "sync test: frames rolled back every frame")
	fs.DurationVar(&o.Interrupt, "interrupt", lockstep.DefaultInterruptTimeout, "silence after which the peer shows as interrupted")
	fs.DurationVar(&o.Disconnect, "disconnect", lockstep.DefaultDisconnectTimeout, "silence after which the peer is dropped")
	fs.DurationVar(&o.Rejoin, "rejoin", netplay.DefaultRejoin, "how long the others wait, paused, for a player who dropped to rejoin\n"+
		"(running the same command again); 0: a dropped player ends a 2-player match")
	fs.IntVar(&o.ChecksumInterval, "checksum-interval", lockstep.DefaultChecksumInterval, "compare state checksums with the peer every this many frames")
	onDesync := fs.String("on-desync", onDesyncResync, "on a desync (the checksums of a frame differ): resync (hand the right state to the\n"+
		"peer that differs and play on; more than 3 desyncs in a minute end the match) or stop (end the match)")
	var extra func(*Options) error
	if ExtraFlags != nil {
		extra = ExtraFlags(fs)
	}
	fs.StringVar(&o.Record, "record", "", "record the match (header and every confirmed input) to this file")
	fs.StringVar(&o.Replay, "replay", "", "replay a recorded match from this file")
	fs.IntVar(&o.Speed, "speed", 1, "replay speed in the window: 1 or 4")
	fs.BoolVar(&o.Diff, "diff", false, "compare two saved state files: p2pa -diff a.state b.state")
	fs.StringVar(&o.Name, "name", "", "the name player 0 advertises its match as on the LAN (default: this host's name)")
	fs.BoolVar(&o.NoAdvertise, "no-advertise", false, "player 0: do not advertise the match on the LAN (a -listen on 127.0.0.1 never is)")
	fs.StringVar(&o.Spectate, "spectate", "", "watch the match whose player 0 is at host:port, in a window or -headless (with -frames N: stop there and print the players' result line)")
	fs.StringVar(&o.Server, "server", "", "play across the internet: meet the others in a room on this server (run by p2pa -serve),\n"+
		"e.g. http://203.0.113.7:8080; player 0 opens the room and prints the command the others run")
	fs.StringVar(&o.Room, "room", "", "with -server: the room (player 0: claim this name, default a random code; the others: the\n"+
		"code player 0 printed)")
	fs.StringVar(&o.Join, "join", "", "without -peer: join the match advertised under this name")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(usageOut, Usage)
			fs.SetOutput(usageOut)
			fs.PrintDefaults()
			return o, ErrHelp
		}
		return o, oneLine(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch *onDesync {
	case onDesyncResync:
	case onDesyncStop:
		o.StopOnDesync = true
	default:
		return o, fmt.Errorf("-on-desync %s: want %s or %s", *onDesync, onDesyncResync, onDesyncStop)
	}
	if extra != nil {
		if err := extra(&o); err != nil {
			return o, err
		}
	}
	o.PlayersSet, o.ModeSet, o.CoinsSet = set["players"], set["mode"], set["coins"]
	if !o.PlayersSet && o.Player >= o.Players && o.Player < lockstep.MaxPlayers && !o.SyncTest {
		// A joiner need not know how many play: player 0 tells it in the handshake (the
		// match starts over with that count). Until then it assumes the fewest that fit.
		o.Players = o.Player + 1
	}
	o.Seed = uint64(seed)
	if err := o.checkDiscovery(); err != nil {
		return o, err
	}

	if o.Diff {
		if fs.NArg() != 2 {
			return o, fmt.Errorf("-diff: want two state files, got %s", count(fs.NArg(), "argument"))
		}
		o.DiffA, o.DiffB = fs.Arg(0), fs.Arg(1)
		return o, nil
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	if err := o.checkServe(name, set, public, allow, ice); err != nil {
		return o, err
	}
	if o.Serve.Addr != "" {
		return o, nil // the server plays no match: the game's flags keep their defaults
	}
	m, err := game.ParseMode(mode)
	if err != nil {
		return o, fmt.Errorf("-mode %s: want classic or versus", mode)
	}
	o.Mode = m
	switch {
	case (o.Players < 1 || o.Players > lockstep.MaxPlayers) && o.SyncTest:
		return o, fmt.Errorf("-players %d: -synctest takes 1..%d players", o.Players, lockstep.MaxPlayers)
	case (o.Players < 1 || o.Players > lockstep.MaxPlayers) && o.Replay != "":
		return o, fmt.Errorf("-players %d: must be 1..%d", o.Players, lockstep.MaxPlayers)
	case o.Players < 1 || o.Players > lockstep.MaxPlayers:
		// The range of the mode asked for: a network game (below) takes at least two.
		return o, fmt.Errorf("-players %d: a network game has 2..%d players", o.Players, lockstep.MaxPlayers)
	case o.Player < 0 || o.Player >= o.Players:
		return o, fmt.Errorf("-p %d: a %d-player game has players 0..%d", o.Player, o.Players, o.Players-1)
	case o.Frames < 0:
		return o, fmt.Errorf("-frames %d: must not be negative", o.Frames)
	case o.Delay < 0 || o.Delay > lockstep.MaxInputDelay:
		return o, fmt.Errorf("-delay %d: must be 0..%d", o.Delay, lockstep.MaxInputDelay)
	case o.MaxPred < 1 || o.MaxPred > lockstep.MaxPrediction:
		return o, fmt.Errorf("-maxpred %d: must be 1..%d", o.MaxPred, lockstep.MaxPrediction)
	case o.CheckDistance < 1:
		return o, fmt.Errorf("-check %d: rollback depth must be at least 1", o.CheckDistance)
	case o.CheckDistance > o.MaxPred && set["maxpred"]:
		return o, fmt.Errorf("-check %d: rollback depth over the prediction window (-maxpred %d)", o.CheckDistance, o.MaxPred)
	case o.CheckDistance > lockstep.MaxPrediction:
		return o, fmt.Errorf("-check %d: rollback depth over the largest prediction window (%d)", o.CheckDistance, lockstep.MaxPrediction)
	case o.Coins < 1 || o.Coins > game.MaxCoins:
		return o, fmt.Errorf("-coins %d: must be 1..%d", o.Coins, game.MaxCoins)
	case o.Interrupt <= 0:
		return o, fmt.Errorf("-interrupt %v: must be positive", o.Interrupt)
	case o.Disconnect < o.Interrupt:
		return o, fmt.Errorf("-disconnect %v: must not be shorter than -interrupt %v", o.Disconnect, o.Interrupt)
	case o.Rejoin < 0:
		return o, fmt.Errorf("-rejoin %v: must not be negative", o.Rejoin)
	case o.ChecksumInterval < 1:
		return o, fmt.Errorf("-checksum-interval %d: must be at least 1", o.ChecksumInterval)
	case o.Speed != 1 && o.Speed != 4:
		return o, fmt.Errorf("-speed %d: must be 1 or 4", o.Speed)
	case o.Profile != "" && o.Profile != "cpu" && o.Profile != "mem":
		return o, fmt.Errorf("-profile %s: want cpu or mem", o.Profile)
	}
	if o.SyncTest || o.Replay != "" {
		return o, nil
	}
	switch {
	case o.Players < 2:
		return o, fmt.Errorf("-players %d: a network game has 2..%d players", o.Players, lockstep.MaxPlayers)
	case o.Players > 2 && o.ModeSet && o.Mode == game.Classic:
		return o, fmt.Errorf("-mode classic: classic is a 2-player mode (one collector); %d players play versus", o.Players)
	case o.Players > 2 && o.Player == 0 && o.Peer != "":
		return o, fmt.Errorf("-peer: player 0 of a %d-player match hosts; the others join it with -peer", o.Players)
	}
	if o.Players > 2 {
		o.Mode = game.Versus // more than two players: every one steers a collector
	}
	if err := o.checkRoom(set); err != nil {
		return o, err
	}
	if o.Spectate != "" && o.Server == "" {
		if _, err := transport.ResolvePeer(o.Spectate); err != nil {
			return o, fmt.Errorf("-spectate: %w", err)
		}
		if o.Listen == "" {
			o.Listen = ":0"
		}
	}
	if o.Netsim != "" {
		cfg, err := transport.ParseNetsim(o.Netsim)
		if err != nil {
			return o, fmt.Errorf("-netsim: %w", err)
		}
		o.NetsimCfg = cfg
	}
	if o.Listen == "" {
		if o.Player == 0 {
			o.Listen = ":" + DefaultPort
		} else {
			o.Listen = ":0"
		}
	}
	if _, err := transport.ParseListen(o.Listen); err != nil {
		return o, fmt.Errorf("-listen: %w", err)
	}
	if o.Peer != "" {
		if _, err := transport.ResolvePeer(o.Peer); err != nil {
			return o, fmt.Errorf("-peer: %w", err)
		}
	}
	return o, nil
}

// checkRoom validates -server and -room: a room replaces the UDP addresses, and a joiner
// needs the room's code.
func (o *Options) checkRoom(set map[string]bool) error {
	if o.Server == "" {
		if set["room"] {
			return errors.New("-room: only with -server URL")
		}
		return nil
	}
	for _, f := range []string{"peer", "listen", "join", "netsim", "name", "no-advertise"} {
		if set[f] {
			return fmt.Errorf("-%s: not with -server (the room says where everyone is)", f)
		}
	}
	if o.Spectate != "" {
		// A spectator names the room it watches: -server URL -spectate CODE.
		if set["room"] && !strings.EqualFold(o.Room, o.Spectate) {
			return fmt.Errorf("-spectate %s: with -server it names the room to watch; -room says %s", o.Spectate, o.Room)
		}
		if set["p"] {
			return errors.New("-p: a spectator has no seat")
		}
		o.Room = o.Spectate
	}
	if _, err := rendezvous.WebSocketURL(o.Server); err != nil {
		return fmt.Errorf("-server %s: %w", o.Server, err)
	}
	if o.Room == "" && o.Player != 0 && o.Spectate == "" {
		return fmt.Errorf("-room: player %d joins a room: give the code player 0 printed", o.Player)
	}
	if o.Room != "" {
		if err := rendezvous.CheckRoomName(o.Room); err != nil {
			return fmt.Errorf("-room %s: %w", o.Room, err)
		}
	}
	o.NoAdvertise = true // nothing to find on the LAN: the room is where they meet
	return nil
}

// count is n and noun, in the plural unless n is 1: "1 argument", "0 arguments".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// oneLine turns the flag package's error into one line naming the flag.
func oneLine(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return errors.New(msg)
}

// GameDescription is what the handshake compares: peers must play the same game.
func (o Options) GameDescription() string {
	return fmt.Sprintf("p2pa-coins mode=%s coins=%d", o.Mode, o.Coins)
}

// parseGameDescription reads what GameDescription writes (player 0's, from its handshake or
// its LAN advertisement): the mode and the coin count. Anything else, even with extra
// spaces, is not a coin game a joiner could adopt.
func parseGameDescription(s string) (game.Mode, int, error) {
	const prefix = "p2pa-coins "
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a p2pa coin game", s)
	}
	fields := strings.Split(rest, " ")
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("%q: want mode=M coins=N", s)
	}
	mode, ok1 := strings.CutPrefix(fields[0], "mode=")
	coins, ok2 := strings.CutPrefix(fields[1], "coins=")
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("%q: want mode=M coins=N", s)
	}
	m, err := game.ParseMode(mode)
	if err != nil {
		return 0, 0, fmt.Errorf("%q: %w", s, err)
	}
	n, err := strconv.Atoi(coins)
	if err != nil || n < 1 || n > game.MaxCoins {
		return 0, 0, fmt.Errorf("%q: coins must be 1..%d", s, game.MaxCoins)
	}
	if (Options{Mode: m, Coins: n}).GameDescription() != s {
		// "coins=080", "mode=VERSUS": not what a p2pa writes, so not adopted.
		return 0, 0, fmt.Errorf("%q is not in p2pa's own form", s)
	}
	return m, n, nil
}
