package netplay_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// counter is a minimal deterministic game: a running mix of every player's input byte.
type counter struct {
	frame uint64
	total uint64
}

func (c *counter) AdvanceFrame(inputs []byte) {
	c.frame++
	for _, b := range inputs {
		c.total = c.total*31 + uint64(b) + 1
	}
}

func (c *counter) SaveState(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, c.frame)
	return binary.LittleEndian.AppendUint64(dst, c.total)
}

func (c *counter) LoadState(b []byte) error {
	if len(b) != 16 {
		return errors.New("counter: bad state")
	}
	c.frame, c.total = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	return nil
}

// Two players over the link emulator (30 ms each way, 5% loss) on a virtual clock: each
// runner reads datagrams as they arrive (Poll) and plays one frame per Tick. Both finish at
// frame 300 with the same checksum.
func Example_network() {
	clock := transport.NewVirtualClock(0)
	network := transport.NewNetwork(clock, 1)
	addr := func(p int) netip.AddrPort { return netip.MustParseAddrPort(fmt.Sprintf("10.0.0.%d:7000", p+1)) }
	link := transport.LinkConfig{Latency: 30 * time.Millisecond, Loss: 0.05}
	network.SetLink(addr(0), addr(1), link)
	network.SetLink(addr(1), addr(0), link)

	var runners []*netplay.Runner
	for p := range 2 {
		conn, err := network.Listen(addr(p))
		if err != nil {
			panic(err)
		}
		r, err := netplay.New(netplay.Config{
			Session:  lockstep.Config{InputSize: 1, Game: "counter", Seed: 7, Nonce: uint64(p + 1)},
			Player:   p,
			Peers:    []netip.AddrPort{addr(0), addr(1)},
			Conn:     conn,
			Clock:    clock,
			Game:     &counter{},
			Input:    func(f lockstep.Frame, dst []byte) []byte { return append(dst, byte(int(f)*(p+3)/16)) },
			FinishAt: 300,
		})
		if err != nil {
			panic(err)
		}
		runners = append(runners, r)
	}
	for !runners[0].Done() || !runners[1].Done() {
		for _, r := range runners {
			r.Tick()
		}
		// Between two frames, hand over each datagram when it arrives.
		next := clock.Now() + time.Second/60
		for due, ok := network.NextDue(); ok && due < next; due, ok = network.NextDue() {
			clock.Set(max(due, clock.Now()))
			for _, r := range runners {
				r.Poll()
			}
		}
		clock.Set(next)
	}
	a, b := runners[0].Result(), runners[1].Result()
	fmt.Println(a.Reason, a.Frame, a.Confirmed, b.Reason, b.Frame, a.Checksum == b.Checksum)
	// Output: finished 300 true finished 300 true
}
