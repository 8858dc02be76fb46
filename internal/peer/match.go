// Package peer is one player's side of a coin game: the command line (Options), and Match,
// a netplay.Runner (the loop, the handshake, the end of the match, shared with every front
// end) plus the coin-game layer: the bot or the window's input, the banner and the lines
// scripts read, the recording, desync dumps, the LAN advertisement and the exit statuses.
// Both binaries use it: p2pa headless (Serve), p2pa-window from its ebiten loop (Tick and
// Receive). It imports no ebiten, so the headless binary runs on machines without a display.
package peer

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"p2pa/discovery"
	"p2pa/game"
	"p2pa/internal/bot"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// Phase is what the match is doing, for the screen to show.
type Phase int

const (
	PhaseWaiting       Phase = iota // no word from the peer yet
	PhaseSynchronizing              // handshake under way (Status.Progress of Status.Total)
	PhaseRunning
	PhaseInterrupted // the peer has gone quiet; it may come back
	PhaseDisconnected
	PhasePeerLeft
	PhaseDesync
	PhaseDone   // -frames reached, or we quit; the result line is ready
	PhaseFailed // the handshake failed or the socket broke (Status.Err)
	// PhaseRejoinWait: a player dropped; the match is paused until it rejoins
	// (Status.Rejoin has who and the time left).
	PhaseRejoinWait
	// PhaseRejoining: we joined a match in progress; its state is being handed to us
	// (Status.Rejoin has the progress).
	PhaseRejoining
)

var phaseNames = [...]string{"waiting", "synchronizing", "running", "interrupted", "disconnected", "peer left", "desync", "done", "failed", "waiting for a rejoin", "rejoining"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// Status is a snapshot for the window.
type Status struct {
	Phase           Phase
	Progress, Total int
	Err             error
	Player          int
	LocalAddr       string
	Peer            string   // the peer's address, once known
	LANAddrs        []string // addresses of this machine to give the other player
	Frame           lockstep.Frame
	Confirmed       lockstep.Frame
	Stats           lockstep.Stats
	Stalled         int  // ticks the session could not advance (waiting for remote input)
	Waiting         bool // this tick was skipped for time sync
	DesyncFile      string
	Rejoin          netplay.RejoinStatus // a pause for a player who dropped, or our own rejoin
	// Paths says how each player was reached through a room: "direct", or "relay
	// HOST:PORT"; "" over UDP, and until reached.
	Paths [lockstep.MaxPlayers]string
}

// waitReminder is how long FindGame looks before it says it is still looking (later
// reminders back off, up to lookReminderMax). It is the runner's first "no answer" report
// (netplay.NoAnswerAfter), so the two waits a joiner meets read alike.
const waitReminder = netplay.NoAnswerAfter

// Match is one player's side of a coin game: a netplay.Runner (the loop, the handshake,
// the end of the match) plus what the coin game and the command line add: the bot or the
// window's input, the lines it prints, the recording, desync dumps, the LAN advertisement,
// and the exit status. Call Tick once per frame (60 times a second), or Serve.
type Match struct {
	opts  Options
	out   io.Writer
	log   *slog.Logger
	clock transport.Clock
	conn  transport.Conn
	udp   *transport.UDP // nil for a match over a Link
	// readable signals arrivals on conn; nil (never ready) when the Link's Conn cannot.
	readable <-chan struct{}
	notes    <-chan LinkNote // the Link's news, if it has any
	r        *netplay.Runner
	state    *game.State
	bot      *bot.Tape
	local    game.Input // the window's input for this tick
	rec      *recorder
	status   Status

	quitting     bool
	ticks, waits int       // the runner's ticks and time-sync waits as of the last step
	signal       os.Signal // the signal that asked us to stop (Stop), if any
	released     bool      // Close has closed the socket
	lastLog      time.Duration
	peerStat     []lockstep.PeerStats
	ad           *discovery.Advertiser // player 0's LAN advertisement while it waits

	peerAddrGiven netip.AddrPort            // -peer, resolved
	adoptedGame   bool                      // the mode and coins were taken from player 0's refusal
	restartGame   *gameChoice               // player 0's game, to start over with (adoptGame)
	seated        [lockstep.MaxPlayers]bool // player 0 of 3-4: who it has said is in

	// lastStepAt is when the last step of the runner ended (afterStep). A step that starts
	// much later means this process did not run in between (SIGSTOP, a suspended laptop):
	// the peer it then finds silent is silent because of us, and a pause it opens for that
	// peer is really our own rejoin (frozeFor: how long we did not run, until it resumes).
	lastStepAt time.Duration
	frozeFor   time.Duration // > 0: the pause under way is our own rejoin, after a freeze
	freeze     time.Duration // the last time this process did not run: how long,
	freezeFrom time.Duration // from when (its last step before), which names the freeze,
	freezeEnd  time.Duration // and when it ran again
	saidFrom   time.Duration // the freeze reported (by its freezeFrom), not to repeat it

	// resyncDumped is the frame of the latest desync a resync wrote our state of (0: none;
	// the state of frame 0 never differs).
	resyncDumped lockstep.Frame
}

// ErrNoSockets is what Start, StartWatch and FindGame return in a browser (js/wasm): Go's
// net package there is an in-process fake, so a UDP socket would "listen" where nobody can
// ever reach it, and multicast DNS finds nobody. A browser plays over a Link (StartLink).
var ErrNoSockets = errors.New("a browser has no UDP sockets or multicast DNS: play through a room")

// noSockets reports whether this build must not open sockets (see ErrNoSockets).
func noSockets() bool { return runtime.GOOS == "js" }

// Start opens the socket and prepares the runner; it prints the banner to out and returns
// at once. The handshake runs in Tick (or Serve).
func Start(opts Options, out io.Writer) (*Match, error) {
	if noSockets() {
		return nil, ErrNoSockets
	}
	if opts.Player != 0 && opts.Peer == "" {
		return nil, fmt.Errorf("player %d has no -peer: find one with FindGame first", opts.Player)
	}
	m := &Match{opts: opts, out: out}
	m.log = newLogger(opts.Verbose)
	m.clock = transport.NewRealClock()
	clock := m.clock
	udp, err := transport.ListenUDP(opts.Listen)
	if err != nil {
		return nil, err
	}
	m.udp, m.conn, m.readable = udp, udp, udp.Readable()
	if opts.Netsim != "" {
		// The runner waits on arrivals at the socket; the impairment holds some back, and
		// those are read at the next arrival or tick.
		m.conn = readableConn{transport.NewImpaired(udp, clock, opts.NetsimCfg, randomUint64()), udp}
	}
	if opts.Peer != "" {
		addr, err := transport.ResolvePeer(opts.Peer)
		if err != nil {
			udp.Close()
			return nil, fmt.Errorf("-peer: %w", err)
		}
		m.peerAddrGiven = addr
	}
	if err := m.prepare(); err != nil {
		udp.Close()
		return nil, err
	}
	m.status.LocalAddr = udp.LocalAddr().String()
	m.status.LANAddrs = LANAddrs()
	if opts.Peer != "" {
		m.status.Peer = m.peerAddrGiven.String()
	}
	m.banner()
	m.startAdvertising()
	return m, nil
}

// Link is a connection a match is handed instead of opening a UDP socket: what a room gives
// a browser or a desktop player (a transport.Conn over WebRTC data channels, every peer at
// an address all members derive alike), or the browser page's local mode (an endpoint of
// the in-process emulator). The engine cannot tell the difference.
type Link struct {
	// Conn carries the match's datagrams; Close closes it. If it has a
	// `Readable() <-chan struct{}` (netplay.Readable), arrivals are handed over as they
	// come; otherwise they are read once per tick.
	Conn transport.Conn
	// Host is the address of the player this one joins: player 0's for the others, zero
	// for player 0, which waits for them to come.
	Host netip.AddrPort
	// Name says where this end is, for the banner and the screens: "room K7QF2M".
	Name string
	// Clock is the match's clock; nil: the real clock. The emulator's delays are measured
	// on the clock it was made with, which must be this one.
	Clock transport.Clock
	// Notes, if set, brings news of the link (JoinRoom's: how each player was reached, or
	// that one cannot be): the match prints each note's line, shows its path, and fails
	// with its error.
	Notes <-chan LinkNote
}

// StartLink prepares a match over link: no socket is opened, nothing is advertised, and
// -listen, -peer and -netsim are ignored (the link says where everyone is). It prints the
// banner to out and returns at once; the handshake runs in Tick (or Serve). The match owns
// link.Conn from then on (Close closes it); on an error the caller still does.
func StartLink(opts Options, link Link, out io.Writer) (*Match, error) {
	if link.Conn == nil {
		return nil, errors.New("start: the link has no connection")
	}
	if opts.Player != 0 && !link.Host.IsValid() {
		return nil, fmt.Errorf("player %d: the link names no player 0 to join", opts.Player)
	}
	opts.Listen, opts.Peer, opts.Netsim, opts.NoAdvertise = "", "", "", true
	m := &Match{opts: opts, out: out, conn: link.Conn, clock: link.Clock, peerAddrGiven: link.Host, notes: link.Notes}
	if m.clock == nil {
		m.clock = transport.NewRealClock()
	}
	if rc, ok := link.Conn.(netplay.Readable); ok {
		m.readable = rc.Readable()
	}
	m.log = newLogger(opts.Verbose)
	if err := m.prepare(); err != nil {
		return nil, err
	}
	m.status.LocalAddr = link.Name
	if link.Host.IsValid() {
		m.status.Peer = link.Host.String()
	}
	fmt.Fprintf(out, "p2pa: player %d (%s), in %s\n", opts.Player, opts.Mode, link.Name)
	if opts.Player != 0 {
		fmt.Fprintf(out, "p2pa: joining player %d at %s\n", m.hostPlayer(), link.Host)
	} else {
		fmt.Fprintln(out, "p2pa: waiting for the other players")
	}
	return m, nil
}

// prepare makes the bot and the runner, once the connection is open.
func (m *Match) prepare() error {
	opts := m.opts
	if opts.Bot {
		// With -seed the bot plays the same inputs every run, so a headless match (both
		// peers given the seed) ends on the same checksum every time. The runner asks it
		// once per frame, whatever the network does (again after a rejoin: the tape).
		botSeed := randomUint64()
		if opts.Seed != 0 {
			botSeed = opts.Seed*31 + uint64(opts.Player) + 1
		}
		// By frame, not by call: a frame the match asks again after a rejoin gets the same
		// move, and a process that rejoins plays what it would have played (bot.Tape).
		m.bot = bot.NewTape(bot.NewBot(botSeed), opts.Delay)
	}
	if err := m.newRunner(); err != nil {
		return err
	}
	m.status.Player = opts.Player
	return nil
}

// readNotes prints the Link's news and fails the match on a note with an error.
func (m *Match) readNotes() {
	for {
		select {
		case n := <-m.notes:
			if n.Line != "" {
				fmt.Fprintln(m.out, n.Line)
			}
			if n.Player >= 0 && n.Player < len(m.status.Paths) && n.Path != "" {
				m.status.Paths[n.Player] = n.Path
			}
			if n.Err != nil {
				m.failed(n.Err) // the program prints it as the reason it ends
			}
		default:
			return
		}
	}
}

// hostPlayer is the player this one joins: player 0, or player 1 for a player 0 that was
// given -peer in a 2-player match.
func (m *Match) hostPlayer() int {
	if m.opts.Player == 0 {
		return 1
	}
	return 0
}

// newRunner makes the runner for opts.Players players. With more than two, a joiner knows
// only player 0's address (-peer); player 0 introduces the others.
func (m *Match) newRunner() error {
	peers := make([]netip.AddrPort, m.opts.Players)
	if m.peerAddrGiven.IsValid() {
		peers[m.hostPlayer()] = m.peerAddrGiven
	}
	r, err := netplay.New(m.runnerConfig(peers, m.clock))
	if err != nil {
		return err
	}
	m.r = r
	m.ticks, m.waits = 0, 0
	return nil
}

// adoptPlayerCount is the runner's OnSetup for a joiner not given -players
// (netplay.Config.AdoptPlayerCount): player 0's match has n players, and the runner starts
// its handshake over with that count. The game follows: versus with more than two (unless
// -mode says otherwise), made by startGame once the handshake is done. A seat the match does
// not have is refused here, in the command line's words.
func (m *Match) adoptPlayerCount(n int) (netplay.Setup, error) {
	if m.opts.Player >= n {
		return netplay.Setup{}, fmt.Errorf("-p %d: the match at %s has %d players (0..%d)", m.opts.Player, m.status.Peer, n, n-1)
	}
	m.opts.Players = n
	if n > 2 && !m.opts.ModeSet {
		m.opts.Mode = game.Versus
	}
	m.status.Phase = PhaseWaiting
	fmt.Fprintf(m.out, "p2pa: the match at %s has %d players (%s); joining as player %d\n", m.status.Peer, n, m.opts.Mode, m.opts.Player)
	return netplay.Setup{Description: m.opts.GameDescription()}, nil
}

// gameChoice is what player 0's match plays, as its handshake says.
type gameChoice struct {
	mode  game.Mode
	coins int
}

// adoptableGame looks at err for player 0 refusing us for the game alone. ok: start over
// with choice (adoptGame). A refusal whose mode or coins contradict -mode or -coins given
// here is returned as an error naming the flag to change; any other err gives nothing.
func (m *Match) adoptableGame(err error) (choice gameChoice, ok bool, explicit error) {
	var ge *lockstep.SetupError
	// Only a joiner follows player 0; player 0 (or a host player 1 that player 0 dialled)
	// keeps its own game, and one adoption is enough: a second refusal is a real mismatch.
	if !errors.As(err, &ge) || ge.Game == ge.OurGame || m.opts.Player == 0 || m.opts.Peer == "" || ge.Player != 0 || m.adoptedGame {
		return gameChoice{}, false, nil
	}
	mode, coins, perr := parseGameDescription(ge.Game)
	if perr != nil {
		return gameChoice{}, false, nil // not a coin game: the handshake's own error says so
	}
	var theirs, ours, flags []string
	if m.opts.ModeSet && mode != m.opts.Mode {
		theirs, ours, flags = append(theirs, "-mode "+mode.String()), append(ours, "-mode "+m.opts.Mode.String()), append(flags, "-mode")
	}
	if m.opts.CoinsSet && coins != m.opts.Coins {
		theirs, ours, flags = append(theirs, fmt.Sprint("-coins ", coins)), append(ours, fmt.Sprint("-coins ", m.opts.Coins)), append(flags, "-coins")
	}
	if len(flags) > 0 {
		return gameChoice{}, false, fmt.Errorf("the match at %s plays %s, and we were given %s: give %s, or leave %s out to play the match's",
			m.status.Peer, strings.Join(theirs, " "), strings.Join(ours, " "), strings.Join(theirs, " "), strings.Join(flags, " and "))
	}
	if mode == m.opts.Mode && coins == m.opts.Coins {
		return gameChoice{}, false, nil // the same game: the refusal is about something else
	}
	return gameChoice{mode: mode, coins: coins}, true, nil
}

// adoptGame starts the handshake over playing player 0's mode and coins, on a new runner
// over the same socket.
func (m *Match) adoptGame(g gameChoice) {
	m.adoptedGame, m.restartGame = true, nil
	m.opts.Mode, m.opts.Coins = g.mode, g.coins
	if err := m.newRunner(); err != nil {
		m.failed(err)
		return
	}
	m.status.Phase = PhaseWaiting
	fmt.Fprintf(m.out, "p2pa: the match at %s plays %s with %d coins; joining as player %d\n", m.status.Peer, g.mode, g.coins, m.opts.Player)
}

// frozen reports how long this process last did not run, if that explains a peer's
// silence now: the gap before the current step, or one that ended less than -disconnect
// ago (the peer's silence is then still counted from before it).
func (m *Match) frozen() (d, from time.Duration, ok bool) {
	now := m.clock.Now()
	switch {
	case m.lastStepAt > 0 && now-m.lastStepAt >= m.opts.Interrupt:
		return now - m.lastStepAt, m.lastStepAt, true
	case m.freeze > 0 && now-m.freezeEnd <= m.opts.Disconnect:
		return m.freeze, m.freezeFrom, true
	}
	return 0, 0, false
}

// sayFrozen prints, once per freeze (from names it), that this process did not run for d.
func (m *Match) sayFrozen(d, from time.Duration, then string) {
	if m.saidFrom == from {
		return
	}
	m.saidFrom = from
	fmt.Fprintf(m.out, "p2pa: this process did not run for %v (stopped or suspended); %s\n", d.Round(100*time.Millisecond), then)
}

// readableConn is a Conn wrapped around a socket (the -netsim impairment) that still
// signals the socket's arrivals (netplay.Readable).
type readableConn struct {
	transport.Conn
	udp *transport.UDP
}

func (c readableConn) Readable() <-chan struct{} { return c.udp.Readable() }

// runnerConfig turns the command line into the runner's configuration.
func (m *Match) runnerConfig(peers []netip.AddrPort, clock transport.Clock) netplay.Config {
	o := m.opts
	seed := o.Seed
	if seed == 0 {
		seed = randomUint64()
	}
	c := netplay.Config{
		Session: lockstep.Config{
			Players: o.Players,
			// Every player keeps the history spectators need: player 0 feeds them, and
			// the lowest-numbered player still in the match takes them over if it leaves.
			Spectators:        lockstep.MaxSpectators,
			InputSize:         game.InputSize,
			InputDelay:        o.Delay,
			MaxPrediction:     o.MaxPred,
			InterruptTimeout:  o.Interrupt,
			DisconnectTimeout: o.Disconnect,
			ChecksumInterval:  o.ChecksumInterval,
			Game:              o.GameDescription(),
			Seed:              seed,
			Secret:            o.Secret,
			Nonce:             randomUint64(),
			Logger:            m.log,
			DiffStates:        diffStates,
			StopOnDesync:      o.StopOnDesync,
		},
		Player:  o.Player,
		Peers:   peers,
		Conn:    m.conn,
		Clock:   clock,
		NewGame: m.startGame,
		Input:   m.input,
		// A human's input is read afresh each tick (an old one is stale); a bot's is kept
		// until the session takes it, so its input for frame f depends only on its seed.
		InputEachTick: m.bot == nil,
		FinishAt:      lockstep.Frame(o.Frames),
		OnEvent:       m.handleEvent,
		// A joiner not given -players takes player 0's count (and says so).
		AdoptPlayerCount: !o.PlayersSet,
		OnSetup:          m.adoptPlayerCount,
		Rejoin:           o.Rejoin,
		OnRejoin:         m.handleRejoin,
		OnNoAnswer:       m.noAnswer,
	}
	c.Session.SeedGiven = o.Seed != 0
	if !o.Headless {
		// A window keeps showing the desync until the player quits; headless, nobody is
		// there to read it, so the match ends (after the session has told the peer).
		c.DesyncLinger = -1
	}
	if o.Record != "" {
		c.OnConfirmed = func(c netplay.Confirmed) {
			if m.rec != nil {
				m.rec.confirmed(c.Frame, c.Inputs)
			}
		}
	}
	return c
}

func randomUint64() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:])
}

func newLogger(verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (m *Match) debug(msg string, args ...any) {
	if m.log != nil {
		m.log.Debug(msg, args...)
	}
}

// banner prints who we are and what the other player should type: the LAN addresses when
// we listen on all interfaces, else the one address we are bound to.
func (m *Match) banner() {
	local := m.udp.LocalAddr()
	port := fmt.Sprint(local.Port())
	fmt.Fprintf(m.out, "p2pa: player %d (%s), listening on %s\n", m.opts.Player, m.opts.Mode, local)
	if m.opts.Peer != "" {
		fmt.Fprintf(m.out, "p2pa: joining player %d at %s\n", m.hostPlayer(), m.status.Peer)
		return
	}
	if m.opts.Players > 2 {
		m.bannerMany(local)
		return
	}
	switch {
	case local.Addr().IsUnspecified():
		for _, a := range m.status.LANAddrs {
			fmt.Fprintf(m.out, "p2pa: on the other machine run: p2pa -p 1 -peer %s\n", net.JoinHostPort(a, port))
		}
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p 1 -peer %s\n", net.JoinHostPort("127.0.0.1", port))
	case local.Addr().IsLoopback():
		m.status.LANAddrs = nil // not reachable from another machine
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p 1 -peer %s\n", local)
	default:
		m.status.LANAddrs = []string{local.Addr().String()}
		fmt.Fprintf(m.out, "p2pa: on the other machine run: p2pa -p 1 -peer %s\n", local)
	}
	fmt.Fprintln(m.out, "p2pa: waiting for player 1")
}

// bannerMany is player 0's banner for a 3-4 player match: what the others type, then who
// is awaited (seatedLine keeps it up to date as they come in).
func (m *Match) bannerMany(local netip.AddrPort) {
	port := fmt.Sprint(local.Port())
	seats := fmt.Sprintf("K = 1..%d", m.opts.Players-1)
	switch {
	case local.Addr().IsUnspecified():
		for _, a := range m.status.LANAddrs {
			fmt.Fprintf(m.out, "p2pa: on the other machines run: p2pa -p K -peer %s  (%s)\n", net.JoinHostPort(a, port), seats)
		}
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p K -peer %s  (%s)\n", net.JoinHostPort("127.0.0.1", port), seats)
	case local.Addr().IsLoopback():
		m.status.LANAddrs = nil
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p K -peer %s  (%s)\n", local, seats)
	default:
		m.status.LANAddrs = []string{local.Addr().String()}
		fmt.Fprintf(m.out, "p2pa: on the other machines run: p2pa -p K -peer %s  (%s)\n", local, seats)
	}
	fmt.Fprintf(m.out, "p2pa: %d players; %s\n", m.opts.Players, m.seatedLine())
}

// seatedLine says who is in and who is awaited: "in: 0, 2; waiting for players 1, 3".
func (m *Match) seatedLine() string {
	in, out := "0", ""
	for p := 1; p < m.opts.Players; p++ {
		if m.seated[p] {
			in += fmt.Sprintf(", %d", p)
		} else if out == "" {
			out = fmt.Sprint(p)
		} else {
			out += fmt.Sprintf(", %d", p)
		}
	}
	if out == "" {
		return "in: " + in + "; all here"
	}
	return "in: " + in + "; waiting for players " + out
}

// LANAddrs lists this machine's non-loopback unicast addresses, IPv4 first.
func LANAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var v4, v6 []string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
			continue
		}
		if ipn.IP.To4() != nil {
			v4 = append(v4, ipn.IP.String())
		} else {
			v6 = append(v6, ipn.IP.String())
		}
	}
	return append(v4, v6...)
}

// sess is the runner's session of the current leg, for statistics and display: a rejoin
// starts a new one.
func (m *Match) sess() *lockstep.Session { return m.r.Session() }

// Readable signals datagram arrivals, so a loop can hand them over as they come.
// A match over a Link whose Conn cannot signal returns nil, which is never ready: its
// datagrams are read by Tick.
func (m *Match) Readable() <-chan struct{} { return m.readable }

// State is the game as of the latest frame (possibly predicted); nil before the handshake.
func (m *Match) State() *game.State { return m.state }

// Status is a snapshot for drawing.
func (m *Match) Status() Status {
	m.status.Frame = m.r.Frame()
	m.status.Confirmed = m.r.ConfirmedFrame()
	m.status.Stats = m.sess().Stats(m.peerStat[:0])
	m.status.Rejoin = m.r.Rejoin()
	m.peerStat = m.status.Stats.Peers
	return m.status
}

// Done reports whether the match is over: the end frame is confirmed and the goodbye is
// sent, or the session failed.
func (m *Match) Done() bool { return m.r.Done() }

// Quit asks to end the match: no more local input is added, and once the peer holds every
// input we played, the match ends at the last of them. Keep calling Tick until Done.
func (m *Match) Quit() {
	if m.quitting {
		return
	}
	m.quitting = true
	m.r.Quit()
	m.debug("quit requested", "end", m.r.EndFrame())
}

// Receive hands every datagram waiting on the socket to the runner (netplay.Runner.Poll:
// the handshake and the goodbye are answered at once). Once the match is over and the
// socket not yet closed (a window on its end screen), the session still answers, so a
// peer that resumes after we dropped it is told the end frame at once.
func (m *Match) Receive() {
	if m.released {
		return
	}
	m.r.Poll()
	m.afterStep()
}

// Synced reports whether the handshake is done and the first frame may be played: a loop
// ticks at once when it turns true, rather than at its next 60 Hz tick.
func (m *Match) Synced() bool { return m.r.Synced() }

// Serve runs the headless loop (netplay.Runner.RunWith: a Tick every 1/60 s, datagrams
// handed over as they arrive, the first frame as soon as the handshake completes). It
// returns when the match is done or until (if not nil) returns true after a step; a value
// on stop asks the match to end (a second one ends it at once). The caller then calls
// Close.
func (m *Match) Serve(stop <-chan os.Signal, until func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	abort, over := make(chan struct{}), make(chan struct{})
	var got os.Signal
	var wg sync.WaitGroup
	if stop != nil {
		wg.Go(func() {
			select {
			case got = <-stop:
				cancel() // the runner quits
			case <-over:
				return
			}
			select {
			case <-stop:
				close(abort)
			case <-over:
			}
		})
	}
	for {
		r := m.r
		_, _ = r.RunWith(ctx, netplay.RunOptions{Abort: abort, Until: func() bool {
			m.afterStep()
			return m.r != r || (until != nil && until())
		}})
		m.afterStep()
		if m.r == r || ctx.Err() != nil {
			break // done; otherwise a new runner (player 0's game adopted) plays on
		}
	}
	close(over)
	wg.Wait()
	if got != nil && m.signal == nil {
		m.signal, m.quitting = got, true
	}
	m.afterStep()
}

// Tick runs one frame (netplay.Runner.Tick): receive, advance (unless time sync says wait
// or the match is ending), send. local is this player's input; a bot replaces it with -bot.
func (m *Match) Tick(local game.Input) {
	if m.r.Done() {
		m.Receive()
		return
	}
	m.local = local
	m.r.Tick()
	m.afterStep()
}

// afterStep runs after every step of the runner. It carries a failure over between the runner and the screen: one the runner met
// (a game that would not start) is shown, one found here (a bad local input) ends it.
//
// It also keeps the status's counters and the -v statistics up to date.
func (m *Match) afterStep() {
	m.readNotes()
	if m.r != nil {
		if c := m.r.Counters(); c.Ticks != m.ticks { // Waiting is about the last tick
			m.status.Waiting = c.Waits > m.waits
			m.status.Stalled, m.waits, m.ticks = c.Stalls, c.Waits, c.Ticks
		}
	}
	now := m.clock.Now()
	if m.log != nil && now-m.lastLog >= time.Second {
		m.lastLog = now
		m.logStats()
	}
	if m.lastStepAt > 0 && now-m.lastStepAt >= m.opts.Interrupt {
		m.freeze, m.freezeFrom, m.freezeEnd = now-m.lastStepAt, m.lastStepAt, now
	}
	defer func() { m.lastStepAt = m.clock.Now() }()
	if !m.r.Done() {
		if m.status.Phase == PhaseFailed {
			m.r.Abort()
		}
		return
	}
	if m.restartGame != nil {
		m.adoptGame(*m.restartGame)
		if !m.r.Done() {
			return
		}
	}
	if res := m.r.Result(); res.Reason == netplay.EndFailed && res.Err != nil {
		m.failed(res.Err)
	}
}

// noAnswer prints the runner's report that a player we know the address of has not
// answered (netplay.NoAnswer: after 5 s, then 10 s later, 20 s, and so on, at most every
// 80 s), so a mistyped address or an absent (or busy) player does not look like a hang. The
// wording predates the runner's report and scripts may read it, so it stays.
func (m *Match) noAnswer(n netplay.NoAnswer) {
	if m.status.Phase == PhaseFailed {
		return
	}
	fmt.Fprintf(m.out, "p2pa: %v; is player %d running there (and not already playing)? Still trying.\n", n, n.Player)
}

// logStats writes one line of session statistics (with -v), dropped datagrams included, so
// junk arriving at the port is visible.
func (m *Match) logStats() {
	st := m.sess().Stats(m.peerStat[:0])
	m.peerStat = st.Peers
	args := []any{"state", st.State, "frame", st.Frame, "confirmed", st.ConfirmedFrame,
		"rollbacks", st.Rollbacks, "rollback_frames", st.RollbackFrames, "stalled", m.status.Stalled,
		"dropped", st.DroppedTotal(), "dropped_foreign", st.Dropped.Foreign, "dropped_wrong_tag", st.Dropped.WrongTag,
		"dropped_wrong_version", st.Dropped.WrongVersion, "dropped_malformed", st.Dropped.Malformed,
		"dropped_oversized", st.Dropped.Oversized, "dropped_stale", st.Dropped.Stale,
		"dropped_corrupt", st.Dropped.Corrupt, "dropped_unauthenticated", st.Dropped.Unauthenticated}
	for _, p := range st.Peers {
		args = append(args, "rtt", p.RTT, "advantage", p.LocalAdvantage, "bytes_in_per_s", p.BytesInPerSec, "bytes_out_per_s", p.BytesOutPerSec)
	}
	m.log.Info("stats", args...)
}

// startGame makes the coin game from the agreed seed (the runner's NewGame).
func (m *Match) startGame(seed uint64) (lockstep.Game, error) {
	st, err := game.New(game.Config{Mode: m.opts.Mode, Coins: m.opts.Coins, Players: m.opts.Players, Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("start game: %w", err)
	}
	m.state = st
	if m.opts.Record != "" {
		m.rec = newRecorder(m.opts, seed)
	}
	fmt.Fprintf(m.out, "p2pa: connected to %s, seed %d\n", m.status.Peer, seed)
	if m.opts.WrapGame != nil {
		return m.opts.WrapGame(st), nil
	}
	return st, nil
}

// input is the runner's input source: the bot's next move, or the window's mouse.
func (m *Match) input(f lockstep.Frame, dst []byte) []byte {
	in := m.local
	if m.bot != nil {
		in = m.bot.At(int(f))
	}
	out, err := in.AppendBinary(dst)
	if err != nil {
		// Only a bug in whatever built the input (the window or the bot) gets here.
		m.failed(fmt.Errorf("local input: %w", err))
		return dst
	}
	return out
}

// handleEvent prints and shows what the session reports (the runner's OnEvent).
func (m *Match) handleEvent(e lockstep.Event) {
	m.debug("session event", "event", e.String())
	if m.status.Phase == PhaseFailed {
		// Failed is final: the runner ends the match on it, so no later event may hide it
		// (a handshake that made progress after failing used to, and the match then waited
		// for ever).
		return
	}
	switch e.Kind {
	case lockstep.EventSynchronizing:
		m.status.Phase = PhaseSynchronizing
		m.status.Progress, m.status.Total = e.Progress, e.Total
		if m.status.Peer == "" {
			m.status.Peer = m.peerAddr()
		}
		if m.opts.Player == 0 && m.opts.Players > 2 && e.Progress == e.Total && !m.seated[e.Player] {
			m.seated[e.Player] = true
			fmt.Fprintf(m.out, "p2pa: player %d is in (%s); %s\n", e.Player, m.sess().PeerAddr(e.Player), m.seatedLine())
		}
	case lockstep.EventRunning:
		m.status.Phase = PhaseRunning
		m.stopAdvertising() // the match is full
		m.status.Peer = m.peerAddr()
	case lockstep.EventInterrupted:
		m.status.Phase = PhaseInterrupted
		if d, from, ok := m.frozen(); ok {
			// The peer is not silent: we did not run (SIGSTOP, a suspended machine).
			m.sayFrozen(d, from, fmt.Sprintf("catching up with player %d", e.Player))
			return
		}
		fmt.Fprintf(m.out, "p2pa: player %d interrupted; waiting up to %v\n", e.Player, max(e.Timeout.Round(time.Second), time.Second))
	case lockstep.EventResumed:
		m.status.Phase = PhaseRunning
		if _, _, ok := m.frozen(); ok {
			return // its interruption was ours, and said so (EventInterrupted)
		}
		fmt.Fprintf(m.out, "p2pa: player %d resumed\n", e.Player)
	case lockstep.EventDisconnected, lockstep.EventPeerLeft:
		if m.r.Rejoin().Phase == netplay.RejoinPaused {
			return // handleRejoin said it: the match waits for the player
		}
		if m.opts.Players > 2 {
			m.playerLeft(e)
			return
		}
		switch {
		case m.status.Phase == PhaseDesync:
			// Keep showing what went wrong; the peer's leaving is the lesser news.
		case e.Kind == lockstep.EventPeerLeft:
			m.status.Phase = PhasePeerLeft
			if m.opts.Frames > 0 && e.Frame >= lockstep.Frame(m.opts.Frames) {
				fmt.Fprintf(m.out, "p2pa: peer finished frame %d too\n", m.opts.Frames)
			} else {
				fmt.Fprintf(m.out, "p2pa: peer left at frame %d\n", e.Frame)
			}
		default:
			m.status.Phase = PhaseDisconnected
			fmt.Fprintf(m.out, "p2pa: peer disconnected at frame %d\n", e.Frame)
		}
	case lockstep.EventDesync:
		m.status.Phase = PhaseDesync
		fmt.Fprintf(m.out, "p2pa: desync at frame %d (ours %016x, peer's %016x)\n", e.Frame, e.Local, e.Remote)
		if e.Err != nil {
			// Desyncs came back too often to resync: say why the match ends.
			fmt.Fprintf(m.out, "p2pa: %v; the match ends\n", e.Err)
		}
		m.writeDesyncState()
	case lockstep.EventResync:
		fmt.Fprintf(m.out, "p2pa: desync at frame %d (player %d differed); resynced from player %d\n", e.Frame, e.Player, e.Donor)
		if e.Frame != m.resyncDumped {
			m.resyncDumped = e.Frame // one dump per desync, however many players differed
			m.writeDesyncState()
		}
	case lockstep.EventFailed:
		g, ok, explicit := m.adoptableGame(e.Err)
		switch {
		case ok:
			m.restartGame = &g // once this runner is done (afterStep)
			return
		case explicit != nil:
			m.failed(explicit)
			return
		}
		m.failed(e.Err)
	}
}

// handleRejoin prints and shows what happens to a rejoin (the runner's OnRejoin). The
// lines with "rejoin" in them are read by scripts.
func (m *Match) handleRejoin(e netplay.RejoinEvent) {
	m.debug("rejoin", "kind", e.Kind.String(), "player", e.Player, "frame", e.Frame)
	switch e.Kind {
	case netplay.RejoinWaiting:
		m.status.Phase = PhaseRejoinWait
		if d, from, ok := m.frozen(); ok {
			// We did not run for longer than a peer may be silent: the others dropped us,
			// not we them. The engine pauses both sides alike (each dropped the other) and
			// resumes from the state of whichever confirmed more; only the words differ.
			if m.opts.Player == 0 {
				m.startAdvertising() // as below: whoever finds us on the LAN again
			}
			if m.frozeFor > 0 {
				return // another peer of a 3-4 player match: said already
			}
			m.frozeFor = d
			m.status.Phase = PhaseRejoining
			if m.saidFrom == from {
				fmt.Fprintln(m.out, "p2pa: the match went on without us; rejoining it")
			} else {
				m.sayFrozen(d, from, "rejoining the match")
			}
			return
		}
		fmt.Fprintf(m.out, "p2pa: player %d dropped; waiting up to %v for them to rejoin\n", e.Player, e.Window)
		if m.opts.Player == 0 {
			m.startAdvertising() // a player who found us on the LAN finds us again
		}
	case netplay.RejoinRefused:
		fmt.Fprintf(m.out, "p2pa: refused a rejoin from %v: %v\n", e.Addr, e.Err)
	case netplay.RejoinExpired:
		m.frozeFor = 0
		m.stopAdvertising()
		fmt.Fprintf(m.out, "p2pa: player %d did not rejoin within %v\n", e.Player, e.Window)
		m.status.Phase = PhaseRunning
		m.handleEvent(lockstep.Event{Kind: lockstep.EventDisconnected, Player: e.Player, Frame: e.Frame})
	case netplay.RejoinJoining:
		m.status.Phase = PhaseRejoining
		if w := m.r.Rejoin(); w.Phase == netplay.RejoinPaused && w.Player == e.Player && m.frozeFor == 0 {
			// We waited for this player, who had dropped us too (it did not run for a
			// while) and confirmed more frames: it is the one back, we only take its state.
			fmt.Fprintf(m.out, "p2pa: player %d is back; the match goes on from its state at frame %d (%d bytes)\n", e.Player, e.Frame, e.Bytes)
			return
		}
		fmt.Fprintf(m.out, "p2pa: rejoining the match in progress at frame %d (%d bytes of state from player %d)\n", e.Frame, e.Bytes, e.Player)
	case netplay.RejoinResumed:
		m.stopAdvertising()
		m.status.Phase = PhaseRunning
		froze := m.frozeFor > 0
		m.frozeFor = 0
		if e.Player == m.opts.Player || froze {
			fmt.Fprintf(m.out, "p2pa: rejoined at frame %d\n", e.Frame)
		} else {
			fmt.Fprintf(m.out, "p2pa: player %d rejoined at frame %d\n", e.Player, e.Frame)
		}
	}
}

// playerLeft reports a departure from a 3-4 player match. The survivors agreed on its
// frame (the engine did), so each prints the same line, and they play on (the runner ends
// the match there only when nobody else is left).
func (m *Match) playerLeft(e lockstep.Event) {
	if m.status.Phase == PhaseDesync {
		return // keep showing what went wrong
	}
	if m.opts.Frames > 0 && e.Frame >= lockstep.Frame(m.opts.Frames) {
		fmt.Fprintf(m.out, "p2pa: player %d finished frame %d too\n", e.Player, m.opts.Frames)
	} else {
		fmt.Fprintf(m.out, "p2pa: player %d left at frame %d\n", e.Player, e.Frame)
	}
	if m.sess().ConnectedPeers() > 0 {
		return
	}
	if e.Kind == lockstep.EventPeerLeft {
		m.status.Phase = PhasePeerLeft
	} else {
		m.status.Phase = PhaseDisconnected
	}
}

func (m *Match) peerAddr() string {
	if m.peerAddrGiven.IsValid() {
		return m.status.Peer
	}
	return m.sess().PeerAddr(1 - m.opts.Player).String()
}

func (m *Match) failed(err error) {
	if m.status.Phase == PhaseFailed {
		return
	}
	m.status.Phase = PhaseFailed
	m.status.Err = err
}

// writeDesyncState saves our copy of the desynced frame's state, for p2pa -diff.
func (m *Match) writeDesyncState() {
	f, state, ok := m.sess().DesyncState()
	f += m.r.BaseFrame() // the match's frame
	if !ok {
		return
	}
	name := fmt.Sprintf("p2pa-desync-frame%d-player%d.state", f, m.opts.Player)
	if err := WriteFileAtomic(name, state); err != nil {
		fmt.Fprintf(m.out, "p2pa: could not write %s: %v\n", name, err)
		return
	}
	abs, _ := filepath.Abs(name)
	m.status.DesyncFile = abs
	fmt.Fprintf(m.out, "p2pa: wrote our state of frame %d to %s; compare with the peer's: p2pa -diff A B\n", f, abs)
}

// FinalState is the game at the match's end frame, the one the result line reports, once
// the match is done: both peers' final states are identical, unlike State, which may have
// run a few predicted frames further. ok is false if the end was never confirmed.
func (m *Match) FinalState() (*game.State, bool) {
	res := m.r.Result()
	if !m.r.Done() || !res.Confirmed || len(res.State) == 0 {
		return nil, false
	}
	st, err := game.Decode(res.State)
	if err != nil || uint64(st.Checksum()) != res.Checksum {
		return nil, false
	}
	return st, true
}

// ResultLine is the line scripts read: the end frame, its checksum, our rollbacks and RTT.
func (m *Match) ResultLine() string {
	st := m.sess().Stats(nil)
	var rtt time.Duration
	if len(st.Peers) > 0 {
		rtt = st.Peers[0].RTT
	}
	res := m.r.Result()
	frame, sum := res.Frame, res.Checksum
	if !m.r.Done() {
		leg := m.sess().ConfirmedFrame()
		frame = m.r.BaseFrame() + leg
		sum, _ = m.sess().Checksum(leg)
	}
	frame = max(frame, 0)
	return FormatResult(int64(frame), sum, st.Rollbacks, rtt)
}

// Close ends the match at once if it is not done yet, releases the socket, finishes the
// recording and prints the result line as the last line. It returns the error that ended
// the match, if any, for the caller to report (on stderr).
func (m *Match) Close() error {
	m.stopAdvertising()
	m.r.Abort()
	m.afterStep()
	m.conn.Close()
	m.released = true
	res := m.r.Result()
	end := m.r.EndFrame()
	var recErr error
	if m.rec != nil {
		if res.Confirmed {
			recErr = m.rec.finish(end, res.Checksum)
		} else {
			recErr = errors.New("the match ended before its last frame was confirmed; nothing recorded")
		}
	}
	err := m.status.Err
	if errors.Is(m.sess().Err(), lockstep.ErrDesync) {
		err = m.sess().Err() // whatever happened after it, the desync is the news
	}
	if err == nil && m.opts.Frames > 0 && !m.quitting && m.state != nil && end < lockstep.Frame(m.opts.Frames) {
		// Asked for -frames N, the peer went away first: a script must not mistake this
		// for a finished match.
		err = fmt.Errorf("the match ended at frame %d, before -frames %d: %s", max(end, 0), m.opts.Frames, endReason(m.status.Phase))
	}
	if intr := m.interrupted(); intr != nil {
		err = errors.Join(err, intr)
	}
	if recErr != nil {
		fmt.Fprintf(m.out, "p2pa: recording: %v\n", recErr)
	}
	if m.state != nil {
		scores := ""
		if m.state.Mode() == game.Versus {
			scores = " scores="
			for p := range m.state.Players() {
				if p > 0 {
					scores += ","
				}
				scores += fmt.Sprint(m.state.Score(p))
			}
		}
		fmt.Fprintf(m.out, "score=%d%s round=%d coins_left=%d\n", m.state.TotalScore(), scores, m.state.Round(), m.state.CoinsLeft())
		fmt.Fprintln(m.out, m.ResultLine())
	}
	if err == nil {
		err = recErr
	}
	return err
}

// endReason says in words why a match that did not reach -frames ended in phase p.
// Phase names are for the screen ("peer left"), not sentences, so each gets its own.
func endReason(p Phase) string {
	switch p {
	case PhasePeerLeft:
		return "the peer left"
	case PhaseDisconnected:
		return "the peer stopped answering (disconnected)"
	}
	return "the match was " + p.String()
}

// WriteFileAtomic writes data to name through a temporary file and a rename, so a reader
// never sees half a file.
func WriteFileAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp)
		return errors.Join(werr, cerr)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func diffStates(a, b []byte) string {
	d, err := game.Diff(a, b)
	if err != nil {
		return err.Error()
	}
	return d
}
