// Package sim is the coin game over the loop every front end uses: it plays whole p2pa
// matches between 2 to 4 netplay.Runners over transport's emulated network, on a virtual
// clock, in one goroutine. A scenario (link, players, input delay, outages, a peer that
// vanishes) and a seed determine every datagram and every frame, so a failure replays
// exactly. Each runner plays to the scenario's frame and holds there (netplay.Config.Hold),
// so tests can compare the peers' checksums at every confirmed frame; benchmarks use it to
// measure rollbacks and stalls under bad links. The game-agnostic harness, with matches
// that end properly, is simtest.
package sim

import (
	"fmt"
	"net/netip"
	"time"

	"p2pa/game"
	"p2pa/internal/bot"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/simtest"
	"p2pa/transport"
)

// Tick is one frame of virtual time: the sessions' default frame duration (1/60 s).
const Tick = lockstep.DefaultFrameDuration

// Scenario describes a match.
type Scenario struct {
	Players int // 2..4; default 2
	Frames  int // every peer plays until its frame reaches this; default 600
	// Link applies to every direction; LinkFor, if set, overrides it per direction.
	Link    transport.LinkConfig
	LinkFor func(from, to int) transport.LinkConfig
	Seed    uint64 // network, bots and game
	Mode    game.Mode
	Coins   int
	// Session is the base configuration (delays, timeouts, checksum interval); Players,
	// InputSize, Game, Seed and Nonce are filled in.
	Session lockstep.Config
	// Vanish, if set, says when a peer stops dead (no goodbye): from then on it neither
	// sends nor receives.
	Vanish func(player int, now time.Duration) bool
	// Start delays a peer's start (default: all start at 0).
	Start func(player int) time.Duration
	// Input, if set, replaces the bots: the input of player p at its frame f.
	Input func(player int, f lockstep.Frame) game.Input
	// WrapGame, if set, may replace a peer's game (a deliberately broken one, say).
	WrapGame func(player int, g *game.State) lockstep.Game
	// WrapConn, if set, may stand in front of a peer's emulated endpoint (a counting Conn,
	// say); the peer's runner sends and receives through what it returns.
	WrapConn func(player int, c transport.Conn) transport.Conn
	// MaxTicks bounds the run; default 4*Frames + 600.
	MaxTicks int
}

// Peer is one player's side in a simulation.
type Peer struct {
	Player  int
	Addr    netip.AddrPort
	Conn    transport.Conn
	Runner  *netplay.Runner
	Session *lockstep.Session // the runner's
	State   *game.State       // nil until the handshake is done
	Game    lockstep.Game     // State, or what WrapGame made of it
	Events  []lockstep.Event
	Stalls  int // ticks it could not advance for want of remote input
	Waits   int // ticks it skipped for time sync
	Gone    bool

	bot  *bot.Bot
	sums []uint64 // checksum of every confirmed frame, by frame
	have []bool
	err  error // what made the game or the input fail
}

// Sim is a running simulation.
type Sim struct {
	Scenario Scenario
	Clock    *transport.VirtualClock
	Net      *transport.Network
	Peers    []*Peer
	Ticks    int
	buf      []byte
}

// Addr is the emulated address of player p.
func Addr(p int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(7000+p))
}

// New sets up a simulation: one emulated endpoint and session per player. Player 0 does
// not know the others' addresses and learns them in the handshake, as on the command line.
func New(sc Scenario) (*Sim, error) {
	if sc.Players == 0 {
		sc.Players = 2
	}
	if sc.Frames == 0 {
		sc.Frames = 600
	}
	if sc.MaxTicks == 0 {
		sc.MaxTicks = 4*sc.Frames + 600
	}
	if sc.Coins == 0 {
		sc.Coins = game.DefaultCoins
	}
	s := &Sim{Scenario: sc, Clock: transport.NewVirtualClock(0), buf: make([]byte, transport.MaxDatagram)}
	s.Net = transport.NewNetwork(s.Clock, sc.Seed)
	for from := range sc.Players {
		for to := range sc.Players {
			if from == to {
				continue
			}
			link := sc.Link
			if sc.LinkFor != nil {
				link = sc.LinkFor(from, to)
			}
			s.Net.SetLink(Addr(from), Addr(to), link)
		}
	}
	desc := fmt.Sprintf("p2pa-coins mode=%s coins=%d", sc.Mode, sc.Coins)
	for p := range sc.Players {
		conn, err := s.Net.Listen(Addr(p))
		if err != nil {
			return nil, err
		}
		if sc.WrapConn != nil {
			conn = sc.WrapConn(p, conn)
		}
		addrs := make([]netip.AddrPort, sc.Players)
		for q := range addrs {
			if p != 0 {
				addrs[q] = Addr(q)
			}
		}
		cfg := sc.Session
		cfg.Players, cfg.InputSize, cfg.Game = sc.Players, game.InputSize, desc
		cfg.Seed, cfg.Nonce = sc.Seed+1, sc.Seed*131+uint64(p)
		pe := &Peer{
			Player: p, Addr: Addr(p), Conn: conn,
			bot:  bot.NewBot(sc.Seed*7 + uint64(p)),
			sums: make([]uint64, sc.Frames+1), have: make([]bool, sc.Frames+1),
		}
		pe.Runner, err = netplay.New(netplay.Config{
			Session: cfg, Player: p, Peers: addrs, Conn: conn, Clock: s.Clock,
			NewGame:     s.newGame(pe),
			Input:       s.input(pe),
			FinishAt:    lockstep.Frame(sc.Frames),
			Hold:        true,
			OnEvent:     func(e lockstep.Event) { pe.Events = append(pe.Events, e) },
			OnConfirmed: pe.confirmed,
		})
		if err != nil {
			return nil, err
		}
		pe.Session = pe.Runner.Session()
		s.Peers = append(s.Peers, pe)
	}
	return s, nil
}

// Run steps until every remaining peer reached the scenario's frame count, or MaxTicks.
func (s *Sim) Run() error {
	for !s.Finished() {
		if s.Ticks >= s.Scenario.MaxTicks {
			return fmt.Errorf("not finished after %d ticks: %s", s.Ticks, s.describe())
		}
		if err := s.Step(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sim) describe() string {
	var out string
	for _, p := range s.Peers {
		out += fmt.Sprintf("[player %d frame %d confirmed %d state %s gone %v] ", p.Player, p.Session.Frame(), p.Session.ConfirmedFrame(), p.Session.State(), p.Gone)
	}
	return out
}

// Finished reports whether every peer still playing has reached the scenario's frames.
func (s *Sim) Finished() bool {
	for _, p := range s.Peers {
		if !p.Gone && p.Session.Err() == nil && int(p.Session.Frame()) < s.Scenario.Frames {
			return false
		}
	}
	return true
}

// Step runs one tick for every peer, in player order, then moves the clock on.
func (s *Sim) Step() error {
	now := s.Clock.Now()
	for _, p := range s.Peers {
		if err := s.stepPeer(p, now); err != nil {
			return fmt.Errorf("player %d at %v: %w", p.Player, now, err)
		}
	}
	s.Ticks++
	s.Clock.Advance(Tick)
	return nil
}

func (s *Sim) stepPeer(p *Peer, now time.Duration) error {
	sc := &s.Scenario
	if p.Gone {
		return nil
	}
	if sc.Vanish != nil && sc.Vanish(p.Player, now) {
		p.Gone = true
		return nil
	}
	if sc.Start != nil && now < sc.Start(p.Player) {
		for { // not started: whatever arrives is lost
			if _, _, ok := p.Conn.ReadFrom(s.buf); !ok {
				break
			}
		}
		return nil
	}
	p.Runner.Tick()
	c := p.Runner.Counters()
	p.Stalls, p.Waits = c.Stalls, c.Waits
	if p.err != nil {
		return p.err
	}
	if p.Runner.Done() {
		if res := p.Runner.Result(); res.Reason == netplay.EndFailed {
			return res.Err
		}
	}
	return nil
}

// newGame makes p's coin game from the agreed seed (the runner's NewGame).
func (s *Sim) newGame(p *Peer) func(seed uint64) (lockstep.Game, error) {
	sc := &s.Scenario
	return func(seed uint64) (lockstep.Game, error) {
		st, err := game.New(game.Config{Mode: sc.Mode, Coins: sc.Coins, Players: sc.Players, Seed: seed})
		if err != nil {
			p.err = err
			return nil, err
		}
		p.State, p.Game = st, st
		if sc.WrapGame != nil {
			p.Game = sc.WrapGame(p.Player, st)
		}
		return p.Game, nil
	}
}

// input is p's input source: the scenario's script or the bot. The runner asks once per
// frame, so a bot's input for frame f depends only on its seed and f, whatever the network
// does.
func (s *Sim) input(p *Peer) netplay.InputFunc {
	return func(f lockstep.Frame, dst []byte) []byte {
		var in game.Input
		if s.Scenario.Input != nil {
			in = s.Scenario.Input(p.Player, f)
		} else {
			in = p.bot.Next()
		}
		out, err := in.AppendBinary(dst)
		if err != nil && p.err == nil {
			p.err = fmt.Errorf("player %d: %w", p.Player, err)
		}
		return out
	}
}

// confirmed keeps the checksum of every confirmed frame (the runner's OnConfirmed).
func (p *Peer) confirmed(f lockstep.Frame, _ []byte) {
	if int(f) >= len(p.sums) {
		return
	}
	if sum, ok := p.Session.Checksum(f); ok {
		p.sums[f], p.have[f] = sum, true
	}
}

// MaxRollbackDepth is the deepest rollback the peer made.
func (p *Peer) MaxRollbackDepth() int { return p.Runner.Counters().MaxDepth }

// Checksum is the recorded checksum of confirmed frame f.
func (p *Peer) Checksum(f int) (uint64, bool) {
	if f < 0 || f >= len(p.sums) {
		return 0, false
	}
	return p.sums[f], p.have[f]
}

// Compare checks the peers' checksums at every frame two or more of them confirmed. It
// returns how many frame pairs were compared, and an error naming the first frame that
// differs.
func (s *Sim) Compare() (int, error) {
	return simtest.CompareChecksums(s.Scenario.Frames, len(s.Peers), func(peer int, f lockstep.Frame) (uint64, bool) {
		return s.Peers[peer].Checksum(int(f))
	})
}

// Count is how many events of kind k the peer saw.
func (p *Peer) Count(k lockstep.EventKind) int {
	n := 0
	for _, e := range p.Events {
		if e.Kind == k {
			n++
		}
	}
	return n
}
