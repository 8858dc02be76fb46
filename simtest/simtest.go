// Package simtest plays whole matches of any lockstep.Game between 2 to 4 netplay.Runners
// over transport's emulated network, on a virtual clock, in one goroutine, and checks that
// every peer computed the same checksum at every frame they confirmed.
//
// A Scenario (links per direction, outages, start delays, a peer that vanishes, input
// delay) and its Seed determine every datagram and every frame, so a failure replays
// exactly. The runners are the ones a real match uses (netplay.Runner with Poll and Tick),
// so what passes here is the loop that runs over UDP. Between two frames the clock jumps
// from one datagram arrival to the next and the runners read each datagram when it
// arrives, as Runner.Run does on a real socket.
//
// Use it to test your own game: give it a game factory and an input function, run it,
// and check Report.Err (peers disagree, a desync, a failed handshake, a stalled match).
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
	// Session is the base engine configuration; InputSize is required. Players, Seed and
	// Nonce are filled in.
	Session lockstep.Config
	// NewGame makes player p's game from the agreed seed, which is Seed+1 (see Seed).
	// Required.
	NewGame func(player int, seed uint64) (lockstep.Game, error)
	// Input is player p's input for frame f, appended to dst; nil plays zero input.
	Input func(player int, f lockstep.Frame, dst []byte) []byte
	// Start, if set, delays a player's start; until then whatever reaches it is lost.
	Start func(player int) time.Duration
	// Vanish, if set, is when a player stops dead (no goodbye; 0: never). From then on it
	// neither sends nor receives.
	Vanish func(player int) time.Duration
	// MaxTime bounds the run in virtual time; default 4 frames per frame plus 30 s.
	MaxTime time.Duration
}

// Peer is one player's side in a simulation.
type Peer struct {
	Player int
	Addr   netip.AddrPort
	Runner *netplay.Runner
	Events []lockstep.Event
	Gone   bool // vanished

	conn transport.Conn
	sums map[lockstep.Frame]uint64
}

// Checksum is the recorded checksum of confirmed frame f.
func (p *Peer) Checksum(f lockstep.Frame) (uint64, bool) {
	s, ok := p.sums[f]
	return s, ok
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

// PeerReport sums up one peer's match.
type PeerReport struct {
	Player    int
	Gone      bool
	Frame     lockstep.Frame // the frame its game reached
	Confirmed lockstep.Frame
	netplay.Counters
	Rollbacks int64
	Result    netplay.Result // valid if Done
	Done      bool
	Events    []lockstep.Event
}

// Report is the outcome of Run.
type Report struct {
	Peers    []PeerReport
	Compared int           // frame pairs whose checksums were compared
	Elapsed  time.Duration // virtual time
	// Err is what went wrong, cause first: a runner that failed or saw a desync (its
	// Result.Err wrapped, naming the player: a game whose LoadState fails is reported here,
	// on the player it failed on), then peers that disagree on a confirmed frame (often
	// the failure's consequence, at a later frame), or else a match that did not end
	// within MaxTime. nil: every peer finished and agreed.
	Err error
}

// Sim is a prepared simulation.
type Sim struct {
	Scenario Scenario
	Clock    *transport.VirtualClock
	Net      *transport.Network
	Peers    []*Peer

	frame time.Duration
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
	s := &Sim{Scenario: sc, Clock: transport.NewVirtualClock(0), frame: cfg.FrameDuration}
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
	for p := range sc.Players {
		conn, err := s.Net.Listen(Addr(p))
		if err != nil {
			return nil, fmt.Errorf("simtest: %w", err)
		}
		addrs := make([]netip.AddrPort, sc.Players)
		for q := range addrs {
			if p != 0 {
				addrs[q] = Addr(q)
			}
		}
		pc := cfg
		pc.Seed, pc.Nonce = fixed(sc.Seed+1), fixed(sc.Seed*131+uint64(p))
		peer := &Peer{Player: p, Addr: Addr(p), conn: conn, sums: make(map[lockstep.Frame]uint64)}
		player := p
		rc := netplay.Config{
			Session: pc, Player: p, Peers: addrs, Conn: conn, Clock: s.Clock,
			NewGame:  func(seed uint64) (lockstep.Game, error) { return sc.NewGame(player, seed) },
			FinishAt: lockstep.Frame(sc.Frames),
			OnEvent:  func(e lockstep.Event) { peer.Events = append(peer.Events, e) },
			OnConfirmed: func(c netplay.Confirmed) {
				// The harness compares every confirmed frame, so it pays for hashing each.
				if sum, ok := c.Checksum(); ok {
					peer.sums[c.Frame] = sum
				}
			},
		}
		if sc.Input != nil {
			rc.Input = func(f lockstep.Frame, dst []byte) []byte { return sc.Input(player, f, dst) }
		}
		if peer.Runner, err = netplay.New(rc); err != nil {
			return nil, fmt.Errorf("simtest: player %d: %w", p, err)
		}
		s.Peers = append(s.Peers, peer)
	}
	return s, nil
}

// fixed keeps a derived seed or nonce from being zero, which netplay.New would replace with
// a random value: the run would no longer replay from Scenario.Seed.
func fixed(v uint64) uint64 {
	if v == 0 {
		return 1 << 63
	}
	return v
}

// Run prepares and plays sc; see Sim.Run.
func Run(sc Scenario) (*Report, error) {
	s, err := New(sc)
	if err != nil {
		return nil, err
	}
	return s.Run(), nil
}

func (s *Sim) active(p *Peer, now time.Duration) bool {
	sc := &s.Scenario
	if p.Gone || p.Runner.Done() {
		return false
	}
	if sc.Vanish != nil {
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

// poll hands each running peer what has arrived; a peer not started yet, gone or done
// loses it.
func (s *Sim) poll(now time.Duration, buf []byte) {
	for _, p := range s.Peers {
		if s.active(p, now) && s.started(p, now) {
			p.Runner.Poll()
			continue
		}
		for {
			if _, _, ok := p.conn.ReadFrom(buf); !ok {
				break
			}
		}
	}
}

// Run plays the match until every peer still there is done, or MaxTime.
func (s *Sim) Run() *Report {
	dt := s.frame
	buf := make([]byte, transport.MaxDatagram)
	var next time.Duration
	for !s.finished() && s.Clock.Now() < s.Scenario.MaxTime {
		// Deliver every datagram due before the next frame at its arrival time.
		for {
			due, ok := s.Net.NextDue()
			if !ok || due >= next {
				break
			}
			if due > s.Clock.Now() {
				s.Clock.Set(due)
			}
			s.poll(s.Clock.Now(), buf)
			if again, ok := s.Net.NextDue(); ok && again <= due {
				break // nobody can take it (cannot happen: poll drains every endpoint)
			}
		}
		s.Clock.Set(next)
		s.poll(next, buf)
		for _, p := range s.Peers {
			if s.active(p, next) && s.started(p, next) {
				p.Runner.Tick()
			}
		}
		next += dt
	}
	return s.report()
}

func (s *Sim) finished() bool {
	for _, p := range s.Peers {
		if !p.Gone && !p.Runner.Done() {
			return false
		}
	}
	return true
}

func (s *Sim) report() *Report {
	rep := &Report{Elapsed: s.Clock.Now()}
	for _, p := range s.Peers {
		r := p.Runner
		st := r.Session().Stats(nil)
		pr := PeerReport{
			Player: p.Player, Gone: p.Gone, Frame: st.Frame, Confirmed: st.ConfirmedFrame,
			Counters: r.Counters(), Rollbacks: st.Rollbacks, Done: r.Done(), Events: p.Events,
		}
		if pr.Done {
			pr.Result = r.Result()
		}
		rep.Peers = append(rep.Peers, pr)
	}
	var cmpErr error
	rep.Compared, cmpErr = s.Compare()
	// A runner's failure is the cause and the mismatch it leaves at a later frame only a
	// symptom (a LoadState that fails on one peer shows as its checksums drifting), so the
	// failure comes first; the mismatch follows, as a clue.
	rep.Err = errors.Join(failed(rep), cmpErr)
	if rep.Err == nil {
		rep.Err = unfinished(rep)
	}
	return rep
}

// failed reports the first runner that failed or saw a desync.
func failed(rep *Report) error {
	for _, p := range rep.Peers {
		if !p.Gone && p.Done && (p.Result.Reason == netplay.EndDesync || p.Result.Reason == netplay.EndFailed) {
			return fmt.Errorf("player %d: %v: %w", p.Player, p.Result.Reason, p.Result.Err)
		}
	}
	return nil
}

// unfinished reports a runner that did not end.
func unfinished(rep *Report) error {
	for _, p := range rep.Peers {
		if !p.Gone && !p.Done {
			return fmt.Errorf("player %d not done after %v: frame %d, confirmed %d", p.Player, rep.Elapsed, p.Frame, p.Confirmed)
		}
	}
	return nil
}

// Compare checks the peers' checksums at every frame two or more of them confirmed. It
// returns how many frame pairs were compared, and an error naming the first frame that
// differs.
func (s *Sim) Compare() (int, error) {
	last := lockstep.Frame(0)
	for _, p := range s.Peers {
		for f := range p.sums {
			last = max(last, f)
		}
	}
	return CompareChecksums(int(last), len(s.Peers), func(peer int, f lockstep.Frame) (uint64, bool) {
		sum, ok := s.Peers[peer].sums[f]
		return sum, ok
	})
}

// CompareChecksums checks, for every frame 0..last, that the peers which recorded a checksum
// of it (sum reports peer i's, by index) agree. It returns how many pairs it compared and an
// error naming the first frame that differs. Harnesses that keep their own checksums (a
// game's own simulation layer, say) compare them with it.
func CompareChecksums(last, peers int, sum func(peer int, f lockstep.Frame) (uint64, bool)) (int, error) {
	compared := 0
	for f := lockstep.Frame(0); f <= lockstep.Frame(last); f++ {
		var ref uint64
		refPeer := -1
		for i := range peers {
			v, ok := sum(i, f)
			if !ok {
				continue
			}
			if refPeer < 0 {
				ref, refPeer = v, i
				continue
			}
			compared++
			if v != ref {
				return compared, fmt.Errorf("frame %d: player %d has checksum %016x, player %d %016x", f, refPeer, ref, i, v)
			}
		}
	}
	return compared, nil
}
