// Package simtest plays whole matches of any lockstep.Game between 2 to 4 netplay.Runners
// over transport's emulated network, on a virtual clock, in one goroutine, and checks that
// every peer computed the same checksum at every frame they confirmed.
//
// A Scenario (links per direction and their changes during the run, outages, start
// delays, a peer that vanishes, a process that dies and a fresh one that rejoins, input
// delay) and its Seed determine every datagram and every frame, so a failure replays
// exactly. The runners are the ones a real match uses (netplay.Runner with Poll and Tick),
// so what passes here is the loop that runs over UDP. By default (OnArrival) the clock
// jumps from one datagram arrival to the next between two frames and the runners read each
// datagram when it arrives, as Runner.Run does on a real socket.
//
// Use it to test your own game: give it a game factory and an input function, run it,
// and check Report.Err (peers disagree, a desync, a failed handshake, a stalled match). A
// test that needs to act between frames (inject datagrams, sample stats, kill, restart or
// pause a process when the match reaches some state, start another process for a taken
// seat) calls New, then Step until Finished (Play), then Compare.
package simtest

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// Scenario describes a match.
type Scenario struct {
	Players int // 2..4; default 2
	// Frames is the frame every runner finishes at (netplay.Config.FinishAt); default 600.
	Frames int
	// Seed drives the emulated links and the sessions' seeds and nonces. State it in every
	// scenario, so a failure replays. The game's seed is not Seed itself: every NewGame
	// gets Seed+1 (player 0's proposal, which the handshake hands to the others; 1<<63 if
	// Seed+1 wraps to 0). A test that rebuilds a simulated game by hand, to replay or
	// compare it, makes it from Seed+1.
	Seed uint64
	// Link applies to every direction; LinkFor, if set, overrides it per direction.
	Link    transport.LinkConfig
	LinkFor func(from, to int) transport.LinkConfig
	// LinkChanges set the links anew during the run (loss during a handover, say).
	LinkChanges []LinkChange
	// Session is the base engine configuration; InputSize is required. Players, Seed and
	// Nonce are filled in.
	Session lockstep.Config
	// NewGame makes player p's game from the agreed seed, which is Seed+1 (see Seed).
	// Required. It is called during a tick of the player's current process,
	// Sim.Peers[player], so an adapter can tell a restarted process by its Life.
	NewGame func(player int, seed uint64) (lockstep.Game, error)
	// Input is player p's input for frame f, appended to dst; nil plays zero input. It is
	// called during a tick of Sim.Peers[player], once per frame (netplay.InputFunc).
	Input func(player int, f lockstep.Frame, dst []byte) []byte
	// WrapConn, if set, stands in front of a process's emulated endpoint (a counting Conn,
	// say): its runner reads and writes through what it returns.
	WrapConn func(player int, c transport.Conn) transport.Conn
	// Addr, if set, is the address of a player's life'th process (see Peer.Life); default
	// Addr(player) for every life. A restarted program gets another ephemeral port: the
	// others learn it in its handshake.
	Addr func(player, life int) netip.AddrPort
	// Edit, if set, may change a process's runner configuration just before its runner is
	// made, for tests of netplay itself (a Game of its own, no FinishAt, DesyncLinger, the
	// session's Seed and Nonce). What it replaces is no longer the harness's: without
	// OnConfirmed no checksum is recorded, without OnEvent no event.
	Edit func(player, life int, c *netplay.Config)
	// Start, if set, delays a player's start; until then whatever reaches it is lost.
	Start func(player int) time.Duration
	// Vanish, if set, is when a player's first process stops dead (no goodbye; 0: never).
	// From then on it neither sends nor receives; a restart starts a process that stays.
	Vanish func(player int) time.Duration
	// Rejoin is how long the others wait for a player who dropped to come back
	// (netplay.Config.Rejoin); 0: no rejoin.
	Rejoin time.Duration
	// Restarts are processes that die and fresh ones that take their seats.
	Restarts []Restart
	// Hold makes every runner play to Frames whatever the others do and hold there
	// (netplay.Config.Hold), so the peers can be compared at every frame to the end: a
	// player who vanishes does not move the end. The run is then over once every player
	// still there has reached Frames, or stopped on a desync, rather than once every
	// match ended.
	Hold bool
	// Delivery is when a runner reads what reached it; default OnArrival.
	Delivery Delivery
	// MaxTime bounds the run in virtual time; default 4 frames per frame plus 30 s.
	MaxTime time.Duration
}

// Delivery is when a simulated runner reads the datagrams that reached it.
type Delivery uint8

const (
	// OnArrival: between two frames the clock jumps from one arrival to the next and the
	// runners read (Runner.Poll) each datagram when it arrives, as Runner.Run does.
	OnArrival Delivery = iota
	// OnTick: a runner reads only in its own tick (Runner.Tick polls first), once per
	// frame, the players in order, as a front end that polls once per frame. A datagram
	// that a player sends in its tick over a perfect link reaches a later player in the
	// same frame. The coin game's scenarios and benchmarks were tuned on it.
	OnTick
)

var deliveryNames = [...]string{OnArrival: "on-arrival", OnTick: "on-tick"}

func (d Delivery) String() string {
	if int(d) < len(deliveryNames) {
		return deliveryNames[d]
	}
	return fmt.Sprintf("Delivery(%d)", uint8(d))
}

// Restart is a process dying and a fresh one coming back for its seat. At At the process
// stops dead, as kill -9 leaves it: its runner is no longer driven and its socket is closed
// (what is in flight to it is lost). At Back (after At) a fresh process starts for the
// same player with the same configuration, as a restarted program would: a new runner, a
// new game made by NewGame once its handshake is done, a new socket at the same address and
// a fresh session nonce. With Scenario.Rejoin it rejoins the match in progress.
type Restart struct {
	Player   int
	At, Back time.Duration
}

// LinkChange sets every link anew at At (the first frame at or after it): Link for every
// direction, or LinkFor per direction if set. The links keep their random streams.
type LinkChange struct {
	At      time.Duration
	Link    transport.LinkConfig
	LinkFor func(from, to int) transport.LinkConfig
}

// Sim is a prepared simulation.
type Sim struct {
	Scenario Scenario
	Clock    *transport.VirtualClock
	Net      *transport.Network
	Peers    []*Peer // every player's current process
	// Dead are the processes Restarts killed and replaced, in the order they were replaced.
	Dead []*Peer
	// Extra are processes Join started for seats that were taken, driven like the others.
	Extra []*Peer
	// Spectators are the spectators Watch started: they read what reaches them as it
	// arrives and tick every frame after the players.
	Spectators []*netplay.Spectator
	watchAddrs []netip.AddrPort
	Ticks      int // frames stepped

	cfg     lockstep.Config
	frame   time.Duration
	next    time.Duration // the virtual time of the next frame
	links   int           // LinkChanges applied
	link    transport.LinkConfig
	linkFor func(from, to int) transport.LinkConfig
	buf     []byte
}

// Addr is the emulated address of player p.
func Addr(p int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(7000+p))
}

// New sets up a simulation: one emulated endpoint and runner per player. Player 0 does not
// know the others' addresses and learns them in the handshake.
func New(sc Scenario) (*Sim, error) {
	if sc.Players == 0 {
		sc.Players = 2
	}
	if sc.Frames == 0 {
		sc.Frames = 600
	}
	if sc.NewGame == nil {
		return nil, errors.New("simtest: NewGame is required")
	}
	cfg := sc.Session
	cfg.Players = sc.Players
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simtest: session: %w", err)
	}
	if sc.MaxTime == 0 {
		sc.MaxTime = 4*time.Duration(sc.Frames)*cfg.FrameDuration + 30*time.Second
	}
	for _, r := range sc.Restarts {
		if r.Player < 0 || r.Player >= sc.Players || r.Back <= r.At {
			return nil, fmt.Errorf("simtest: restart of player %d at %v, back at %v", r.Player, r.At, r.Back)
		}
	}
	s := &Sim{Scenario: sc, Clock: transport.NewVirtualClock(0), cfg: cfg, frame: cfg.FrameDuration,
		buf: make([]byte, transport.MaxDatagram)}
	s.Net = transport.NewNetwork(s.Clock, sc.Seed)
	s.setLinks(sc.Link, sc.LinkFor)
	for p := range sc.Players {
		pe, err := s.newPeer(p, 0, s.addr(p, 0))
		if err != nil {
			return nil, err
		}
		s.Peers = append(s.Peers, pe)
	}
	return s, nil
}

// addr is the address of player p's life'th process.
func (s *Sim) addr(p, life int) netip.AddrPort {
	if s.Scenario.Addr != nil {
		return s.Scenario.Addr(p, life)
	}
	return Addr(p)
}

// current is the address of player p's current process (its first before New made it).
func (s *Sim) current(p int) netip.AddrPort {
	if p < len(s.Peers) {
		return s.Peers[p].Addr
	}
	return s.addr(p, 0)
}

// newPeer makes player p's process for its life'th life: an emulated endpoint at addr,
// linked to every other player's current process, and a runner on it.
func (s *Sim) newPeer(p, life int, addr netip.AddrPort) (*Peer, error) {
	sc := &s.Scenario
	conn, err := s.Net.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("simtest: %w", err)
	}
	if sc.WrapConn != nil {
		conn = sc.WrapConn(p, conn)
	}
	for _, w := range s.watchAddrs {
		s.Net.SetLink(addr, w, s.link)
		s.Net.SetLink(w, addr, s.link)
	}
	addrs := make([]netip.AddrPort, sc.Players)
	for q := range addrs {
		if q != p {
			s.Net.SetLink(addr, s.current(q), s.linkOf(p, q))
			s.Net.SetLink(s.current(q), addr, s.linkOf(q, p))
		}
		if p != 0 {
			addrs[q] = s.current(q)
		}
	}
	pc := s.cfg
	pc.Seed, pc.Nonce = fixed(sc.Seed+1), fixed(sc.Seed*131+uint64(p)+uint64(life)<<32)
	// Room for a checksum of every frame up to Frames, where the match ends.
	pe := &Peer{Player: p, Life: life, Addr: addr, Conn: conn, interval: pc.ChecksumInterval,
		sums: make([]uint64, 0, sc.Frames+1), have: make([]bool, 0, sc.Frames+1)}
	player := p
	rc := netplay.Config{
		Session: pc, Player: p, Peers: addrs, Conn: conn, Clock: s.Clock,
		NewGame:     func(seed uint64) (lockstep.Game, error) { return sc.NewGame(player, seed) },
		FinishAt:    lockstep.Frame(sc.Frames),
		Hold:        sc.Hold,
		Rejoin:      sc.Rejoin,
		OnEvent:     pe.event,
		OnConfirmed: pe.confirmed,
		OnRejoin:    func(e netplay.RejoinEvent) { pe.Rejoins = append(pe.Rejoins, RejoinAt{e, s.Clock.Now()}) },
	}
	if sc.Input != nil {
		rc.Input = func(f lockstep.Frame, dst []byte) []byte { return sc.Input(player, f, dst) }
	}
	if sc.Edit != nil {
		sc.Edit(p, life, &rc)
	}
	if pe.Runner, err = netplay.New(rc); err != nil {
		conn.Close()
		return nil, fmt.Errorf("simtest: player %d: %w", p, err)
	}
	return pe, nil
}

// fixed keeps a derived seed or nonce from being zero, which netplay.New would replace with
// a random value: the run would no longer replay from Scenario.Seed.
func fixed(v uint64) uint64 {
	if v == 0 {
		return 1 << 63
	}
	return v
}

// setLinks configures every direction between the players' current processes (and what
// a process that starts later gets).
func (s *Sim) setLinks(link transport.LinkConfig, linkFor func(from, to int) transport.LinkConfig) {
	s.link, s.linkFor = link, linkFor
	for from := range s.Scenario.Players {
		for to := range s.Scenario.Players {
			if from != to {
				s.Net.SetLink(s.current(from), s.current(to), s.linkOf(from, to))
			}
		}
	}
}

// linkOf is the link from player from to player to as now configured.
func (s *Sim) linkOf(from, to int) transport.LinkConfig {
	if s.linkFor != nil {
		return s.linkFor(from, to)
	}
	return s.link
}

// Run prepares and plays sc; see Sim.Run.
func Run(sc Scenario) (*Report, error) {
	s, err := New(sc)
	if err != nil {
		return nil, err
	}
	return s.Run(), nil
}

// Run plays the match until Finished, or MaxTime, and reports.
func (s *Sim) Run() *Report {
	for !s.Finished() && !s.TimedOut() {
		_ = s.Step() // a failure is in the report, as the runner's Result or the peer's Fail
	}
	return s.report()
}

// Play steps until Finished, and fails with the first failure Step reports or when
// MaxTime passes first.
func (s *Sim) Play() error {
	for !s.Finished() {
		if s.TimedOut() {
			return fmt.Errorf("simtest: not finished after %d frames (%v): %s", s.Ticks, s.Clock.Now(), s.Status())
		}
		if err := s.Step(); err != nil {
			return err
		}
	}
	return nil
}

// TimedOut reports whether the run has used up MaxTime.
func (s *Sim) TimedOut() bool { return s.next >= s.Scenario.MaxTime }

// Finished reports whether every player's process is done: gone, its match ended, or with
// Hold at Frames (in the match's frames) or stopped on a desync; and no restart is to come.
func (s *Sim) Finished() bool {
	for _, r := range s.Scenario.Restarts {
		if s.Ticks == 0 || s.Clock.Now() < r.Back {
			return false
		}
	}
	for _, p := range s.Peers {
		if !p.Gone && !p.Runner.Done() &&
			!(s.Scenario.Hold && (int(p.Runner.Frame()) >= s.Scenario.Frames || p.Runner.Session().Err() != nil)) {
			return false
		}
	}
	return true
}

// Step plays one frame: the datagrams due before it arrive (OnArrival), link changes and
// restarts due by it happen, then every running process ticks, in player order (then the
// extra ones). It returns the failure of a player's process that failed (its runner ended
// with EndFailed, or Fail was called), naming the player.
func (s *Sim) Step() error {
	now := s.next
	if s.Scenario.Delivery == OnArrival {
		s.deliver(now)
	}
	s.Clock.Set(now)
	for s.links < len(s.Scenario.LinkChanges) && now >= s.Scenario.LinkChanges[s.links].At {
		c := s.Scenario.LinkChanges[s.links]
		s.setLinks(c.Link, c.LinkFor)
		s.links++
	}
	if err := s.restarts(now); err != nil {
		return err
	}
	if s.Scenario.Delivery == OnArrival {
		s.poll(now)
	}
	var errs []error
	for _, p := range s.running() {
		if !s.active(p, now) {
			continue
		}
		if !s.started(p, now) {
			s.drain(p)
			continue
		}
		p.Runner.Tick()
		if err := p.failure(); err != nil && p.Life >= 0 { // an extra process may well be refused
			errs = append(errs, fmt.Errorf("player %d at %v: %w", p.Player, now, err))
		}
	}
	for _, sp := range s.Spectators {
		sp.Tick()
	}
	s.Ticks++
	s.next += s.frame
	return errors.Join(errs...)
}

// Watch starts a spectator at addr of the match, greeting player host's current process:
// cfg's Host, Conn and Clock are filled in (and its session nonce, if zero, from Seed, so
// the run replays). The links between it and every process, now and later, are
// Scenario.Link.
func (s *Sim) Watch(addr netip.AddrPort, host int, cfg netplay.SpectatorConfig) (*netplay.Spectator, error) {
	conn, err := s.Net.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("simtest: %w", err)
	}
	for _, p := range s.Peers {
		s.Net.SetLink(addr, p.Addr, s.link)
		s.Net.SetLink(p.Addr, addr, s.link)
	}
	cfg.Host, cfg.Conn, cfg.Clock = s.Peers[host].Addr, conn, s.Clock
	if cfg.Session.Nonce == 0 {
		cfg.Session.Nonce = fixed(s.Scenario.Seed*131 + uint64(len(s.Spectators)+1)<<40)
	}
	sp, err := netplay.NewSpectator(cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("simtest: spectator: %w", err)
	}
	s.Spectators = append(s.Spectators, sp)
	s.watchAddrs = append(s.watchAddrs, addr)
	return sp, nil
}

// deliver hands every datagram due before the frame at next to its reader at its arrival
// time.
func (s *Sim) deliver(next time.Duration) {
	for {
		due, ok := s.Net.NextDue()
		if !ok || due >= next {
			return
		}
		if due > s.Clock.Now() {
			s.Clock.Set(due)
		}
		s.poll(s.Clock.Now())
		if again, ok := s.Net.NextDue(); ok && again <= due {
			return // nobody takes it (an endpoint a test opened): it waits for the frame
		}
	}
}

// running is every process the harness drives: the players' and the extra ones.
func (s *Sim) running() []*Peer {
	if len(s.Extra) == 0 {
		return s.Peers
	}
	return append(append([]*Peer(nil), s.Peers...), s.Extra...)
}

// poll hands each running process what has arrived; one not started yet, gone or done
// loses it, and one paused leaves it in its socket.
func (s *Sim) poll(now time.Duration) {
	for _, p := range s.running() {
		switch {
		case p.Paused:
		case s.active(p, now) && s.started(p, now):
			p.Runner.Poll()
		default:
			s.drain(p)
		}
	}
	for _, sp := range s.Spectators {
		sp.Poll() // (one that is done drains what arrives)
	}
}

func (s *Sim) drain(p *Peer) {
	for {
		if _, _, ok := p.Conn.ReadFrom(s.buf); !ok {
			return
		}
	}
}

func (s *Sim) active(p *Peer, now time.Duration) bool {
	sc := &s.Scenario
	if p.Gone || p.Paused || p.Runner.Done() {
		return false
	}
	if sc.Vanish != nil && p.Life == 0 {
		if at := sc.Vanish(p.Player); at > 0 && now >= at {
			p.Gone = true
			return false
		}
	}
	return true
}

func (s *Sim) started(p *Peer, now time.Duration) bool {
	return s.Scenario.Start == nil || now >= s.Scenario.Start(p.Player)
}

// restarts kills the processes whose restart is due (At) and starts their fresh ones
// (Back). A restart of a process that vanished or was already killed kills nothing more.
func (s *Sim) restarts(now time.Duration) error {
	for i, r := range s.Scenario.Restarts {
		p := s.Peers[r.Player]
		life := 0 // the life restart i ends: the player's restarts before it
		for _, q := range s.Scenario.Restarts[:i] {
			if q.Player == r.Player {
				life++
			}
		}
		if now >= r.At && p.Life == life && !p.Gone {
			s.Kill(r.Player)
		}
		if now >= r.Back && p.Life == life {
			if _, err := s.Restart(r.Player); err != nil {
				return err
			}
		}
	}
	return nil
}

// Kill stops player's current process dead, as kill -9 leaves it: its runner is no longer
// driven and its socket is closed (what is in flight to it is lost). A process that
// vanished or was killed already stays as it is.
func (s *Sim) Kill(player int) {
	if p := s.Peers[player]; !p.Gone {
		p.Gone = true
		p.Conn.Close()
	}
}

// Restart starts a fresh process for player's seat now, as a restarted program: a new
// runner, a new game made by NewGame once its handshake is done, a new socket at the
// address of its life (Scenario.Addr) and a fresh session nonce. The current process is
// killed first if it still runs, and goes to Dead. Restarts at scheduled times do this.
func (s *Sim) Restart(player int) (*Peer, error) {
	s.Kill(player)
	old := s.Peers[player]
	old.Conn.Close() // one that vanished still held its address
	fresh, err := s.newPeer(player, old.Life+1, s.addr(player, old.Life+1))
	if err != nil {
		return nil, fmt.Errorf("simtest: restart player %d: %w", player, err)
	}
	s.Dead = append(s.Dead, old)
	s.Peers[player] = fresh
	return fresh, nil
}

// Join starts another process for player's seat at addr while the seat's own process
// runs (a leftover process, an intruder): it is driven like the others and listed in
// Extra, and takes no part in Finished or Compare. Its Life is -1 minus its index in
// Extra.
func (s *Sim) Join(player int, addr netip.AddrPort) (*Peer, error) {
	p, err := s.newPeer(player, -1-len(s.Extra), addr)
	if err != nil {
		return nil, fmt.Errorf("simtest: join player %d: %w", player, err)
	}
	s.Extra = append(s.Extra, p)
	return p, nil
}

// Status describes every process, for a failure message.
func (s *Sim) Status() string {
	var out string
	for _, p := range s.Peers {
		out += fmt.Sprintf("[player %d life %d frame %d confirmed %d state %s gone %v rejoin %+v] ", p.Player, p.Life,
			p.Runner.Frame(), p.Runner.ConfirmedFrame(), p.Runner.Session().State(), p.Gone, p.Runner.Rejoin())
	}
	return out
}
