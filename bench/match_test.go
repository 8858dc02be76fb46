package bench

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/internal/sim"
	"p2pa/lockstep"
	"p2pa/transport"
)

// countingConn counts what a peer writes while its session is running (the handshake is
// BenchmarkHandshake's business).
type countingConn struct {
	transport.Conn
	sess             *lockstep.Session
	bytes, datagrams uint64
}

func (c *countingConn) WriteTo(b []byte, to netip.AddrPort) error {
	if c.sess.Running() {
		c.bytes += uint64(len(b))
		c.datagrams++
	}
	return c.Conn.WriteTo(b, to)
}

// matchResult is what a simulated two-player match did, per player.
type matchResult struct {
	ticks          [2]int // ticks (1/60 s) while running
	frames         [2]int
	bytes, dgrams  [2]uint64 // written while running
	rollbacks      [2]int64
	rollbackFrames [2]int64
	maxDepth       [2]int
	stalls, waits  [2]int
	desyncs        int
	compared       int // frames whose checksums both peers recorded and agreed on
}

// playMatch plays a whole match of the coin game c with internal/sim, on simtest (two
// peers, one goroutine, the emulated network on a virtual clock; deterministic for a
// scenario) and fails unless the peers' checksums agree on every frame both confirmed.
func playMatch(sc sim.Scenario, c sim.Coins) (matchResult, error) {
	var r matchResult
	sc.Players = 2
	var conns [2]*countingConn
	sc.WrapConn = func(p int, c transport.Conn) transport.Conn {
		conns[p] = &countingConn{Conn: c}
		return conns[p]
	}
	s, err := sim.New(sc, c)
	if err != nil {
		return r, err
	}
	for i, p := range s.Peers {
		conns[i].sess = p.Runner.Session() // counted from the handshake's end, which the session knows
	}
	for !s.Finished() {
		if s.TimedOut() {
			return r, fmt.Errorf("match not finished after %d ticks", s.Ticks)
		}
		if err := s.Step(); err != nil {
			return r, err
		}
		for i, p := range s.Peers {
			if p.Runner.Session().Running() {
				r.ticks[i]++
			}
		}
	}
	if r.compared, err = s.Compare(); err != nil {
		return r, err
	}
	for i, p := range s.Peers {
		st := p.Runner.Session().Stats(nil)
		c := p.Runner.Counters()
		r.frames[i] = int(st.Frame)
		r.bytes[i], r.dgrams[i] = conns[i].bytes, conns[i].datagrams
		r.rollbacks[i], r.rollbackFrames[i] = st.Rollbacks, st.RollbackFrames
		r.maxDepth[i] = c.MaxDepth
		r.stalls[i], r.waits[i] = c.Stalls, c.Waits
		r.desyncs += p.Count(lockstep.EventDesync)
		if err := p.Runner.Session().Err(); err != nil {
			return r, fmt.Errorf("player %d: %w", p.Player, err)
		}
	}
	if r.desyncs > 0 {
		return r, fmt.Errorf("%d desyncs", r.desyncs)
	}
	if r.compared < sc.Frames/2 {
		return r, fmt.Errorf("only %d frames compared", r.compared)
	}
	return r, nil
}

// perTick is a per-player total divided by the ticks both players ran.
func (r *matchResult) perTick(v [2]uint64) float64 {
	return float64(v[0]+v[1]) / float64(r.ticks[0]+r.ticks[1])
}

// wireInput is an input pattern of BenchmarkWire: nil plays internal/peer's Bot.
type wireInput struct {
	name string
	fn   func(player int, f lockstep.Frame) game.Input
}

var wireInputs = []wireInput{
	{"still", func(int, lockstep.Frame) game.Input { return game.Input{X: 400, Y: 300} }},
	{"moving", func(p int, f lockstep.Frame) game.Input { return movingInput(p, f, 0) }},
	{"bot", nil},
}

type wireLink struct {
	rtt  time.Duration
	loss float64
}

func (l wireLink) String() string {
	return fmt.Sprintf("rtt=%dms/loss=%g%%", l.rtt.Milliseconds(), 100*l.loss)
}

var wireLinks = []wireLink{{0, 0}, {0, 0.05}, {100 * time.Millisecond, 0}, {100 * time.Millisecond, 0.05}}

// wireFrames is the length of BenchmarkWire's matches: a minute of play.
const wireFrames = 3600

func wireScenario(in wireInput, link wireLink) (sim.Scenario, sim.Coins) {
	return sim.Scenario{
		Frames: wireFrames,
		Seed:   11,
		Link:   transport.LinkConfig{Latency: link.rtt / 2, Loss: link.loss},
	}, sim.Coins{Input: in.fn}
}

type wireKey struct {
	input string
	link  wireLink
}

var wireRuns onceCache[wireKey, matchResult]

// wireRun is the (cached) match of one input pattern on one link.
func wireRun(in wireInput, link wireLink) (matchResult, error) {
	return wireRuns.get(wireKey{in.name, link}, func() (matchResult, error) {
		return playMatch(wireScenario(in, link))
	})
}

// udpHeader is what IPv4 and UDP add to every datagram.
const udpHeader = 20 + 8

// BenchmarkWire is what crosses the wire per player per frame: every datagram the real
// encoder produces while the session runs, in a one-minute (3600-frame) match played by
// internal/sim on simtest over the emulated network, for three input patterns (a still mouse, a mouse
// moving every frame, internal/peer's Bot) on a perfect link, with 5% loss, at 100 ms round
// trip, and both. A frame here is a tick of 1/60 s while the session runs (ticks stalled
// for want of input count too: the traffic goes on).
//
//	wire-B/frame      UDP payload bytes per player per frame
//	datagrams/frame   datagrams per player per frame
//	udp-B/s           payload plus 28 bytes of IPv4 and UDP header per datagram, per player
//	                  per second at 60 frames a second
//	ns/op             simulating the whole match (both peers, the network, the game)
//
// The match is deterministic; every iteration must give the same figures.
func BenchmarkWire(b *testing.B) {
	for _, in := range wireInputs {
		for _, link := range wireLinks {
			b.Run(fmt.Sprintf("input=%s/%v", in.name, link), func(b *testing.B) {
				want, err := wireRun(in, link)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					got, err := playMatch(wireScenario(in, link))
					if err != nil {
						b.Fatal(err)
					}
					if got != want {
						b.Fatalf("the same match played twice differs:\n%+v\n%+v", want, got)
					}
				}
				payload, dgrams := want.perTick(want.bytes), want.perTick(want.dgrams)
				b.ReportMetric(payload, "wire-B/frame")
				b.ReportMetric(dgrams, "datagrams/frame")
				b.ReportMetric((payload+udpHeader*dgrams)*60, "udp-B/s")
			})
		}
	}
}

// badLinks are BenchmarkBadLink's networks; latency is one way, half the round trip.
var badLinks = []struct {
	name string
	link transport.LinkConfig
}{
	{"perfect", transport.LinkConfig{}},
	{"rtt=60ms", transport.LinkConfig{Latency: 30 * time.Millisecond}},
	{"rtt=150ms+jitter=20ms+loss=5%", transport.LinkConfig{Latency: 75 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.05}},
}

const badLinkFrames = 10000

// BenchmarkBadLink plays a 10,000-frame match between two peers with bots over
// internal/sim's emulated network (simtest's; default session settings: no input delay, 8 frames of
// prediction) on a perfect link, at 60 ms round trip, and at 150 ms with ±20 ms of jitter
// each way and 5% loss each way, and reports what the players would feel:
//
//	rollbacks/frame      rollbacks per frame played, both peers together
//	rollback-depth-max   the deepest rollback either peer made
//	stall-frames         ticks a peer could not advance for want of remote input (mean of
//	                     the two peers, over the whole match)
//	wait-frames          ticks a peer skipped for time sync (mean of the two)
//	desyncs              desync events; any, or any checksum that differs, fails
//	ns/op                simulating the whole match
//
// The match is deterministic; every iteration must give the same figures.
func BenchmarkBadLink(b *testing.B) {
	for _, bl := range badLinks {
		b.Run(bl.name, func(b *testing.B) {
			sc := sim.Scenario{Frames: badLinkFrames, Seed: 5, Link: bl.link}
			coins := sim.Coins{}
			var first matchResult
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r, err := playMatch(sc, coins)
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					first = r
				} else if r != first {
					b.Fatalf("the same match played twice differs:\n%+v\n%+v", first, r)
				}
				i++
			}
			r := first
			frames := float64(r.frames[0] + r.frames[1])
			b.ReportMetric(float64(r.rollbacks[0]+r.rollbacks[1])/frames, "rollbacks/frame")
			b.ReportMetric(float64(max(r.maxDepth[0], r.maxDepth[1])), "rollback-depth-max")
			b.ReportMetric(float64(r.stalls[0]+r.stalls[1])/2, "stall-frames")
			b.ReportMetric(float64(r.waits[0]+r.waits[1])/2, "wait-frames")
			b.ReportMetric(float64(r.desyncs), "desyncs")
		})
	}
}
