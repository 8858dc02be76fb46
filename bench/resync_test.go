package bench

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/internal/diverge"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

const (
	// resyncFrame is where player 1's game diverges: a checksum frame, whose exchange finds
	// it.
	resyncFrame = lockstep.DefaultChecksumInterval
	// resyncFinish is where the match ends: two seconds after the divergence is found,
	// far more than the resync takes.
	resyncFinish = resyncFrame + 120
	// resyncDeadline bounds one iteration; far beyond anything a working resync takes.
	resyncDeadline = 30 * time.Second
)

var (
	resyncCoins  = []int{50, 10000}
	resyncLosses = []float64{0, 0.05}
	// resyncSeq numbers the matches BenchmarkResync plays, for their seeds and nonces.
	resyncSeq atomic.Uint64
)

// resyncPeer is one player's runner on its own loopback socket, driven by Runner.RunWith
// in its own goroutine. Its fields are written by that goroutine and read by the benchmark
// once done is closed.
type resyncPeer struct {
	r    *netplay.Runner
	done chan struct{}
	res  netplay.Result
	err  error
	// final: when the runner first confirmed resyncFrame (the checksum of the frame that
	// differs is final and goes out: the mismatch can be found from then on); resynced:
	// the events, each with when it was reported
	final    time.Time
	resynced []lockstep.Event
	at       []time.Time
}

func startResyncPeer(tb testing.TB, p, coins int, conn transport.Conn, clock transport.Clock, peer0 netip.AddrPort,
	seed, nonce uint64, deadline time.Time) *resyncPeer {
	tb.Helper()
	x := &resyncPeer{done: make(chan struct{})}
	cfg := loopbackPair(p, coins, conn, clock, peer0, seed, nonce)
	if p == 1 {
		newGame := cfg.NewGame
		cfg.NewGame = func(s uint64) (lockstep.Game, error) {
			g, err := newGame(s)
			if err != nil {
				return nil, err
			}
			return &diverge.Game{State: g.(*game.State), At: resyncFrame}, nil
		}
	}
	cfg.FinishAt = resyncFinish
	cfg.OnEvent = func(e lockstep.Event) {
		if e.Kind == lockstep.EventResync {
			x.resynced, x.at = append(x.resynced, e), append(x.at, time.Now())
		}
	}
	r, err := netplay.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	x.r = r
	go func() {
		defer close(x.done)
		x.res, x.err = r.RunWith(tb.Context(), netplay.RunOptions{Until: func() bool {
			if x.final.IsZero() && r.ConfirmedFrame() >= resyncFrame {
				x.final = time.Now()
			}
			return time.Now().After(deadline)
		}})
	}()
	return x
}

func (x *resyncPeer) String() string {
	return fmt.Sprintf("frame %d, result %v (err %v), resyncs %v, stats %+v",
		x.r.Frame(), x.res, x.err, x.resynced, x.r.Session().Stats(nil))
}

// resyncOnce plays one match on loopback UDP in which player 1's game diverges at frame
// resyncFrame, its socket losing loss of the datagrams each way, and returns the time
// from the first peer confirming the frame that differs to player 1 holding the right
// state and replaying on it (its EventResync), after which both compute the same states.
func resyncOnce(tb testing.TB, coins int, seed uint64, loss float64) time.Duration {
	tb.Helper()
	deadline := time.Now().Add(resyncDeadline)
	clock := transport.NewRealClock()
	listen := func() *transport.UDP {
		s, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}
	s0, s1 := listen(), listen()
	var conn1 transport.Conn = s1
	if loss > 0 {
		conn1 = readableConn{transport.NewImpaired(s1, clock, transport.LinkConfig{Loss: loss}, seed), s1.Readable()}
	}
	a := startResyncPeer(tb, 0, coins, s0, clock, netip.AddrPort{}, seed, seed*4, deadline)
	b := startResyncPeer(tb, 1, coins, conn1, clock, s0.LocalAddr(), seed, seed*4+1, deadline)
	<-a.done
	<-b.done
	for i, x := range []*resyncPeer{a, b} {
		if x.err != nil || x.res.Reason != netplay.EndFinished || !x.res.Confirmed || x.res.Frame != resyncFinish ||
			len(x.resynced) != 1 || x.resynced[0].Frame != resyncFrame || x.resynced[0].Player != 1 || x.resynced[0].Donor != 0 {
			tb.Fatalf("coins %d, seed %d, loss %g: player %d: not one resync of frame %d and a finished match\nplayer 0: %v\nplayer 1: %v",
				coins, seed, loss, i, resyncFrame, a, b)
		}
	}
	if a.res.Checksum != b.res.Checksum {
		tb.Fatalf("coins %d, seed %d, loss %g: the checksums at frame %d differ: %016x, %016x", coins, seed, loss, resyncFinish, a.res.Checksum, b.res.Checksum)
	}
	start := a.final
	if b.final.Before(start) {
		start = b.final
	}
	return b.at[0].Sub(start)
}

// BenchmarkResync is how soon a desync is mended: two netplay runners play the coin game
// with 50 and 10,000 coins (a saved state of about 200 KB) on real UDP sockets on
// loopback, each driven by Runner.RunWith in its own goroutine on the real clock. Player
// 1's game diverges at frame 60 (internal/diverge); the checksum exchange of that frame
// finds it, player 0's state is handed to player 1, which replays on it, and both play on
// to frame 180, where their checksums must agree. On loss=5% player 1's socket is behind
// transport.Impaired: 5% of its datagrams are lost each way, the checksum reports and the
// handover included.
//
//	ms/resync     from the first runner confirming frame 60 (its checksum is final and
//	              goes out) to player 1 having loaded the right state and replayed to the
//	              present (its EventResync): the checksum exchange, the vote, the handover
//	              and the replay
//	ns/op, B/op, allocs/op  one whole iteration: a match's start, the play, the resync
//	              and the end, both runners and games
//
// One iteration takes about four seconds, so the default -benchtime runs one per count.
func BenchmarkResync(b *testing.B) {
	for _, coins := range resyncCoins {
		for _, loss := range resyncLosses {
			b.Run(fmt.Sprintf("coins=%d/loss=%g%%", coins, 100*loss), func(b *testing.B) {
				var total time.Duration
				n := 0
				b.ReportAllocs()
				for b.Loop() {
					total += resyncOnce(b, coins, 2000+resyncSeq.Add(1), loss)
					n++
				}
				b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/resync")
			})
		}
	}
}
