package netplay_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

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
