package lockstep_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"p2pa/lockstep"
	"p2pa/transport"
)

// Two sessions play 300 frames over an emulated network (30 ms each way, 2% loss) on a
// virtual clock, in one goroutine, then end the match at an agreed frame. This is the frame
// loop of the package doc, run for real.
func ExampleSession() {
	const frames = 300
	clock := transport.NewVirtualClock(0)
	network := transport.NewNetwork(clock, 1)
	addr := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:7000"), netip.MustParseAddrPort("10.0.0.2:7000")}
	network.SetLink(addr[0], addr[1], transport.LinkConfig{Latency: 30 * time.Millisecond, Loss: 0.02})
	network.SetLink(addr[1], addr[0], transport.LinkConfig{Latency: 30 * time.Millisecond, Loss: 0.02})

	var players [2]*player
	for p := range players {
		conn, err := network.Listen(addr[p])
		if err != nil {
			panic(err)
		}
		cfg := lockstep.Config{InputSize: 1, InputDelay: 2, Game: "counter", Seed: 42, Nonce: uint64(p + 1)}
		s, err := lockstep.NewSession(cfg, p, addr) // player 0 could also learn player 1's address
		if err != nil {
			panic(err)
		}
		players[p] = &player{s: s, conn: conn}
	}

	buf := make([]byte, transport.MaxDatagram)
	for tick := 0; tick < 2000; tick++ {
		now := clock.Now()
		done := 0
		for p, pl := range players {
			pl.tick(p, now, buf, frames)
			if pl.s.ConfirmedFrame() >= frames {
				done++
			}
		}
		if done == len(players) {
			break
		}
		clock.Advance(time.Second / 60)
	}
	a, _ := players[0].s.Checksum(frames)
	b, _ := players[1].s.Checksum(frames)
	fmt.Printf("frames %d and %d confirmed: checksums agree %v, totals %d and %d\n",
		players[0].s.Frame(), players[1].s.Frame(), a == b, players[0].game.total, players[1].game.total)
	// Output:
	// player 0: running, seed 42
	// player 1: running, seed 42
	// frames 300 and 300 confirmed: checksums agree true, totals 4416856690213764915 and 4416856690213764915
}

// player is one side of ExampleSession.
type player struct {
	s     *lockstep.Session
	conn  transport.Conn
	game  counter
	input []byte // offered until a Step takes it
}

// tick is one tick of player p's frame loop: receive, step, apply, send, show events.
func (pl *player) tick(p int, now time.Duration, buf []byte, frames lockstep.Frame) {
	for {
		n, from, ok := pl.conn.ReadFrom(buf)
		if !ok {
			break
		}
		pl.s.Receive(from, buf[:n], now)
	}
	// The input of this player's next frame: a pure function of the frame, so it is
	// the same whatever the network does.
	if pl.input == nil {
		f := pl.s.Frame() + lockstep.Frame(pl.s.InputDelay())
		pl.input = []byte{byte(int(f)*(p+3)/7) & 3}
	}
	input := pl.input
	if pl.s.LastLocalFrame() >= frames-1 {
		// The last frames already hold their inputs: play them, send no more.
		if err := pl.s.SetInputDelay(0); err != nil {
			panic(err)
		}
	}
	if pl.s.Frame() >= frames {
		input = nil // start no new frame: only fold in late remote inputs
	}
	status, reqs, err := pl.s.Step(now, input)
	if err != nil {
		panic(err)
	}
	if err := lockstep.Apply(&pl.game, reqs); err != nil {
		panic(err)
	}
	if status == lockstep.StatusAdvanced {
		pl.input = nil // taken: read the next one next tick
	}
	for _, d := range pl.s.Outgoing(now) {
		if err := pl.conn.WriteTo(d.Data, d.To); err != nil {
			panic(err)
		}
	}
	for _, e := range pl.s.Events() {
		if e.Kind == lockstep.EventRunning {
			fmt.Printf("player %d: %v, seed %d\n", p, e, e.Seed)
		}
	}
}

// counter is a minimal deterministic game: it adds up every player's input byte.
type counter struct{ total uint64 }

func (c *counter) AdvanceFrame(inputs []byte) {
	for _, b := range inputs {
		c.total = c.total*3 + uint64(b)
	}
}

func (c *counter) SaveState(dst []byte) []byte {
	return binary.LittleEndian.AppendUint64(dst, c.total)
}

func (c *counter) LoadState(b []byte) error {
	if len(b) != 8 {
		return errors.New("bad state")
	}
	c.total = binary.LittleEndian.Uint64(b)
	return nil
}
