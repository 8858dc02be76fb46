package bench

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
)

// frameTime is one frame at 60 frames a second: the budget every per-frame cost is set against.
const frameTime = time.Second / 60

// benchCoins are the two game sizes every engine benchmark runs: the real game, and a
// state 200 times larger, where saving, loading and stepping dominate.
var benchCoins = []int{50, 10000}

// largeCoins is the largest game (game.MaxCoins): only BenchmarkFrame's worst case runs it.
const largeCoins = game.MaxCoins

// gameDesc is the game string both sessions present in the handshake.
func gameDesc(coins int) string {
	return fmt.Sprintf("p2pa-coins mode=%s coins=%d", game.Versus, coins)
}

// movingInput is player p's mouse for frame f when it moves every frame: x steps 7 pixels
// and y 5 (wrapping), so both low bytes change every frame and the high bytes now and
// then, like a hand sweeping the field. Player 0 clicks left on start, the first frame that
// carries its input, which sets the coins moving. Nobody clicks right: collection stays off,
// so all coins stay on the field and every measured frame moves the same number of coins
// (the game's own BenchmarkStep measures collection).
func movingInput(p int, f, start lockstep.Frame) game.Input {
	in := game.Input{
		X: int16(100 + (int(f)*7+p*211)%600),
		Y: int16(100 + (int(f)*5+p*97)%400),
	}
	if p == 0 && f == start {
		in.Buttons = game.ButtonLeft
	}
	return in
}

// batch holds the datagrams one peer sent in one tick, copied out of the session's buffer
// (which it reuses on the next call). Its buffers are sized once, so delivery never allocates.
type batch struct {
	data []byte
	lens []int
}

func newBatch() batch {
	return batch{data: make([]byte, 0, 32*lockstep.MaxDatagram), lens: make([]int, 0, 32)}
}

func (bt *batch) add(d []byte) {
	bt.data = append(bt.data, d...)
	bt.lens = append(bt.lens, len(d))
}

func (bt *batch) deliver(s *lockstep.Session, from netip.AddrPort, now time.Duration) {
	off := 0
	for _, n := range bt.lens {
		s.Receive(from, bt.data[off:off+n:off+n], now)
		off += n
	}
	bt.data, bt.lens = bt.data[:0], bt.lens[:0]
}

// memPeer is one side of a memPair: a session and the game it drives.
type memPeer struct {
	player int
	addr   netip.AddrPort
	s      *lockstep.Session
	g      *game.State
	delay  lockstep.Frame
	in     []byte
	// warming: a stall is not an error yet (newMemPair settles the pair in first)
	warming bool
	// hold: skip this tick's frame (newMemPair lines the two peers up)
	hold bool
}

// frame is one tick of a game loop minus the network: step with the local input, carry
// out the requests. On a perfect link every step advances.
func (m *memPeer) frame(now time.Duration) error {
	if m.hold {
		return nil
	}
	target := m.s.Frame() + m.delay
	var err error
	if m.in, err = movingInput(m.player, target, m.delay).AppendBinary(m.in[:0]); err != nil {
		return fmt.Errorf("player %d frame %d: %w", m.player, m.s.Frame(), err)
	}
	status, reqs, err := m.s.Step(now, m.in)
	// The pair ignores time sync (see memPair): each StatusTimeSync uses up one frame of
	// the wait, so stepping again at once plays the frame this tick.
	for range 16 { // more than any wait the session asks for
		if err != nil || status != lockstep.StatusTimeSync {
			break
		}
		status, reqs, err = m.s.Step(now, m.in)
	}
	if err != nil {
		return fmt.Errorf("player %d frame %d: step: %w", m.player, m.s.Frame(), err)
	}
	if m.warming && status.Stalled() {
		return nil // settling in: see newMemPair
	}
	if status != lockstep.StatusAdvanced {
		return fmt.Errorf("player %d frame %d: step: %v", m.player, m.s.Frame(), status)
	}
	return lockstep.Apply(m.g, reqs)
}

// agreedSeed is the session's seed, which the caller knows is agreed (it is running).
func agreedSeed(tb testing.TB, s *lockstep.Session) uint64 {
	seed, ok := s.Seed()
	if !ok {
		tb.Fatalf("player %d: no agreed seed (%v)", s.LocalPlayer(), s.State())
	}
	return seed
}

// memPair is two real sessions, each with a real game, joined by a perfect in-memory link
// the pair delivers by hand: every datagram an Outgoing returns is copied and handed to
// the other session's Receive, so the whole protocol (encoding, acks, quality reports,
// checksum exchange) runs, and nothing but the engine and the game costs time.
//
// One step is one frame for both: A's tick (receive, input, advance, apply, outgoing), then
// B's. A's datagrams reach B in the same step. B's datagrams reach A at its next tick, plus
// late ticks: with late = k and B's mouse moving every frame, A learns each of B's inputs k
// frames after it predicted it, wrongly, so every A frame rolls back exactly k frames.
// Both sessions run with an input delay of one frame, which on a prompt link gives each side
// the other's input before it needs it: late = 0 is the no-rollback steady state.
//
// The pair paces frames itself and ignores the time-sync waits the sessions ask for (late
// reports make A believe it runs ahead): skipping ticks would change what is measured.
type memPair struct {
	a, b memPeer
	tick int
	toB  batch
	toA  []batch // ring of late+1 ticks of B's datagrams; A reads slot tick%len

	timed  bool
	aNanos time.Duration // time spent in A's ticks while timed
}

const pairDelay = 1

// warmupFrames is how long a pair settles in before it is measured: 20 s of play, past two
// of the send back-off's 8 s floor windows.
const warmupFrames = 1200

func newMemPair(tb testing.TB, coins, late int) *memPair {
	tb.Helper()
	p := &memPair{toB: newBatch()}
	for range late + 1 {
		p.toA = append(p.toA, newBatch())
	}
	addrs := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:7000"),
		netip.MustParseAddrPort("127.0.0.1:7001"),
	}
	for i, m := range []*memPeer{&p.a, &p.b} {
		peers := make([]netip.AddrPort, 2)
		if i == 1 {
			peers[0] = addrs[0] // player 0 learns player 1's address, as on the command line
		}
		cfg := lockstep.Config{
			Players: 2, InputSize: game.InputSize, InputDelay: pairDelay,
			Game: gameDesc(coins), Seed: 1, Nonce: uint64(i + 1),
		}
		s, err := lockstep.NewSession(cfg, i, peers)
		if err != nil {
			tb.Fatal(err)
		}
		*m = memPeer{player: i, addr: addrs[i], s: s, delay: pairDelay, in: make([]byte, 0, game.InputSize)}
	}
	// Handshake: a millisecond per exchange, datagrams delivered at once.
	var now time.Duration
	for !p.a.s.Running() || !p.b.s.Running() {
		if now > 5*time.Second {
			tb.Fatalf("handshake: not running after %v: %s / %s (%v, %v)", now, p.a.s.State(), p.b.s.State(), p.a.s.Err(), p.b.s.Err())
		}
		now += time.Millisecond
		for _, d := range p.a.s.Outgoing(now) {
			p.b.s.Receive(p.a.addr, d.Data, now)
		}
		for _, d := range p.b.s.Outgoing(now) {
			p.a.s.Receive(p.b.addr, d.Data, now)
		}
	}
	p.a.s.Events()
	p.b.s.Events()
	for _, m := range []*memPeer{&p.a, &p.b} {
		g, err := game.New(game.Config{Mode: game.Versus, Players: 2, Coins: coins, Seed: agreedSeed(tb, m.s)})
		if err != nil {
			tb.Fatal(err)
		}
		m.g = g
	}
	// Warm up past everything that allocates once (the saved-state ring, the eight
	// remembered checksum states, one per 60 frames, the input rings) and past the send
	// back-off's first floor windows: the handshake above delivers at once, so the first
	// acknowledgements come back far sooner than the late ones after it, which reads as a
	// queue and makes B send less often until that floor has aged out (two windows of
	// lockstep's floorWindow, 8 s). Stalls are allowed only while warming.
	p.tick = int(now/frameTime) + 1
	p.a.warming, p.b.warming = true, true
	for range warmupFrames {
		if err := p.step(); err != nil {
			tb.Fatal(err)
		}
	}
	p.a.warming, p.b.warming = false, false
	// A stalled while B backed off, so B runs ahead; the pair ignores time sync, so hold
	// the one ahead until both are at the same frame again, where B's inputs reach A
	// exactly late frames after A predicted them.
	for range warmupFrames {
		fa, fb := p.a.s.Frame(), p.b.s.Frame()
		if fa == fb {
			break
		}
		p.a.hold, p.b.hold = fa > fb, fb > fa
		if err := p.step(); err != nil {
			tb.Fatal(err)
		}
	}
	p.a.hold, p.b.hold = false, false
	for range 120 { // and a steady stretch that must not stall
		if err := p.step(); err != nil {
			tb.Fatal(err)
		}
	}
	if err := p.check(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// step plays one frame on both sides.
func (p *memPair) step() error {
	now := time.Duration(p.tick) * frameTime
	a, b := &p.a, &p.b
	var t0 time.Time
	if p.timed {
		t0 = time.Now()
	}
	fromB := &p.toA[p.tick%len(p.toA)]
	fromB.deliver(a.s, b.addr, now)
	if err := a.frame(now); err != nil {
		return err
	}
	for _, d := range a.s.Outgoing(now) {
		p.toB.add(d.Data)
	}
	a.s.Events()
	if p.timed {
		p.aNanos += time.Since(t0)
	}

	p.toB.deliver(b.s, a.addr, now)
	if err := b.frame(now); err != nil {
		return err
	}
	for _, d := range b.s.Outgoing(now) {
		fromB.add(d.Data) // the slot A just emptied: read again late+1 ticks from now
	}
	b.s.Events()
	p.tick++
	return nil
}

// check compares the two games' checksums at the latest frame both have confirmed.
func (p *memPair) check() error { return compareLatest(p.a.s, p.b.s) }

// onceCache runs each keyed computation once per test binary, so benchmarks that share a
// slow deterministic run (a whole simulated match) and repeated -count runs pay for it once.
type onceCache[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]func() (V, error)
}

func (c *onceCache[K, V]) get(k K, f func() (V, error)) (V, error) {
	c.mu.Lock()
	g, ok := c.m[k]
	if !ok {
		if c.m == nil {
			c.m = map[K]func() (V, error){}
		}
		g = sync.OnceValues(f)
		c.m[k] = g
	}
	c.mu.Unlock()
	return g()
}
