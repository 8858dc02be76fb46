// Package sim is the coin game over the loop every front end uses: it plays whole p2pa
// matches between 2 to 4 netplay.Runners over transport's emulated network, on a virtual
// clock, in one goroutine. A scenario (link, players, input delay, outages, a peer that
// vanishes) and a seed determine every datagram and every frame, so a failure replays
// exactly. Each runner plays to the scenario's frame and holds there (netplay.Config.Hold),
// so tests can compare the peers' checksums at every confirmed frame; benchmarks use it to
// measure rollbacks and stalls under bad links. A peer's process can die and a fresh one
// take its seat (Scenario.Restarts, with Scenario.Rejoin): the match is then a sequence of
// legs (see lockstep/rejoin.go), and the harness records every confirmed frame in the
// match's frames, so the rejoiner's checksums line up with the survivors'. The
// game-agnostic harness, with matches that end properly, is simtest.
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
	// Rejoin is how long the others wait for a player who dropped to come back
	// (netplay.Config.Rejoin); 0: no rejoin, as before.
	Rejoin time.Duration
	// Restarts are peers whose process dies and whose seat a fresh one takes.
	Restarts []Restart
	// LinkChanges reconfigure the links during the run (loss during a handover, say).
	LinkChanges []LinkChange
}

// Restart is a peer's process dying and a fresh one coming back for its seat. At At the
// peer stops dead, as kill -9 leaves it: its runner is no longer driven and its socket is
// closed (what is in flight to it is lost). At Back a fresh peer starts for the same player
// with the same configuration, as a restarted p2pa would: a new runner, a new game made by
// NewGame once the handshake is done, a new socket at the same address, a fresh session
// nonce and a fresh bot. Back must come after At.
type Restart struct {
	Player   int
	At, Back time.Duration
	// WrapGame, if set, replaces Scenario.WrapGame for the fresh peer's game.
	WrapGame func(player int, g *game.State) lockstep.Game
}

// LinkChange sets every link anew at time At (the first tick at or after it): Link for
// every direction, or LinkFor per direction if set. The links keep their random streams.
type LinkChange struct {
	At      time.Duration
	Link    transport.LinkConfig
	LinkFor func(from, to int) transport.LinkConfig
}

// Peer is one player's side in a simulation.
type Peer struct {
	Player int
	// Life counts the peer's processes: 0 for the first, n for the one started by the
	// player's n-th restart.
	Life    int
	Addr    netip.AddrPort
	Conn    transport.Conn
	Runner  *netplay.Runner
	Session *lockstep.Session // the runner's current leg (after every tick)
	State   *game.State       // nil until the handshake is done
	Game    lockstep.Game     // State, or what WrapGame made of it
	Events  []lockstep.Event
	Rejoins []RejoinAt // what the runner reported of rejoins (netplay.Config.OnRejoin)
	Stalls  int        // ticks it could not advance for want of remote input
	Waits   int        // ticks it skipped for time sync
	Gone    bool
	// Reported counts the confirmed frames the runner reported (OnConfirmed); Repeated,
	// the reports of a frame reported before; Rewritten, those of them whose checksum
	// differed from the earlier one (the later one is kept); and RewrittenEarly, those of
	// them at or before the frame the runner's current leg started from, which no later
	// leg has a reason to change.
	Reported, Repeated, Rewritten, RewrittenEarly int

	bot  *bot.Bot
	sums []uint64 // checksum of every confirmed frame, by the match's frame
	have []bool
	err  error // what made the game or the input fail
	// wrap is the restart's WrapGame, for a fresh process.
	wrap func(player int, g *game.State) lockstep.Game
}

// RejoinAt is a rejoin event and the virtual time it was reported at.
type RejoinAt struct {
	netplay.RejoinEvent
	At time.Duration
}

// Sim is a running simulation.
type Sim struct {
	Scenario Scenario
	Clock    *transport.VirtualClock
	Net      *transport.Network
	Peers    []*Peer // every player's current process
	// Dead are the processes Restarts killed and replaced, in the order they were replaced.
	Dead  []*Peer
	Ticks int
	buf   []byte
	desc  string
	links int // LinkChanges applied
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
	s.setLinks(sc.Link, sc.LinkFor)
	s.desc = fmt.Sprintf("p2pa-coins mode=%s coins=%d", sc.Mode, sc.Coins)
	for _, r := range sc.Restarts {
		if r.Player < 0 || r.Player >= sc.Players || r.Back <= r.At {
			return nil, fmt.Errorf("sim: restart of player %d at %v, back at %v", r.Player, r.At, r.Back)
		}
	}
	for p := range sc.Players {
		pe, err := s.newPeer(p, 0)
		if err != nil {
			return nil, err
		}
		s.Peers = append(s.Peers, pe)
	}
	return s, nil
}

// newPeer makes the process of player p for its life'th life: an emulated endpoint at the
// player's address and a runner on it.
func (s *Sim) newPeer(p, life int) (*Peer, error) {
	sc := &s.Scenario
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
	cfg.Players, cfg.InputSize, cfg.Game = sc.Players, game.InputSize, s.desc
	cfg.Seed, cfg.Nonce = sc.Seed+1, sc.Seed*131+uint64(p)+uint64(life)<<32
	if cfg.Nonce == 0 {
		cfg.Nonce = 1 << 63 // fixed: netplay.New would draw a zero nonce at random, and the run would not replay
	}
	pe := &Peer{
		Player: p, Life: life, Addr: Addr(p), Conn: conn,
		bot:  bot.NewBot(sc.Seed*7 + uint64(p) + uint64(life)<<32),
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
		Rejoin:      sc.Rejoin,
		OnRejoin: func(e netplay.RejoinEvent) {
			pe.Rejoins = append(pe.Rejoins, RejoinAt{e, s.Clock.Now()})
		},
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	pe.Session = pe.Runner.Session()
	return pe, nil
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
		out += fmt.Sprintf("[player %d life %d frame %d confirmed %d state %s gone %v rejoin %+v] ", p.Player, p.Life,
			p.Runner.Frame(), p.Runner.ConfirmedFrame(), p.Session.State(), p.Gone, p.Runner.Rejoin())
	}
	return out
}

// Finished reports whether every peer still playing has reached the scenario's frames, in
// the match's frames, and no restart is still to come.
func (s *Sim) Finished() bool {
	now := s.Clock.Now()
	for _, r := range s.Scenario.Restarts {
		if now < r.Back {
			return false
		}
	}
	for _, p := range s.Peers {
		if !p.Gone && p.Session.Err() == nil && int(p.Runner.Frame()) < s.Scenario.Frames {
			return false
		}
	}
	return true
}

// Step runs one tick for every peer, in player order, then moves the clock on. Link
// changes and restarts due by now happen first.
func (s *Sim) Step() error {
	now := s.Clock.Now()
	for s.links < len(s.Scenario.LinkChanges) && now >= s.Scenario.LinkChanges[s.links].At {
		s.setLinks(s.Scenario.LinkChanges[s.links].Link, s.Scenario.LinkChanges[s.links].LinkFor)
		s.links++
	}
	if err := s.restarts(now); err != nil {
		return err
	}
	for _, p := range s.Peers {
		if err := s.stepPeer(p, now); err != nil {
			return fmt.Errorf("player %d at %v: %w", p.Player, now, err)
		}
	}
	s.Ticks++
	s.Clock.Advance(Tick)
	return nil
}

// setLinks configures every direction between the players' addresses.
func (s *Sim) setLinks(link transport.LinkConfig, linkFor func(from, to int) transport.LinkConfig) {
	for from := range s.Scenario.Players {
		for to := range s.Scenario.Players {
			if from == to {
				continue
			}
			l := link
			if linkFor != nil {
				l = linkFor(from, to)
			}
			s.Net.SetLink(Addr(from), Addr(to), l)
		}
	}
}

// restarts kills the processes whose restart is due (At) and starts their fresh ones
// (Back). A restart of a peer that vanished or was already killed kills nothing more.
func (s *Sim) restarts(now time.Duration) error {
	for i, r := range s.Scenario.Restarts {
		p := s.Peers[r.Player]
		life := s.lives(r.Player, i)
		if now >= r.At && p.Life == life && !p.Gone {
			p.Gone = true
			p.Conn.Close()
		}
		if now >= r.Back && p.Life == life {
			fresh, err := s.newPeer(r.Player, life+1)
			if err != nil {
				return fmt.Errorf("restart player %d: %w", r.Player, err)
			}
			if r.WrapGame != nil {
				fresh.wrap = r.WrapGame
			}
			s.Dead = append(s.Dead, p)
			s.Peers[r.Player] = fresh
		}
	}
	return nil
}

// lives is how many restarts of player p come before restart i in the scenario: the life
// restart i ends.
func (s *Sim) lives(p, i int) int {
	n := 0
	for _, r := range s.Scenario.Restarts[:i] {
		if r.Player == p {
			n++
		}
	}
	return n
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
	p.Session = p.Runner.Session()
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
		switch {
		case p.wrap != nil:
			p.Game = p.wrap(p.Player, st)
		case sc.WrapGame != nil:
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

// confirmed keeps the checksum of every confirmed frame (the runner's OnConfirmed), in the
// match's frames.
func (p *Peer) confirmed(c netplay.Confirmed) {
	f := c.Frame
	if int(f) >= len(p.sums) || f < 0 {
		return
	}
	p.Reported++
	sum, ok := c.Checksum()
	if !ok {
		return
	}
	if p.have[f] {
		p.Repeated++
		if p.sums[f] != sum {
			p.Rewritten++
			if f <= p.Runner.BaseFrame() {
				p.RewrittenEarly++
			}
		}
	}
	p.sums[f], p.have[f] = sum, true
}

// MaxRollbackDepth is the deepest rollback the peer made.
func (p *Peer) MaxRollbackDepth() int { return p.Runner.Counters().MaxDepth }

// Checksum is the recorded checksum of confirmed frame f (in the match's frames; for a
// process that rejoined, from JoinedAt on).
func (p *Peer) Checksum(f int) (uint64, bool) {
	if f < 0 || f >= len(p.sums) {
		return 0, false
	}
	return p.sums[f], p.have[f]
}

// Compare checks the peers' checksums at every frame two or more of them confirmed, in the
// match's frames. A process that Restarts killed takes part with the frames up to the one
// its successor rejoined at: every player played those on the same inputs, while after it
// the survivors played on with the successor's. It returns how many frame pairs were
// compared, and an error naming the first frame that differs (and the players, by their
// index in Peers, then Dead).
func (s *Sim) Compare() (int, error) {
	all := append(append([]*Peer(nil), s.Peers...), s.Dead...)
	limit := make([]int, len(all))
	for i, p := range all {
		limit[i] = s.Scenario.Frames
		if p.Gone && i >= len(s.Peers) {
			limit[i] = -1 // its successor never rejoined: nothing says where its frames end
			if next := s.successor(p); next != nil {
				if f, ok := next.JoinedAt(); ok {
					limit[i] = int(f)
				}
			}
		}
	}
	return simtest.CompareChecksums(s.Scenario.Frames, len(all), func(peer int, f lockstep.Frame) (uint64, bool) {
		if int(f) > limit[peer] {
			return 0, false
		}
		return all[peer].Checksum(int(f))
	})
}

// successor is the process that took dead's seat next.
func (s *Sim) successor(dead *Peer) *Peer {
	for _, p := range append(append([]*Peer(nil), s.Dead...), s.Peers...) {
		if p.Player == dead.Player && p.Life == dead.Life+1 {
			return p
		}
	}
	return nil
}

// JoinedAt is the match's frame this process rejoined the match at, the frame of the
// state it was handed; false if it did not rejoin a match in progress.
func (p *Peer) JoinedAt() (lockstep.Frame, bool) {
	for _, e := range p.Rejoins {
		if e.Kind == netplay.RejoinResumed && e.Player == p.Player {
			return e.Frame, true
		}
	}
	return 0, false
}

// CountRejoins is how many rejoin events of kind k the peer saw.
func (p *Peer) CountRejoins(k netplay.RejoinEventKind) int {
	n := 0
	for _, e := range p.Rejoins {
		if e.Kind == k {
			n++
		}
	}
	return n
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
