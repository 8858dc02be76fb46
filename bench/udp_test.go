package bench

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// udpPeer is a session on a real UDP socket on loopback, driven from the benchmark's one
// goroutine: datagrams are read as they arrive (the socket's Readable signal wakes the
// loop; nothing polls or sleeps) and the session's clock is wall time since base.
type udpPeer struct {
	conn *transport.UDP
	s    *lockstep.Session
	g    *game.State
	buf  []byte
	in   []byte
	base time.Time
}

func (u *udpPeer) now() time.Duration { return time.Since(u.base) }

// drain hands every datagram waiting on the socket to the session.
func (u *udpPeer) drain() {
	for {
		n, from, ok := u.conn.ReadFrom(u.buf)
		if !ok {
			return
		}
		if n <= len(u.buf) {
			u.s.Receive(from, u.buf[:n], u.now())
		}
	}
}

// flush sends what the session has to send.
func (u *udpPeer) flush(tb testing.TB) {
	for _, d := range u.s.Outgoing(u.now()) {
		if err := u.conn.WriteTo(d.Data, d.To); err != nil {
			tb.Fatal(err)
		}
	}
}

func (u *udpPeer) close() {
	if u.conn != nil {
		u.conn.Close()
	}
}

// openUDPPair opens two loopback sockets and a session on each (see newSessions).
func openUDPPair(tb testing.TB, cfg lockstep.Config, nonce uint64, base time.Time) (a, b *udpPeer) {
	tb.Helper()
	a, b = &udpPeer{base: base}, &udpPeer{base: base}
	for _, u := range []*udpPeer{a, b} {
		conn, err := transport.ListenUDP("127.0.0.1:0")
		if err != nil {
			a.close()
			tb.Fatal(err)
		}
		u.conn = conn
		u.buf = make([]byte, transport.MaxDatagram)
		u.in = make([]byte, 0, game.InputSize)
	}
	newSessions(tb, a, b, cfg, nonce)
	return a, b
}

// newSessions gives a and b new sessions, player 0 waiting to learn player 1's address as
// on the command line. nonce makes the sessions' tags new, so nothing of an earlier pair of
// sessions on the same sockets could count.
func newSessions(tb testing.TB, a, b *udpPeer, cfg lockstep.Config, nonce uint64) {
	for i, u := range []*udpPeer{a, b} {
		peers := make([]netip.AddrPort, 2)
		if i == 1 {
			peers[0] = a.conn.LocalAddr()
		}
		c := cfg
		c.Players, c.InputSize, c.Nonce = 2, game.InputSize, nonce*2+uint64(i)
		s, err := lockstep.NewSession(c, i, peers)
		if err != nil {
			a.close()
			b.close()
			tb.Fatal(err)
		}
		u.s = s
	}
}

// quiesce waits until every datagram either socket sent has reached the other's queue, then
// empties both queues: the next sessions on these sockets start from silence.
func quiesce(tb testing.TB, a, b *udpPeer, timer *time.Timer) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		sa, sb := a.conn.Stats(), b.conn.Stats()
		if sa.Sent == sb.Received && sb.Sent == sa.Received {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("datagrams still in flight after 5s: %+v, %+v", sa, sb)
		}
		waitFor(timer, time.Millisecond, a.conn.Readable(), b.conn.Readable())
	}
	for _, u := range []*udpPeer{a, b} {
		for {
			if _, _, ok := u.conn.ReadFrom(u.buf); !ok {
				break
			}
		}
	}
}

// waitFor blocks until either socket signals a datagram or d passes; false on timeout.
func waitFor(t *time.Timer, d time.Duration, a, b <-chan struct{}) bool {
	t.Reset(d)
	defer t.Stop()
	select {
	case <-a:
		return true
	case <-b:
		return true
	case <-t.C:
		return false
	}
}

// handshakeUDP runs both sessions until both are running, handing each datagram over as it
// arrives. The timer only covers the sessions' own retry interval (a lost datagram).
func handshakeUDP(tb testing.TB, a, b *udpPeer, timer *time.Timer) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.flush(tb)
		b.flush(tb)
		waitFor(timer, 100*time.Millisecond, a.conn.Readable(), b.conn.Readable())
		a.drain()
		b.drain()
		if a.s.Running() && b.s.Running() {
			return
		}
		if err := a.s.Err(); err != nil {
			tb.Fatal(err)
		}
		if err := b.s.Err(); err != nil {
			tb.Fatal(err)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("handshake: not running after 5s: %s / %s", a.s.State(), b.s.State())
		}
	}
}

// newRunners makes two netplay.Runners (the loop the binaries use) on a's and b's sockets,
// player 0 waiting to learn player 1's address; nonce makes their tags new.
func newRunners(tb testing.TB, a, b *udpPeer, cfg lockstep.Config, nonce uint64) [2]*netplay.Runner {
	var rs [2]*netplay.Runner
	clock := transport.NewRealClock()
	for i, u := range []*udpPeer{a, b} {
		peers := make([]netip.AddrPort, 2)
		if i == 1 {
			peers[0] = a.conn.LocalAddr()
		}
		c := cfg
		c.Players, c.InputSize, c.Nonce = 2, game.InputSize, nonce*2+uint64(i)
		r, err := netplay.New(netplay.Config{
			Session: c, Player: i, Peers: peers, Conn: u.conn, Clock: clock,
			NewGame: func(seed uint64) (lockstep.Game, error) {
				return game.New(game.Config{Mode: game.Versus, Players: 2, Coins: game.DefaultCoins, Seed: seed})
			},
		})
		if err != nil {
			tb.Fatal(err)
		}
		rs[i] = r
	}
	return rs
}

// handshakeRunners runs rs on a's and b's sockets until both sessions are running: one
// Tick each sends the first sync requests, then each datagram is handed over as it arrives
// (Poll, which answers at once during the handshake). A Tick each 100 ms without arrivals
// covers a lost datagram.
func handshakeRunners(tb testing.TB, rs [2]*netplay.Runner, a, b *udpPeer, timer *time.Timer) {
	deadline := time.Now().Add(5 * time.Second)
	rs[0].Tick()
	rs[1].Tick()
	for !rs[0].Session().Running() || !rs[1].Session().Running() {
		if waitFor(timer, 100*time.Millisecond, a.conn.Readable(), b.conn.Readable()) {
			rs[0].Poll()
			rs[1].Poll()
		} else {
			rs[0].Tick()
			rs[1].Tick()
		}
		for _, r := range rs {
			if r.Done() {
				tb.Fatalf("handshake: %v", r.Result().Err)
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("handshake: not running after 5s: %s / %s", rs[0].Session().State(), rs[1].Session().State())
		}
	}
}

// BenchmarkHandshake is how long two peers take to get in sync over real UDP on loopback,
// through the runner the binaries use (netplay): from both runners' first Tick to both
// sessions running (5 round trips of sync request and reply each way, the default), with
// the datagrams handed over as they arrive. Between runs the sockets are reused: once every
// datagram sent has arrived, both queues are emptied and two new runners (new tags) are
// made, outside the measurement.
//
//	handshake-ms   the mean, in milliseconds (ns/op is the same figure)
func BenchmarkHandshake(b *testing.B) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	cfg := lockstep.Config{Game: gameDesc(game.DefaultCoins), Seed: 1}
	pa, pb := openUDPPair(b, cfg, 0, time.Now())
	defer pa.close()
	defer pb.close()
	var total time.Duration
	nonce := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		nonce++
		rs := newRunners(b, pa, pb, cfg, nonce)
		b.StartTimer()
		t0 := time.Now()
		handshakeRunners(b, rs, pa, pb, timer)
		total += time.Since(t0)

		b.StopTimer()
		if sa, sb := agreedSeed(b, rs[0].Session()), agreedSeed(b, rs[1].Session()); sa != sb {
			b.Fatalf("seeds differ: %d, %d", sa, sb)
		}
		quiesce(b, pa, pb, timer)
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()*1e3/float64(b.N), "handshake-ms")
}

// BenchmarkInputLatency is how soon a remote input counts, over real UDP on loopback.
//
// Each iteration is one frame of both peers, in lockstep. Measured, per iteration, is the
// engine path alone, with no frame pacing: from the moment A adds its local input for
// frame T (= its current frame + the input delay d), through A's Advance, the game frame it
// runs, A's Outgoing and the send, the kernel's loopback, the socket's reader goroutine and
// B's wake-up, B's Receive, to B's Advance and game frame done with that input in hand: B
// then holds every player's real input for T (B.ConfirmedInputs(T) succeeds), and with
// d = 0 it has just simulated T, so B.ConfirmedFrame() > T. With d > 0 the input counts d
// frames of B's later, when B reaches frame T: in a game paced at 60 frames a second that
// is d × 16.67 ms more, reported separately as delay-ms and not included in p50-ms and
// p99-ms (it is a fixed, designed delay, not a cost of the engine).
//
// B's mouse is still and A's moves every frame, so A's inputs are real changes and B's are
// predicted right: neither side rolls back. The way back (B's acknowledgement and input,
// which A needs before its next frame) is not measured; it is in ns/op, which is one
// whole iteration: a round trip plus four game frames.
//
//	p50-ms, p99-ms   percentiles of the engine path, in milliseconds
//	delay-ms         d frames at 60 frames a second, to add for the input to count
func BenchmarkInputLatency(b *testing.B) {
	for _, delay := range []int{0, 2} {
		b.Run(fmt.Sprintf("delay=%d", delay), func(b *testing.B) {
			base := time.Now()
			timer := time.NewTimer(time.Hour)
			timer.Stop()
			cfg := lockstep.Config{Game: gameDesc(game.DefaultCoins), Seed: 1, InputDelay: delay}
			pa, pb := openUDPPair(b, cfg, 1, base)
			defer pa.close()
			defer pb.close()
			handshakeUDP(b, pa, pb, timer)
			for _, u := range []*udpPeer{pa, pb} {
				g, err := game.New(game.Config{Mode: game.Versus, Players: 2, Coins: game.DefaultCoins, Seed: agreedSeed(b, u.s)})
				if err != nil {
					b.Fatal(err)
				}
				u.g = g
				u.s.Events()
			}
			lat := make([]time.Duration, 0, 1<<16)
			scratch := make([]byte, 0, 2*game.InputSize)
			peers := make([]lockstep.PeerStats, 0, 1) // B's one peer, A: how far A's inputs arrived
			still, err := game.Input{X: 400, Y: 300}.AppendBinary(nil)
			if err != nil {
				b.Fatal(err)
			}
			iteration := func() {
				f := pa.s.Frame()
				if pb.s.Frame() != f {
					b.Fatalf("frames differ: A %d, B %d", f, pb.s.Frame())
				}
				t := f + lockstep.Frame(delay)
				var err error
				if pa.in, err = movingInput(0, t, lockstep.Frame(delay)).AppendBinary(pa.in[:0]); err != nil {
					b.Fatal(err)
				}

				t0 := time.Now()
				advance(b, pa, pa.in)
				pa.flush(b)
				deadline := t0.Add(2 * time.Second)
				for {
					pb.drain()
					if st := pb.s.Stats(peers[:0]); len(st.Peers) == 1 && st.Peers[0].Received >= t {
						break // B holds A's input for T; its own comes with its frame below
					}
					if !waitFor(timer, 20*time.Millisecond, pb.conn.Readable(), nil) {
						if time.Now().After(deadline) {
							b.Fatalf("frame %d: B never got A's input", t)
						}
						pa.flush(b) // lost on loopback? the session resends unacknowledged inputs
					}
				}
				advance(b, pb, still)
				lat = append(lat, time.Since(t0))

				got, _ := pb.s.ConfirmedInputs(scratch[:0], t)
				if !bytes.Equal(got[:game.InputSize], pa.in) {
					b.Fatalf("frame %d: B confirmed A's input % x, A sent % x", t, got[:game.InputSize], pa.in)
				}
				if delay == 0 && pb.s.ConfirmedFrame() <= t {
					b.Fatalf("frame %d: B's confirmed frame is %d", t, pb.s.ConfirmedFrame())
				}
				// The way back: A needs B's input for T before its next frame.
				pb.flush(b)
				pb.s.Events()
				for {
					pa.drain()
					if _, ok := pa.s.ConfirmedInputs(scratch[:0], t); ok {
						break
					}
					if !waitFor(timer, 20*time.Millisecond, pa.conn.Readable(), nil) {
						if time.Now().After(deadline) {
							b.Fatalf("frame %d: A never got B's input", t)
						}
						pb.flush(b)
					}
				}
				pa.s.Events()
			}
			for range 120 { // warm up: the state ring, the checksum history, the scheduler
				iteration()
			}
			lat = lat[:0]
			before := pa.s.Stats(nil).Rollbacks + pb.s.Stats(nil).Rollbacks
			b.ReportAllocs()
			for b.Loop() {
				iteration()
			}
			if n := pa.s.Stats(nil).Rollbacks + pb.s.Stats(nil).Rollbacks - before; n != 0 {
				b.Fatalf("%d rollbacks: a prediction was wrong", n)
			}
			if err := compareLatest(pa.s, pb.s); err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			b.ReportMetric(percentile(lat, 50).Seconds()*1e3, "p50-ms")
			b.ReportMetric(percentile(lat, 99).Seconds()*1e3, "p99-ms")
			b.ReportMetric(float64(delay)*frameTime.Seconds()*1e3, "delay-ms")
		})
	}
}

// advance steps u with its local input, which must advance a frame (the peers move in
// lockstep), and carries out the requests.
func advance(tb testing.TB, u *udpPeer, in []byte) {
	status, reqs, err := u.s.Step(u.now(), in)
	// These benchmarks pace frames themselves and ignore time sync: each StatusTimeSync
	// uses up one frame of the wait, so stepping again plays the frame now.
	for range 16 { // more than any wait the session asks for
		if err != nil || status != lockstep.StatusTimeSync {
			break
		}
		status, reqs, err = u.s.Step(u.now(), in)
	}
	if err != nil {
		tb.Fatalf("player %d frame %d: %v", u.s.LocalPlayer(), u.s.Frame(), err)
	}
	if status != lockstep.StatusAdvanced {
		tb.Fatalf("player %d frame %d: %v", u.s.LocalPlayer(), u.s.Frame(), status)
	}
	if err := lockstep.Apply(u.g, reqs); err != nil {
		tb.Fatal(err)
	}
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

// compareLatest checks the two sessions' checksums at the latest frame both confirmed.
func compareLatest(a, b *lockstep.Session) error {
	for _, s := range []*lockstep.Session{a, b} {
		if err := s.Err(); err != nil {
			return err
		}
	}
	f := min(a.ConfirmedFrame(), b.ConfirmedFrame())
	sa, okA := a.Checksum(f)
	sb, okB := b.Checksum(f)
	switch {
	case !okA || !okB:
		return fmt.Errorf("checksum of confirmed frame %d not remembered (A %v, B %v)", f, okA, okB)
	case sa != sb:
		return fmt.Errorf("desync at frame %d: A %016x, B %016x", f, sa, sb)
	}
	return nil
}
