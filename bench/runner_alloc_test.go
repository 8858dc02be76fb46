package bench

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// runnerPair is two netplay.Runners (the loop every front end uses) playing the coin game
// over the link emulator on a virtual clock: a frame is a Tick each, then every datagram
// due before the next frame delivered at its arrival time (Poll), as Runner.Run does on a
// real socket.
type runnerPair struct {
	clock   *transport.VirtualClock
	net     *transport.Network
	runners [2]*netplay.Runner
}

func newRunnerPair(tb testing.TB, coins int, seed uint64) *runnerPair {
	tb.Helper()
	x := &runnerPair{clock: transport.NewVirtualClock(0)}
	x.net = transport.NewNetwork(x.clock, seed)
	addr := func(p int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(7100+p))
	}
	link := transport.LinkConfig{Latency: 10 * time.Millisecond}
	x.net.SetLink(addr(0), addr(1), link)
	x.net.SetLink(addr(1), addr(0), link)
	for p := range 2 {
		conn, err := x.net.Listen(addr(p))
		if err != nil {
			tb.Fatal(err)
		}
		peers := []netip.AddrPort{addr(0), {}} // player 0 learns player 1's address
		r, err := netplay.New(netplay.Config{
			Session: lockstep.Config{Players: 2, InputSize: game.InputSize, Game: gameDesc(coins), Seed: seed, Nonce: seed*3 + uint64(p)},
			Player:  p, Peers: peers, Conn: conn, Clock: x.clock,
			NewGame: func(s uint64) (lockstep.Game, error) {
				return game.New(game.Config{Mode: game.Versus, Coins: coins, Players: 2, Seed: s})
			},
			Input: func(f lockstep.Frame, dst []byte) []byte {
				b, _ := movingInput(p, f, 0).AppendBinary(dst) // a fixed-size struct: cannot fail
				return b
			},
		})
		if err != nil {
			tb.Fatal(err)
		}
		x.runners[p] = r
	}
	return x
}

func (x *runnerPair) step() {
	for _, r := range x.runners {
		r.Tick()
	}
	next := x.clock.Now() + frameTime
	for due, ok := x.net.NextDue(); ok && due < next; due, ok = x.net.NextDue() {
		x.clock.Set(max(due, x.clock.Now()))
		for _, r := range x.runners {
			r.Poll()
		}
	}
	x.clock.Set(next)
}

// TestSteadyRunnerFrameAllocs: through the runner the binaries use (netplay), a steady
// frame of the coin game allocates nothing: Tick, Poll, the session, the game, the
// emulated link. As in TestSteadyFrameAllocs, the best of three windows counts.
func TestSteadyRunnerFrameAllocs(t *testing.T) {
	x := newRunnerPair(t, 50, 29)
	for i := 0; i < 2000 && x.runners[0].Session().Frame() < 300; i++ {
		x.step()
	}
	if f := x.runners[0].Session().Frame(); f < 300 {
		t.Fatalf("warm-up reached frame %d, want 300", f)
	}
	const runs = 600
	perRun := testing.AllocsPerRun(runs, x.step)
	best := uint64(1<<64 - 1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			x.step()
		}
		runtime.ReadMemStats(&after)
		best = min(best, after.Mallocs-before.Mallocs)
	}
	if perRun != 0 || best != 0 {
		t.Errorf("a steady runner frame pair allocates: %v per frame by AllocsPerRun, %d in %d frames", perRun, best, runs)
	}
	for p, r := range x.runners {
		if r.Done() {
			t.Fatalf("player %d ended: %v", p, r.Result())
		}
	}
}
