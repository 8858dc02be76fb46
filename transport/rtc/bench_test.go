//go:build !js

package rtc

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	ptransport "github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/transport/v5/vnet"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// ipUDPHeader is what IPv4 and UDP add to every datagram on the wire.
const ipUDPHeader = 28

// countingNet is the host's network with every UDP datagram pion sends counted: the wire
// cost of a path, without root or packet capture.
type countingNet struct {
	ptransport.Net
	dgrams, bytes atomic.Uint64 // everything
	stun, stunB   atomic.Uint64 // of which STUN messages: ICE checks, consent, TURN control
}

func newCountingNet(tb testing.TB) *countingNet {
	n, err := stdnet.NewNet()
	if err != nil {
		tb.Fatal(err)
	}
	return &countingNet{Net: n}
}

func (n *countingNet) ListenUDP(network string, laddr *net.UDPAddr) (ptransport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &countingConn{UDPConn: c, n: n}, nil
}

func (n *countingNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	return &countingPacketConn{PacketConn: c, n: n}, nil
}

func (n *countingNet) count(b []byte, k int, err error) (int, error) {
	if err == nil {
		n.dgrams.Add(1)
		n.bytes.Add(uint64(k))
		if stun.IsMessage(b) {
			n.stun.Add(1)
			n.stunB.Add(uint64(k))
		}
	}
	return k, err
}

func (n *countingNet) reset() {
	for _, c := range []*atomic.Uint64{&n.dgrams, &n.bytes, &n.stun, &n.stunB} {
		c.Store(0)
	}
}

type countingConn struct {
	ptransport.UDPConn
	n *countingNet
}

func (c *countingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	k, err := c.UDPConn.WriteTo(b, a)
	return c.n.count(b, k, err)
}

func (c *countingConn) WriteToUDP(b []byte, a *net.UDPAddr) (int, error) {
	k, err := c.UDPConn.WriteToUDP(b, a)
	return c.n.count(b, k, err)
}

func (c *countingConn) Write(b []byte) (int, error) {
	k, err := c.UDPConn.Write(b)
	return c.n.count(b, k, err)
}

type countingPacketConn struct {
	net.PacketConn
	n *countingNet
}

func (c *countingPacketConn) WriteTo(b []byte, a net.Addr) (int, error) {
	k, err := c.PacketConn.WriteTo(b, a)
	return c.n.count(b, k, err)
}

type readableConn interface {
	transport.Conn
	Readable() <-chan struct{}
}

// wireCounter reports what a path put on the wire since the last reset.
type wireCounter interface {
	wire() (dgrams, bytes uint64)
	stun() (dgrams, bytes uint64)
	reset()
}

type udpWire struct{ a, b *transport.UDP }

func (w udpWire) wire() (uint64, uint64) {
	sa, sb := w.a.Stats(), w.b.Stats()
	return sa.Sent + sb.Sent, sa.SentBytes + sb.SentBytes
}
func (w udpWire) stun() (uint64, uint64) { return 0, 0 }
func (w udpWire) reset()                 {}

type pionWire struct{ a, b *countingNet }

func (w pionWire) wire() (uint64, uint64) {
	return w.a.dgrams.Load() + w.b.dgrams.Load(), w.a.bytes.Load() + w.b.bytes.Load()
}
func (w pionWire) stun() (uint64, uint64) {
	return w.a.stun.Load() + w.b.stun.Load(), w.a.stunB.Load() + w.b.stunB.Load()
}
func (w pionWire) reset() { w.a.reset(); w.b.reset() }

type noWire struct{}

func (noWire) wire() (uint64, uint64) { return 0, 0 }
func (noWire) stun() (uint64, uint64) { return 0, 0 }
func (noWire) reset()                 {}

// pathPair opens two endpoints on loopback connected by the named path.
// With count, pion's sockets are wrapped to count what goes on the wire (which costs an
// allocation per datagram in the wrapper's net.Addr path); without, they are the host's own.
func pathPair(b *testing.B, kind string, count bool) (x, y readableConn, w wireCounter, cleanup func()) {
	b.Helper()
	if kind == "udp" {
		u1, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		u2, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		return u1, u2, udpWire{u1, u2}, func() { u1.Close(); u2.Close() }
	}
	link := LinkAuto
	if kind == "datachannel" {
		link = LinkDataChannel
	}
	h := newHub()
	ca, cb := Config{Link: link, IncludeLoopback: true}, Config{Link: link, IncludeLoopback: true}
	var na, nb *countingNet
	if count {
		na, nb = newCountingNet(b), newCountingNet(b)
		ca.Net, cb.Net = na, nb
	}
	ma := newMember(b, h, "a", ca)
	mb := newMember(b, h, "b", cb)
	if err := mb.c.Connect("a"); err != nil {
		b.Fatal(err)
	}
	for _, e := range []Event{ma.ev.wait(b, "b", deadline), mb.ev.wait(b, "a", deadline)} {
		if e.State != LinkOpen {
			b.Fatalf("event %+v", e)
		}
	}
	w = noWire{}
	if count {
		w = pionWire{na, nb}
	}
	return ma.c, mb.c, w, func() { ma.c.Close(); mb.c.Close(); h.close() }
}

// pinger sends a datagram from x to y, which echoes it back, and waits for the echo: one
// round trip. Both sides wait on Readable, as netplay does.
type pinger struct {
	x, y    readableConn
	stop    chan struct{}
	echoed  chan struct{}
	payload []byte
	buf     []byte
	timer   *time.Timer
	lost    int
}

// startPinger starts y's echo; the payload is 64 bytes, an engine input datagram's size.
func startPinger(b *testing.B, x, y readableConn) *pinger {
	p := &pinger{x: x, y: y, stop: make(chan struct{}), echoed: make(chan struct{}),
		payload: make([]byte, 64), buf: make([]byte, transport.MaxDatagram), timer: time.NewTimer(time.Hour)}
	go func() {
		defer close(p.echoed)
		buf := make([]byte, transport.MaxDatagram)
		for {
			select {
			case <-y.Readable():
			case <-p.stop:
				return
			}
			for {
				n, from, ok := y.ReadFrom(buf)
				if !ok {
					break
				}
				if err := y.WriteTo(buf[:n], from); err != nil {
					b.Error(err)
					return
				}
			}
		}
	}()
	return p
}

// roundTrip sends datagram i and waits for its echo, sending it again after a second of
// silence (counted in lost).
func (p *pinger) roundTrip(b *testing.B, i int) {
	p.payload[0], p.payload[1] = byte(i), byte(i>>8)
	for {
		if err := p.x.WriteTo(p.payload, p.y.LocalAddr()); err != nil {
			b.Fatal(err)
		}
		p.timer.Reset(time.Second)
		for got := false; !got; {
			select {
			case <-p.x.Readable():
			case <-p.timer.C:
				p.lost++
				got = true
				continue
			}
			for {
				n, _, ok := p.x.ReadFrom(p.buf)
				if !ok {
					break
				}
				if n == len(p.payload) && p.buf[0] == p.payload[0] && p.buf[1] == p.payload[1] {
					p.timer.Stop()
					return
				}
			}
		}
	}
}

func (p *pinger) close(b *testing.B) {
	close(p.stop)
	<-p.echoed
	if p.lost > 0 {
		b.Logf("%d datagrams resent after a second without an echo", p.lost)
	}
}

func meanP50(d []time.Duration) (mean, p50 float64) {
	slices.Sort(d)
	var sum time.Duration
	for _, r := range d {
		sum += r
	}
	return float64(sum.Nanoseconds()) / float64(len(d)) / 1e3, float64(d[len(d)/2].Nanoseconds()) / 1e3
}

// BenchmarkRoundTrip is one datagram of 64 bytes sent and echoed back on loopback, over
// raw UDP (transport.UDP), an ICE-only link and a data channel. The sockets are the host's
// own (BenchmarkMatch counts the wire); allocs/op is per round trip, both sides.
//
//	rtt-us         mean round trip (ns/op is the same), rtt-p50-us its median
func BenchmarkRoundTrip(b *testing.B) {
	for _, kind := range []string{"udp", "ice", "datachannel"} {
		b.Run(kind, func(b *testing.B) {
			x, y, _, cleanup := pathPair(b, kind, false)
			defer cleanup()
			p := startPinger(b, x, y)
			defer p.close(b)
			for i := range 100 { // warm up (and let SCTP settle)
				p.roundTrip(b, i)
			}
			rtts := make([]time.Duration, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				p.roundTrip(b, i)
				rtts[i] = time.Since(t0)
			}
			b.StopTimer()
			mean, p50 := meanP50(rtts)
			b.ReportMetric(mean, "rtt-us")
			b.ReportMetric(p50, "rtt-p50-us")
		})
	}
}

// BenchmarkRoundTripGap is the round trip over a path minus the round trip over raw UDP on
// loopback, measured alternately in one loop so both see the same load on a shared machine:
// the cost of the path itself. The goal: ICE-only within 0.1 ms (100 µs) of UDP.
//
//	gap-us       mean of (path − UDP), gap-p50-us the difference of the medians
func BenchmarkRoundTripGap(b *testing.B) {
	for _, kind := range []string{"ice", "datachannel"} {
		b.Run(kind, func(b *testing.B) {
			ux, uy, _, ucleanup := pathPair(b, "udp", false)
			defer ucleanup()
			px, py, _, pcleanup := pathPair(b, kind, false)
			defer pcleanup()
			up, pp := startPinger(b, ux, uy), startPinger(b, px, py)
			defer up.close(b)
			defer pp.close(b)
			for i := range 100 {
				up.roundTrip(b, i)
				pp.roundTrip(b, i)
			}
			urtt, prtt := make([]time.Duration, b.N), make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				up.roundTrip(b, i)
				t1 := time.Now()
				pp.roundTrip(b, i)
				urtt[i], prtt[i] = t1.Sub(t0), time.Since(t1)
			}
			b.StopTimer()
			um, u50 := meanP50(urtt)
			pm, p50 := meanP50(prtt)
			b.ReportMetric(pm-um, "gap-us")
			b.ReportMetric(p50-u50, "gap-p50-us")
			b.ReportMetric(u50, "udp-p50-us")
			b.ReportMetric(p50, "path-p50-us")
		})
	}
}

// BenchmarkOpen is the time from Connect (the second member's offer) to both members
// having the link open: on loopback, and through pion's virtual NATs (port-restricted
// cones: direct; symmetric with the TURN server: relayed), with the default Timeouts.
//
//	open-ms   the mean, in milliseconds
func BenchmarkOpen(b *testing.B) {
	for _, tc := range []struct {
		name   string
		kind   LinkKind
		natted bool
		nat    *vnet.NATType
		want   Path
	}{
		{"loopback/ice", LinkAuto, false, nil, PathDirect},
		{"loopback/datachannel", LinkDataChannel, false, nil, PathDirect},
		{"cone-direct/ice", LinkAuto, true, portRestricted, PathDirect},
		{"cone-direct/datachannel", LinkDataChannel, true, portRestricted, PathDirect},
		{"symmetric-relayed/ice", LinkAuto, true, symmetric, PathRelayed},
		{"symmetric-relayed/datachannel", LinkDataChannel, true, symmetric, PathRelayed},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				b.StopTimer()
				h := newHub()
				ca, cb := Config{Link: tc.kind}, Config{Link: tc.kind}
				if tc.natted {
					w := newNATWorld(b, tc.nat, tc.nat)
					ca.Net, ca.ICEServers = w.netA, w.servers(true)
					cb.Net, cb.ICEServers = w.netB, w.servers(true)
				}
				ma := newMember(b, h, "a", ca)
				mb := newMember(b, h, "b", cb)
				b.StartTimer()
				t0 := time.Now()
				if err := mb.c.Connect("a"); err != nil {
					b.Fatal(err)
				}
				ea, eb := ma.ev.wait(b, "b", deadline), mb.ev.wait(b, "a", deadline)
				total += time.Since(t0)
				b.StopTimer()
				for _, e := range []Event{ea, eb} {
					if e.State != LinkOpen || e.Info.Path != tc.want {
						b.Fatalf("iteration %d: event %+v, want open %s", i, e, tc.want)
					}
				}
				ma.c.Close()
				mb.c.Close()
				h.close()
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N), "open-ms")
		})
	}
}

// BenchmarkMatch plays a 300-frame match of netplay's example counter game with two
// runners (the loop the binaries use, at 60 frames per second) over raw UDP, an ICE-only
// link and a data channel on loopback, and counts what the engine sent against what went
// on the wire, per frame and direction. The link is open before the runners start: only
// the match is counted.
//
//	engine-dgrams/frame  datagrams the engine wrote (Conn.WriteTo), per frame and direction
//	wire-dgrams/frame    UDP datagrams on the wire, per frame and direction
//	engine-B/frame       payload bytes the engine wrote, per frame and direction
//	wire-B/frame         IP bytes on the wire (payload + 28), per frame and direction
//	stun-dgrams/frame    of the wire datagrams, STUN ones (ICE consent checks and answers,
//	                     one of each per side per Timeouts.Keepalive), per frame and direction
//	data-dgrams/frame    the others, which carry the game: on the ICE-only path exactly the
//	data-B/frame         engine's datagrams and payload bytes (no IP header here)
func BenchmarkMatch(b *testing.B) {
	const frames = 300
	for _, kind := range []string{"udp", "ice", "datachannel"} {
		b.Run(kind, func(b *testing.B) {
			var engDg, engB, wireDg, wireB, stunDg, dataB float64
			for i := range b.N {
				b.StopTimer()
				x, y, w, cleanup := pathPair(b, kind, true)
				conns := []readableConn{x, y}
				w.reset()
				var baseDg, baseB uint64
				if u, ok := w.(udpWire); ok {
					baseDg, baseB = u.wire()
				}
				b.StartTimer()
				clock := transport.NewRealClock()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				done := make(chan netplay.Result, 2)
				for p := range 2 {
					peers := make([]netip.AddrPort, 2)
					if p == 1 {
						peers[0] = x.LocalAddr()
					}
					r, err := netplay.New(netplay.Config{
						Session:  lockstep.Config{InputSize: 1, Game: "counter", Seed: 7, Nonce: uint64(2*i + p + 1)},
						Player:   p,
						Peers:    peers,
						Conn:     conns[p],
						Clock:    clock,
						Game:     &counter{},
						Input:    func(f lockstep.Frame, dst []byte) []byte { return append(dst, byte(int(f)*(p+3)/16)) },
						FinishAt: frames,
					})
					if err != nil {
						b.Fatal(err)
					}
					go func() {
						res, err := r.Run(ctx)
						if err != nil {
							b.Error(err)
						}
						done <- res
					}()
				}
				r0, r1 := <-done, <-done
				cancel()
				b.StopTimer()
				if !r0.Confirmed || r0.Checksum != r1.Checksum {
					b.Fatalf("match: %v / %v", r0, r1)
				}
				dg, by := w.wire()
				dg, by = dg-baseDg, by-baseB
				var sent, sentB uint64
				switch kind {
				case "udp":
					sent, sentB = dg, by
				default:
					sa, sb := x.(*Conn).Stats(), y.(*Conn).Stats()
					sent, sentB = sa.Sent+sb.Sent, sa.SentBytes+sb.SentBytes
				}
				engDg += float64(sent)
				engB += float64(sentB)
				wireDg += float64(dg)
				sd, sb := w.stun()
				stunDg += float64(sd)
				dataB += float64(by - sb)
				wireB += float64(by) + ipUDPHeader*float64(dg)
				cleanup()
				b.StartTimer()
			}
			per := float64(2 * frames * b.N) // frames × directions × matches
			b.ReportMetric(engDg/per, "engine-dgrams/frame")
			b.ReportMetric(wireDg/per, "wire-dgrams/frame")
			b.ReportMetric(engB/per, "engine-B/frame")
			b.ReportMetric(wireB/per, "wire-B/frame")
			b.ReportMetric(stunDg/per, "stun-dgrams/frame")
			b.ReportMetric((wireDg-stunDg)/per, "data-dgrams/frame")
			b.ReportMetric(dataB/per, "data-B/frame")
		})
	}
}
