package bench

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

const (
	// rejoinCoins is the state: 10,000 coins save to about 200 KB.
	rejoinCoins = 10000
	// rejoinKill is the frame (player 1's own) at which player 1 is killed.
	rejoinKill = 20
	// rejoinFinish is where the match ends: about 20 frames after the rejoin, enough for
	// both sides to confirm frames played on the state handed over.
	rejoinFinish = rejoinKill + 24
	// rejoinQuiet is how long the killed player stays away: longer than the survivor's
	// InterruptTimeout, so the returning player's handshake drops its old seat at once
	// (lockstep's restartedSeat) instead of after the 5 s DisconnectTimeout.
	rejoinQuiet = lockstep.DefaultInterruptTimeout + 250*time.Millisecond
	// rejoinDeadline bounds one iteration; far beyond anything a working rejoin takes.
	rejoinDeadline = 30 * time.Second
)

// rejoinLosses are BenchmarkRejoin's links: loopback as it is, and with 5% of the datagrams
// lost each way on the rejoiner's link.
var rejoinLosses = []float64{0, 0.05}

// rejoinSeq numbers the matches BenchmarkRejoin plays, for their seeds and nonces: no two in
// one process share a session's keys.
var rejoinSeq atomic.Uint64

// readableConn is a Conn that wraps a UDP socket (a transport.Impaired here) and passes the
// socket's arrival signal on, so that Runner.RunWith wakes on arrivals as it does on the bare
// socket instead of only at its frame ticks. With no latency configured the Impaired holds
// nothing back: what it does not drop is returned by the ReadFrom that the signal leads to.
type readableConn struct {
	transport.Conn
	readable <-chan struct{}
}

func (c readableConn) Readable() <-chan struct{} { return c.readable }

// rejoinPeer is one player's runner on its own loopback socket, driven by Runner.RunWith in
// its own goroutine. Every field but frame is written by that goroutine and read by the
// benchmark only once done is closed.
type rejoinPeer struct {
	r      *netplay.Runner
	conn   transport.Conn
	stop   atomic.Bool  // the benchmark's kill: RunWith returns at its next step
	frame  atomic.Int64 // the runner's match frame after its last step
	done   chan struct{}
	res    netplay.Result
	err    error
	events []netplay.RejoinEvent
	status netplay.RejoinStatus // after the last step, for a failure's diagnostics

	start, joining, resumed, loaded time.Time
}

// loopbackPair is player p's runner configuration for the two-player coin game of coins
// coins (versus, movingInput) on conn; peer0 is player 0's address (player 0 learns player
// 1's).
func loopbackPair(p, coins int, conn transport.Conn, clock transport.Clock, peer0 netip.AddrPort, seed, nonce uint64) netplay.Config {
	peers := make([]netip.AddrPort, 2)
	if p == 1 {
		peers[0] = peer0
	}
	return netplay.Config{
		Session: lockstep.Config{Players: 2, InputSize: game.InputSize, Game: gameDesc(coins), Seed: seed, Nonce: nonce},
		Player:  p, Peers: peers, Conn: conn, Clock: clock,
		NewGame: func(s uint64) (lockstep.Game, error) {
			return game.New(game.Config{Mode: game.Versus, Players: 2, Coins: coins, Seed: s})
		},
		Input: func(f lockstep.Frame, dst []byte) []byte {
			b, _ := movingInput(p, f, 0).AppendBinary(dst) // a fixed-size struct: cannot fail
			return b
		},
	}
}

// startRejoinPeer makes player p's runner on conn and runs it until its match ends, it is
// stopped, or deadline. peer0 is player 0's address (player 0 learns player 1's).
func startRejoinPeer(tb testing.TB, p int, conn transport.Conn, clock transport.Clock, peer0 netip.AddrPort,
	seed, nonce uint64, deadline time.Time) *rejoinPeer {
	tb.Helper()
	x := &rejoinPeer{conn: conn, done: make(chan struct{})}
	cfg := loopbackPair(p, rejoinCoins, conn, clock, peer0, seed, nonce)
	cfg.FinishAt = rejoinFinish
	cfg.Rejoin = netplay.DefaultRejoin
	cfg.OnRejoin = func(e netplay.RejoinEvent) {
		x.events = append(x.events, e)
		switch e.Kind {
		case netplay.RejoinJoining:
			x.joining = time.Now()
		case netplay.RejoinResumed:
			x.resumed = time.Now()
		}
	}
	r, err := netplay.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	x.r = r
	go func() {
		defer close(x.done)
		x.start = time.Now()
		x.res, x.err = r.RunWith(tb.Context(), netplay.RunOptions{Until: func() bool {
			x.frame.Store(int64(r.Frame()))
			x.status = r.Rejoin()
			if !x.resumed.IsZero() && x.loaded.IsZero() {
				// The tick that resumed also loaded the state into the game (the session's
				// first Step after a handover asks for the load): the rejoin is complete.
				x.loaded = time.Now()
			}
			return x.stop.Load() || time.Now().After(deadline)
		}})
	}()
	return x
}

// wait blocks until x's goroutine has returned, at most until deadline.
func (x *rejoinPeer) wait(deadline time.Time) bool {
	select {
	case <-x.done:
		return true
	case <-time.After(time.Until(deadline) + time.Second):
		return false
	}
}

func (x *rejoinPeer) String() string {
	if x == nil {
		return "not started"
	}
	select {
	case <-x.done:
	default:
		return fmt.Sprintf("still running at frame %d", x.frame.Load())
	}
	kinds := make([]string, len(x.events))
	for i, e := range x.events {
		kinds[i] = e.Kind.String()
	}
	return fmt.Sprintf("frame %d, base %d, done %v, result %v (err %v), rejoin events %v, last status %+v, stats %+v",
		x.r.Frame(), x.r.BaseFrame(), x.r.Done(), x.res, x.err, kinds, x.status, x.r.Session().Stats(nil))
}

// rejoinRun is what one rejoin measured.
type rejoinRun struct {
	rejoin, handover time.Duration
	join, load       time.Duration // start to RejoinJoining; RejoinResumed to loaded
	bytes            int
}

// rejoinOnce plays one match on loopback UDP and measures one rejoin: players 0 and 1 play
// to frame rejoinKill; player 1 is killed (its runner is no longer driven, its socket is
// closed, nothing is said); rejoinQuiet later a fresh runner with a fresh game takes seat 1
// from a new socket, its link losing loss of the datagrams each way; it is handed the state
// and both play to rejoinFinish, where their checksums must agree.
func rejoinOnce(tb testing.TB, seed uint64, loss float64) rejoinRun {
	tb.Helper()
	deadline := time.Now().Add(rejoinDeadline)
	clock := transport.NewRealClock()
	var ps [3]*rejoinPeer // player 0, player 1, player 1 again
	var socks []*transport.UDP
	defer func() {
		for _, x := range ps {
			if x != nil {
				x.stop.Store(true)
				x.wait(deadline)
			}
		}
		for _, s := range socks {
			s.Close()
		}
	}()
	fail := func(format string, args ...any) {
		tb.Helper()
		for _, x := range ps {
			if x != nil {
				x.stop.Store(true)
				x.wait(deadline)
			}
		}
		tb.Fatalf("seed %d, loss %g: %s\nplayer 0: %v\nplayer 1: %v\nplayer 1 again: %v",
			seed, loss, fmt.Sprintf(format, args...), ps[0], ps[1], ps[2])
	}
	listen := func() *transport.UDP {
		s, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		socks = append(socks, s)
		return s
	}
	s0, s1 := listen(), listen()
	ps[0] = startRejoinPeer(tb, 0, s0, clock, netip.AddrPort{}, seed, seed*4, deadline)
	ps[1] = startRejoinPeer(tb, 1, s1, clock, s0.LocalAddr(), seed, seed*4+1, deadline)

	for ps[1].frame.Load() < rejoinKill {
		select {
		case <-ps[0].done:
			fail("player 0 stopped before frame %d", rejoinKill)
		case <-ps[1].done:
			fail("player 1 stopped before frame %d", rejoinKill)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			fail("frame %d not reached", rejoinKill)
		}
	}
	ps[1].stop.Store(true)
	if !ps[1].wait(deadline) {
		fail("player 1's runner did not stop")
	}
	s1.Close()
	time.Sleep(rejoinQuiet)

	s2 := listen()
	var conn transport.Conn = s2
	if loss > 0 {
		conn = readableConn{transport.NewImpaired(s2, clock, transport.LinkConfig{Loss: loss}, seed), s2.Readable()}
	}
	ps[2] = startRejoinPeer(tb, 1, conn, clock, s0.LocalAddr(), seed, seed*4+2, deadline)
	if !ps[0].wait(deadline) || !ps[2].wait(deadline) {
		fail("the match did not end within %v", rejoinDeadline)
	}
	a, b := ps[0], ps[2]
	for i, x := range []*rejoinPeer{a, b} {
		if x.err != nil || x.res.Reason != netplay.EndFinished || !x.res.Confirmed || x.res.Frame != rejoinFinish {
			fail("player %d's match did not finish at frame %d", i, rejoinFinish)
		}
	}
	if a.res.Checksum != b.res.Checksum {
		fail("the checksums at frame %d differ: %016x, %016x", rejoinFinish, a.res.Checksum, b.res.Checksum)
	}
	if !b.r.Match().Rejoined() || b.r.BaseFrame() <= 0 || b.loaded.IsZero() || b.joining.IsZero() {
		fail("player 1 did not rejoin")
	}
	kinds := func(x *rejoinPeer) []netplay.RejoinEventKind {
		var ks []netplay.RejoinEventKind
		for _, e := range x.events {
			ks = append(ks, e.Kind)
		}
		return ks
	}
	if !slices.Equal(kinds(a), []netplay.RejoinEventKind{netplay.RejoinWaiting, netplay.RejoinResumed}) ||
		!slices.Equal(kinds(b), []netplay.RejoinEventKind{netplay.RejoinJoining, netplay.RejoinResumed}) {
		fail("unexpected rejoin events")
	}
	return rejoinRun{rejoin: b.loaded.Sub(b.start), handover: b.resumed.Sub(b.joining),
		join: b.joining.Sub(b.start), load: b.loaded.Sub(b.resumed), bytes: b.events[0].Bytes}
}

// BenchmarkRejoin is how soon a player whose process died is back in the match: two
// netplay runners play the coin game with 10,000 coins (a saved state of about 200 KB) on
// real UDP sockets on loopback, each driven by Runner.RunWith in its own goroutine on the
// real clock, with rejoin on. Player 1 is killed at frame 20 (no longer driven, its socket
// closed, no goodbye), and a second later (longer than the InterruptTimeout, so player 0
// drops the silent seat as soon as the returning player's handshake arrives rather than
// after the 5 s DisconnectTimeout; the second is not measured) a fresh runner with a fresh
// game takes seat 1 from a new socket. It gets the state handed over and both play on to
// frame 44, where their checksums must agree. On loss=5% the new socket is behind
// transport.Impaired: 5% of the rejoiner's datagrams are lost each way, handshake and
// handover included.
//
//	rejoin-ms     from the fresh runner's start (its first handshake datagram) to the
//	              handed-over state loaded into its game: the handshake that finds the match
//	              in progress, the handover and the load
//	handover-ms   the handover alone: from RejoinJoining (the handshake has found the match
//	              and its state) to RejoinResumed (the whole state held and checked)
//	state-B       the state's size, bytes
//	ns/op, B/op, allocs/op  one whole iteration: a match's start, play, the kill, the
//	              second away, the rejoin and the end, both runners and games
//
// One iteration takes about two seconds, so the default -benchtime runs one per count.
func BenchmarkRejoin(b *testing.B) {
	for _, loss := range rejoinLosses {
		b.Run(fmt.Sprintf("coins=%d/loss=%g%%", rejoinCoins, 100*loss), func(b *testing.B) {
			var rejoin, handover, join, load time.Duration
			n, bytes := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				r := rejoinOnce(b, 1000+rejoinSeq.Add(1), loss)
				rejoin += r.rejoin
				handover += r.handover
				join += r.join
				load += r.load
				bytes = r.bytes
				n++
			}
			mean := func(d time.Duration) time.Duration { return d / time.Duration(n) }
			b.Logf("%d rejoins, means: handshake to RejoinJoining %v, handover %v, load %v", n, mean(join), mean(handover), mean(load))
			b.ReportMetric(float64(rejoin.Microseconds())/1000/float64(n), "rejoin-ms")
			b.ReportMetric(float64(handover.Microseconds())/1000/float64(n), "handover-ms")
			b.ReportMetric(float64(bytes), "state-B")
		})
	}
}
