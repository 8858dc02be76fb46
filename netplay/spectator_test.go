package netplay_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/transport"
)

// TestSpectator: two players and a spectator over the emulator on a virtual clock. The
// spectator ends at the players' end frame on their checksum, whether it watches from the
// start or arrives late and fast-forwards, on a clean or a lossy link; one that asks to
// stop before the end ends on the checksum the players had at that frame; player 0's
// departure ends it with EndPeerLeft on a frame the match had.
func TestSpectator(t *testing.T) {
	for _, tc := range []struct {
		name     string
		seed     uint64
		link     transport.LinkConfig
		joinAt   time.Duration // when the spectator starts
		finishAt lockstep.Frame
		want     netplay.EndReason
	}{
		{"from the start", 11, transport.LinkConfig{Latency: 10 * time.Millisecond}, 0, 0, netplay.EndPeerLeft},
		{"late, lossy", 12, transport.LinkConfig{Latency: 30 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.05}, 3 * time.Second, 0, netplay.EndPeerLeft},
		{"stops at 150", 13, transport.LinkConfig{Latency: 20 * time.Millisecond, Loss: 0.02}, 0, 150, netplay.EndFinished},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const finish = 300
			clock := transport.NewVirtualClock(0)
			network := transport.NewNetwork(clock, tc.seed)
			addr := func(p int) netip.AddrPort { return netip.MustParseAddrPort(fmt.Sprintf("10.0.0.%d:7000", p+1)) }
			for a := range 3 {
				for b := range 3 {
					if a != b {
						network.SetLink(addr(a), addr(b), tc.link)
					}
				}
			}
			// Each player notes its checksum at every confirmed frame, to compare the
			// spectator's frame with.
			sums := [2]map[lockstep.Frame]uint64{{}, {}}
			var runners []*netplay.Runner
			for p := range 2 {
				conn, err := network.Listen(addr(p))
				if err != nil {
					t.Fatal(err)
				}
				sc := lockstep.Config{InputSize: 1, Game: "counter", Seed: tc.seed, Nonce: uint64(p + 1)}
				if p == 0 {
					sc.Spectators = 1
				}
				game := &counter{}
				r, err := netplay.New(netplay.Config{
					Session:  sc,
					Player:   p,
					Peers:    []netip.AddrPort{addr(0), addr(1)},
					Conn:     conn,
					Clock:    clock,
					Game:     game,
					Input:    func(f lockstep.Frame, dst []byte) []byte { return append(dst, byte(int(f)*(p+3)/16)) },
					FinishAt: finish,
					OnConfirmed: func(c netplay.Confirmed) {
						if sum, ok := c.Checksum(); ok {
							sums[p][c.Frame] = sum
						}
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				runners = append(runners, r)
			}
			var watched netplay.Watched
			var sp *netplay.Spectator
			startSpectator := func() {
				conn, err := network.Listen(addr(2))
				if err != nil {
					t.Fatal(err)
				}
				sp, err = netplay.NewSpectator(netplay.SpectatorConfig{
					Host: addr(0), Conn: conn, Clock: clock, FinishAt: tc.finishAt,
					NewGame: func(w netplay.Watched) (lockstep.Game, error) { watched = w; return &counter{}, nil },
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.joinAt == 0 {
				startSpectator()
			}
			for step := 0; !runners[0].Done() || !runners[1].Done() || sp == nil || !sp.Done(); step++ {
				if step > 60*60 {
					t.Fatalf("no end after a minute of play: players %v %v, spectator %+v", runners[0].Result(), runners[1].Result(), sp)
				}
				if sp == nil && clock.Now() >= tc.joinAt {
					startSpectator()
				}
				for _, r := range runners {
					r.Tick()
				}
				if sp != nil {
					sp.Tick()
				}
				next := clock.Now() + time.Second/60
				for due, ok := network.NextDue(); ok && due < next; due, ok = network.NextDue() {
					clock.Set(max(due, clock.Now()))
					for _, r := range runners {
						r.Poll()
					}
					if sp != nil {
						sp.Poll()
					}
				}
				clock.Set(next)
			}
			a, b, s := runners[0].Result(), runners[1].Result(), sp.Result()
			if a.Reason != netplay.EndFinished || b.Reason != netplay.EndFinished || a.Checksum != b.Checksum {
				t.Fatalf("the players did not finish alike: %v / %v", a, b)
			}
			if s.Reason != tc.want || !s.Confirmed {
				t.Errorf("spectator ended %v (confirmed %v, err %v), want %v", s.Reason, s.Confirmed, s.Err, tc.want)
			}
			want, ok := sums[0][s.Frame]
			if !ok {
				t.Fatalf("spectator ended at frame %d, which player 0 never confirmed", s.Frame)
			}
			if s.Checksum != want || sums[1][s.Frame] != want {
				t.Errorf("frame %d: spectator %016x, players %016x %016x", s.Frame, s.Checksum, want, sums[1][s.Frame])
			}
			if tc.finishAt > 0 && s.Frame != tc.finishAt {
				t.Errorf("spectator ended at frame %d, want its FinishAt %d", s.Frame, tc.finishAt)
			}
			// Without loss the spectator sees every frame. With loss, player 0 (done, and
			// not lingering for spectators) may say goodbye before the spectator holds its
			// last few inputs: it then ends a little early, but on a frame the match had
			// (checked above).
			if tc.finishAt == 0 && (s.Frame > finish || (tc.link.Loss == 0 && s.Frame != finish)) {
				t.Errorf("spectator ended at frame %d, want the players' %d", s.Frame, finish)
			}
			if watched.Players != 2 || watched.Game != "counter" || watched.Seed != tc.seed {
				t.Errorf("NewGame was told %+v", watched)
			}
		})
	}
}

func TestNewSpectatorRefuses(t *testing.T) {
	clock := transport.NewVirtualClock(0)
	conn, err := transport.NewNetwork(clock, 1).Listen(netip.MustParseAddrPort("10.0.0.3:7000"))
	if err != nil {
		t.Fatal(err)
	}
	host := netip.MustParseAddrPort("10.0.0.1:7000")
	newGame := func(netplay.Watched) (lockstep.Game, error) { return &counter{}, nil }
	for _, tc := range []struct {
		name string
		cfg  netplay.SpectatorConfig
	}{
		{"no conn", netplay.SpectatorConfig{Host: host, Clock: clock, NewGame: newGame}},
		{"no clock", netplay.SpectatorConfig{Host: host, Conn: conn, NewGame: newGame}},
		{"no game", netplay.SpectatorConfig{Host: host, Conn: conn, Clock: clock}},
		{"no host", netplay.SpectatorConfig{Conn: conn, Clock: clock, NewGame: newGame}},
	} {
		if _, err := netplay.NewSpectator(tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// watchMatch starts a spectator of m at addr, greeting player host, that stops at the
// match's finish; its game is the players' (pad bytes of state).
func watchMatch(t *testing.T, m *match, addr string, host, pad int) *netplay.Spectator {
	t.Helper()
	sp, err := m.sim.Watch(netip.MustParseAddrPort(addr), host, netplay.SpectatorConfig{
		FinishAt: m.finish,
		NewGame:  func(netplay.Watched) (lockstep.Game, error) { return newBulky(pad), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// withSpectators lets every player feed spectators (each keeps their history).
func withSpectators(_ int, c *netplay.Config) { c.Session.Spectators = 3 }

// checkWatched fails the test unless every spectator finished at the match's finish on
// want, the players' checksum there.
func checkWatched(t *testing.T, finish lockstep.Frame, want uint64, sps map[string]*netplay.Spectator) {
	t.Helper()
	for name, sp := range sps {
		res := sp.Result()
		t.Logf("%s: %v, fed by player %d", name, res, sp.Session().Feeder())
		if diff := gocmp.Diff([]any{netplay.EndFinished, finish, want, error(nil)},
			[]any{res.Reason, res.Frame, res.Checksum, res.Err}, gocmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Errorf("%s (-players +spectator):\n%s", name, diff)
		}
	}
}

// TestSpectatorAcrossRejoin: player 1 of two is killed 4 s in and started again 2 s later.
// A spectator watching player 0 from the start watches on through the pause and the new
// leg, and so does one that asks player 0 during the pause (the old leg meets it, the new
// one takes it over); one that asks player 0 after the rejoin fast-forwards from frame 0;
// one that asks player 1, the rejoiner (whose history starts at the rejoin), is handed the
// state there. All four end on the players' checksum at the finish. Seed 21; 2% loss.
func TestSpectatorAcrossRejoin(t *testing.T) {
	const finish, pad = 1200, 5000
	link := transport.LinkConfig{Latency: 15 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0.02}
	m := newMatch(t, 2, 21, pad, link, finish, withSpectators)
	sps := map[string]*netplay.Spectator{"watching": watchMatch(t, m, "10.0.0.20:7000", 0, pad)}
	m.runUntil(4*time.Second, func() bool { return m.clock.Now() >= 4*time.Second })
	m.kill(1)
	m.runUntil(5*time.Second, func() bool { return m.clock.Now() >= 5*time.Second })
	sps["during the pause, of player 0"] = watchMatch(t, m, "10.0.0.23:7000", 0, pad)
	m.runUntil(6*time.Second, func() bool { return m.clock.Now() >= 6*time.Second })
	m.start(1)
	m.runUntil(60*time.Second, func() bool {
		return m.runners[1].Match().Rejoined() && m.runners[0].BaseFrame() > 0 &&
			m.runners[0].Rejoin().Phase == netplay.RejoinNone && m.runners[1].Rejoin().Phase == netplay.RejoinNone
	})
	sps["late, of player 0"] = watchMatch(t, m, "10.0.0.21:7000", 0, pad)
	sps["late, of player 1"] = watchMatch(t, m, "10.0.0.22:7000", 1, pad)
	m.runUntil(120*time.Second, func() bool {
		for _, sp := range sps {
			if !sp.Done() {
				return false
			}
		}
		return m.allDone()
	})
	m.checkFinished(false)
	checkWatched(t, finish, m.runners[0].Result().Checksum, sps)
	if sp := sps["late, of player 1"]; sp.Session().Feeder() != 1 {
		t.Errorf("the spectator of player 1 is fed by player %d", sp.Session().Feeder())
	}
}

// TestSpectatorFeederLeaves: three players; player 0, which feeds the spectator, quits 4 s
// in and the other two play on. The spectator turns to player 1 without a restart and ends
// on the survivors' checksum at the finish. Seed 22; 2% loss.
func TestSpectatorFeederLeaves(t *testing.T) {
	const finish, pad = 900, 0
	link := transport.LinkConfig{Latency: 15 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0.02}
	m := newMatch(t, 3, 22, pad, link, finish, withSpectators)
	sp := watchMatch(t, m, "10.0.0.20:7000", 0, pad)
	m.runUntil(4*time.Second, func() bool { return m.clock.Now() >= 4*time.Second })
	m.runners[0].Quit()
	m.runUntil(120*time.Second, func() bool { return sp.Done() && m.allDone() })
	if res := m.runners[0].Result(); res.Reason != netplay.EndQuit {
		t.Errorf("player 0: %v, want it to have quit", res)
	}
	a, b := m.runners[1].Result(), m.runners[2].Result()
	if a.Reason != netplay.EndFinished || b.Reason != netplay.EndFinished || a.Checksum != b.Checksum || a.Frame != finish {
		t.Fatalf("the survivors did not finish alike: %v / %v", a, b)
	}
	checkWatched(t, finish, a.Checksum, map[string]*netplay.Spectator{"spectator": sp})
	if f := sp.Session().Feeder(); f != 1 {
		t.Errorf("the spectator is fed by player %d, want player 1", f)
	}
}

// TestSpectatorFeederKilled: player 0, which feeds the spectator, is killed 4 s in (no
// goodbye), over a link that brings its inputs to the others late, and started again 2 s
// later with other inputs; it rejoins. The spectator, silent on its feeder
// for the disconnect timeout, turns to player 1 without a restart, which feeds it from
// the frame it holds (every frame it was shown, player 1 holds: lockstep records only rows
// every running player holds) through the pause and the next leg, and it ends on the
// players' checksum at the finish. Two and three players; 2% loss.
func TestSpectatorFeederKilled(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		seed uint64
	}{{"2 players", 2, 23}, {"3 players", 3, 24}} {
		t.Run(tc.name, func(t *testing.T) {
			const finish, pad = 1500, 3000
			link := transport.LinkConfig{Latency: 15 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0.02}
			starts := 0
			otherInputs := func(p int, c *netplay.Config) {
				if p != 0 {
					return
				}
				if starts++; starts > 1 {
					// The restarted player 0 plays other inputs than the dead one would
					// have: a frame the spectator was shown with an input of the dead
					// one that the others never got would show.
					c.Input = func(f lockstep.Frame, dst []byte) []byte { return append(dst, byte(f*7+99)) }
				}
			}
			m := newMatch(t, tc.n, tc.seed, pad, link, finish, withSpectators, otherInputs)
			sp := watchMatch(t, m, "10.0.0.20:7000", 0, pad)
			m.runUntil(3*time.Second, func() bool { return m.clock.Now() >= 3*time.Second })
			// Player 0's inputs now take 100 ms to the others, theirs 15 ms to it: it
			// confirms frames some frames before the others hold its inputs of them, and
			// dies so.
			for p := 1; p < tc.n; p++ {
				m.net.SetLink(m.addrs[0], m.addrs[p], transport.LinkConfig{Latency: 100 * time.Millisecond})
			}
			m.runUntil(4*time.Second, func() bool { return m.clock.Now() >= 4*time.Second })
			m.kill(0)
			m.runUntil(6*time.Second, func() bool { return m.clock.Now() >= 6*time.Second })
			m.start(0)
			m.runUntil(120*time.Second, func() bool { return sp.Done() && m.allDone() })
			m.checkFinished(false)
			checkWatched(t, finish, m.runners[0].Result().Checksum, map[string]*netplay.Spectator{"spectator": sp})
			if f := sp.Session().Feeder(); f != 1 {
				t.Errorf("the spectator is fed by player %d, want player 1", f)
			}
		})
	}
}

// TestSpectatorLateToALongMatch: a player keeps 10 to 20 s of inputs for spectators and the
// state they start from; a spectator that comes 30 s into a 40 s match is handed that state
// instead of fast-forwarding from frame 0, and ends on the players' checksum. Another, asked
// to stop at a frame no longer kept, says so. Seed 25.
func TestSpectatorLateToALongMatch(t *testing.T) {
	const finish, pad = 2400, 2000
	m := newMatch(t, 2, 25, pad, transport.LinkConfig{Latency: 10 * time.Millisecond, Loss: 0.02}, finish, withSpectators)
	m.runUntil(30*time.Second, func() bool { return m.clock.Now() >= 30*time.Second })
	var handed []lockstep.Event
	late, err := m.sim.Watch(netip.MustParseAddrPort("10.0.0.20:7000"), 0, netplay.SpectatorConfig{
		FinishAt: finish,
		NewGame:  func(netplay.Watched) (lockstep.Game, error) { return newBulky(pad), nil },
		OnEvent: func(e lockstep.Event) {
			if e.Kind == lockstep.EventHandover {
				handed = append(handed, e)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	early, err := m.sim.Watch(netip.MustParseAddrPort("10.0.0.21:7000"), 0, netplay.SpectatorConfig{
		FinishAt: 300,
		NewGame:  func(netplay.Watched) (lockstep.Game, error) { return newBulky(pad), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	m.runUntil(120*time.Second, func() bool { return late.Done() && early.Done() && m.allDone() })
	m.checkFinished(false)
	checkWatched(t, finish, m.runners[0].Result().Checksum, map[string]*netplay.Spectator{"late": late})
	t.Logf("the late spectator was handed %+v", handed)
	if len(handed) != 1 || handed[0].Frame < finish/4 || handed[0].Total != 16+pad {
		t.Errorf("the late spectator was handed %+v, want one state of %d bytes past frame %d", handed, 16+pad, finish/4)
	}
	if res := early.Result(); res.Reason != netplay.EndFailed || res.Err == nil || !strings.Contains(res.Err.Error(), "past FinishAt 300") {
		t.Errorf("a spectator asked to stop at frame 300, 30 s in: %v (%v)", res, res.Err)
	}
}
