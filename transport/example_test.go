package transport_test

import (
	"fmt"
	"net/netip"
	"time"

	"p2pa/transport"
)

// Two peers on an emulated network: 40ms one way from Alice to Bob, a perfect link back.
// Time only moves when the test says so, and the same seed always gives the same run.
func ExampleNetwork() {
	clock := &transport.VirtualClock{}
	network := transport.NewNetwork(clock, 1)
	alice, _ := network.Listen(netip.MustParseAddrPort("127.0.0.1:7000"))
	bob, _ := network.Listen(netip.MustParseAddrPort("127.0.0.1:7001"))

	cfg, _ := transport.ParseNetsim("latency=40ms")
	network.SetLink(alice.LocalAddr(), bob.LocalAddr(), cfg)

	alice.WriteTo([]byte("input 1"), bob.LocalAddr())
	buf := make([]byte, transport.MaxDatagram)
	for _, step := range []time.Duration{39 * time.Millisecond, time.Millisecond} {
		clock.Advance(step)
		n, from, ok := bob.ReadFrom(buf)
		fmt.Printf("at %v: ok=%v %q from %v\n", clock.Now(), ok, buf[:n], from)
	}

	bob.WriteTo([]byte("ack 1"), alice.LocalAddr())
	n, _, ok := alice.ReadFrom(buf)
	fmt.Printf("at %v: ok=%v %q\n", clock.Now(), ok, buf[:n])
	fmt.Printf("%+v\n", network.Stats(alice.LocalAddr(), bob.LocalAddr()))
	// Output:
	// at 39ms: ok=false "" from invalid AddrPort
	// at 40ms: ok=true "input 1" from 127.0.0.1:7000
	// at 40ms: ok=true "ack 1"
	// {Sent:1 Delivered:1 Lost:0 Duplicated:0 Reordered:0 Dropped:0 Overflowed:0 Corrupted:0 Truncated:0 Replayed:0 Forged:0}
}

// A -netsim flag in front of a real socket shapes both directions.
func ExampleNewImpaired() {
	cfg, err := transport.ParseNetsim("latency=40ms,jitter=5ms,loss=2%")
	if err != nil {
		fmt.Println(err)
		return
	}
	sock, err := transport.ListenUDP("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	conn := transport.NewImpaired(sock, transport.NewRealClock(), cfg, 1)
	defer conn.Close()
	fmt.Println("netsim:", cfg)
	// Output:
	// netsim: latency=40ms,jitter=5ms,loss=2%
}
