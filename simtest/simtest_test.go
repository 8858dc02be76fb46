package simtest_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/simtest"
	"p2pa/transport"
)

// mixer is a small deterministic game. forget, if set, leaves part of the state (the
// running mix that each frame folds into the total) out of the save: the classic rollback
// bug. The saved total still differs between peers once a rollback has lost the mix, so
// the harness, which compares checksums of saved states, must catch it.
type mixer struct {
	frame, total, mix uint64
	forget            bool
}

func (m *mixer) AdvanceFrame(in []byte) {
	m.frame++
	m.mix = m.mix*6364136223846793005 + 1442695040888963407
	for _, b := range in {
		m.total = m.total*31 + uint64(b) + 1 + m.mix>>60
	}
}

func (m *mixer) SaveState(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, m.frame)
	dst = binary.LittleEndian.AppendUint64(dst, m.total)
	if !m.forget {
		dst = binary.LittleEndian.AppendUint64(dst, m.mix)
	}
	return dst
}

func (m *mixer) LoadState(b []byte) error {
	want := 24
	if m.forget {
		want = 16
	}
	if len(b) != want {
		return errors.New("mixer: bad state length")
	}
	m.frame = binary.LittleEndian.Uint64(b)
	m.total = binary.LittleEndian.Uint64(b[8:])
	if !m.forget {
		m.mix = binary.LittleEndian.Uint64(b[16:])
	}
	return nil
}

func input(p int, f lockstep.Frame, dst []byte) []byte {
	return append(dst, byte((int(f)/(9+p))%3)) // changes every few frames, so predictions miss
}

func TestScenarios(t *testing.T) {
	lossy := transport.LinkConfig{Latency: 60 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05}
	tests := []struct {
		name string
		sc   simtest.Scenario
	}{
		{"2players-lossy", simtest.Scenario{Seed: 101, Link: lossy}},
		{"3players-asymmetric", simtest.Scenario{Players: 3, Seed: 102, LinkFor: func(from, to int) transport.LinkConfig {
			return transport.LinkConfig{Latency: time.Duration(10+20*from) * time.Millisecond, Loss: 0.02}
		}}},
		{"4players-outage", simtest.Scenario{Players: 4, Seed: 103, Link: transport.LinkConfig{Latency: 20 * time.Millisecond,
			Outages: []transport.Outage{{From: 2 * time.Second, To: 2500 * time.Millisecond}}}}},
		{"late-start", simtest.Scenario{Seed: 104, Link: lossy, Start: func(p int) time.Duration { return time.Duration(p) * 700 * time.Millisecond }}},
		{"input-delay", simtest.Scenario{Seed: 105, Link: lossy, Session: lockstep.Config{InputDelay: 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc
			sc.Session.InputSize = 1
			sc.Session.Game = "mixer"
			sc.NewGame = func(int, uint64) (lockstep.Game, error) { return &mixer{}, nil }
			sc.Input = input
			rep, err := simtest.Run(sc)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Err != nil {
				t.Fatal(rep.Err)
			}
			if rep.Compared == 0 {
				t.Fatal("nothing compared")
			}
			for _, p := range rep.Peers {
				if p.Result.Frame != 600 || !p.Result.Confirmed || p.Result.Checksum != rep.Peers[0].Result.Checksum {
					t.Fatalf("player %d: %v", p.Player, p.Result)
				}
				if p.MaxDepth > 8 {
					t.Fatalf("player %d rolled back %d frames, past the prediction window", p.Player, p.MaxDepth)
				}
			}
		})
	}
}

// A peer that vanishes from a 3-player match: the survivors agree on the frame it left at
// (one event each, the same frame) and play on to the end, where they agree again.
func TestVanish(t *testing.T) {
	rep, err := simtest.Run(simtest.Scenario{
		Players: 3, Seed: 106, Link: transport.LinkConfig{Latency: 30 * time.Millisecond},
		Session: lockstep.Config{InputSize: 1, DisconnectTimeout: time.Second, InterruptTimeout: 200 * time.Millisecond},
		NewGame: func(int, uint64) (lockstep.Game, error) { return &mixer{}, nil },
		Input:   input,
		Vanish: func(p int) time.Duration {
			if p == 2 {
				return 3 * time.Second
			}
			return 0
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err != nil {
		t.Fatal(rep.Err)
	}
	a, b := rep.Peers[0].Result, rep.Peers[1].Result
	if a.Frame != b.Frame || a.Checksum != b.Checksum || !a.Confirmed || a.Frame != 600 || a.Reason != netplay.EndFinished {
		t.Fatalf("survivors: %v and %v", a, b)
	}
	left := lockstep.NullFrame
	for _, p := range rep.Peers[:2] {
		var frames []lockstep.Frame
		for _, e := range p.Events {
			if e.Kind == lockstep.EventDisconnected && e.Player == 2 {
				frames = append(frames, e.Frame)
			}
		}
		if len(frames) != 1 || (left != lockstep.NullFrame && frames[0] != left) {
			t.Fatalf("player %d: departures of player 2 at %v; the other survivor: %d", p.Player, frames, left)
		}
		left = frames[0]
	}
}

// A game that forgets part of its state in SaveState diverges after the first rollback;
// the harness must say so.
func TestCatchesForgetfulGame(t *testing.T) {
	rep, err := simtest.Run(simtest.Scenario{
		Seed: 107, Link: transport.LinkConfig{Latency: 50 * time.Millisecond, Loss: 0.05},
		Session: lockstep.Config{InputSize: 1},
		NewGame: func(p int, _ uint64) (lockstep.Game, error) { return &mixer{forget: true}, nil },
		Input:   input,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err == nil {
		t.Fatalf("a forgetful game passed: %+v", rep.Peers)
	}
}

// refuser is a mixer whose LoadState fails from its second rollback on: a game bug that
// shows only on one peer.
type refuser struct {
	mixer
	loads int
}

var errRefused = errors.New("refuser: cannot load")

func (r *refuser) LoadState(b []byte) error {
	if r.loads++; r.loads > 1 {
		return errRefused
	}
	return r.mixer.LoadState(b)
}

// A game whose LoadState fails on player 1: the report names that failure, on player 1,
// first, rather than only the checksum mismatch it causes at a later frame.
func TestReportsLoadFailureFirst(t *testing.T) {
	rep, err := simtest.Run(simtest.Scenario{
		Seed: 108, Link: transport.LinkConfig{Latency: 50 * time.Millisecond},
		Session: lockstep.Config{InputSize: 1},
		NewGame: func(p int, _ uint64) (lockstep.Game, error) {
			if p == 1 {
				return &refuser{}, nil
			}
			return &mixer{}, nil
		},
		Input: input,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rep.Err, errRefused) {
		t.Fatalf("report: %v; want the LoadState failure", rep.Err)
	}
	t.Log(rep.Err)
	if want := "player 1: failed: load state of frame "; !strings.HasPrefix(rep.Err.Error(), want) {
		t.Errorf("report %q; want it to start %q", rep.Err, want)
	}
}

// drifting is a mixer that adds one to its total every frame: a game that is not
// deterministic across processes, for a restarted process to diverge with.
type drifting struct{ mixer }

func (d *drifting) AdvanceFrame(in []byte) {
	d.mixer.AdvanceFrame(in)
	d.total++
}

// countingConn counts what a process writes.
type countingConn struct {
	transport.Conn
	writes *int
}

func (c countingConn) WriteTo(b []byte, to netip.AddrPort) error {
	*c.writes++
	return c.Conn.WriteTo(b, to)
}

// TestFaults: what the harness adds to a plain match (restarts and rejoins, link changes,
// Hold, on-tick delivery, wrapped endpoints) keeps the peers agreeing at every frame, and a
// restarted process whose game diverges is caught. Every case states its seed.
func TestFaults(t *testing.T) {
	const ms = time.Millisecond
	lan := transport.LinkConfig{Latency: 15 * ms, Jitter: 3 * ms}
	lossy := transport.LinkConfig{Latency: 25 * ms, Loss: 0.10}
	restart := func(p int, at, back time.Duration) []simtest.Restart {
		return []simtest.Restart{{Player: p, At: at, Back: back}}
	}
	tests := []struct {
		name string
		sc   simtest.Scenario
		// drift makes the restarted processes' games diverge: the run must fail.
		drift bool
		// minCompared is how many frame pairs the run must compare; default 500.
		minCompared int
		check       func(t *testing.T, s *simtest.Sim)
	}{
		{name: "on-tick", sc: simtest.Scenario{Seed: 111, Link: lan, Delivery: simtest.OnTick}},
		// Every datagram lost for 2 s: longer than the interrupt timeout (750 ms), shorter
		// than the disconnect timeout (5 s).
		{name: "link-change-outage", sc: simtest.Scenario{Seed: 112, Frames: 900, Link: lan, LinkChanges: []simtest.LinkChange{
			{At: 3 * time.Second, Link: transport.LinkConfig{Latency: 15 * ms, Loss: 1}}, {At: 5 * time.Second, Link: lan}}},
			check: func(t *testing.T, s *simtest.Sim) {
				for _, p := range s.Peers {
					if p.Count(lockstep.EventInterrupted) != 1 || p.Count(lockstep.EventDisconnected) != 0 {
						t.Errorf("player %d: events %v, want one interruption and no disconnect", p.Player, p.Events)
					}
				}
			}},
		{name: "hold-vanish", minCompared: 200, sc: simtest.Scenario{Seed: 113, Link: lan, Hold: true,
			Session: lockstep.Config{DisconnectTimeout: time.Second, InterruptTimeout: 200 * ms},
			Vanish:  func(p int) time.Duration { return time.Duration(p) * 4 * time.Second }},
			check: func(t *testing.T, s *simtest.Sim) {
				// Player 0 plays on alone to the end and holds there: its match does not end.
				p0 := s.Peers[0]
				if !s.Peers[1].Gone || p0.Runner.Done() || p0.Runner.Frame() != 600 {
					t.Errorf("player 0 at frame %d, done %v; player 1 gone %v", p0.Runner.Frame(), p0.Runner.Done(), s.Peers[1].Gone)
				}
			}},
		{name: "wrapped-conns", sc: simtest.Scenario{Seed: 114, Link: lan}},
		{name: "2p-restart-player1", sc: simtest.Scenario{Seed: 115, Frames: 900, Link: lan, Rejoin: 10 * time.Second,
			Restarts: restart(1, 3*time.Second, 5*time.Second)}},
		{name: "2p-restart-player0-lossy", sc: simtest.Scenario{Seed: 116, Frames: 900, Link: lossy, Rejoin: 10 * time.Second,
			Restarts: restart(0, 3*time.Second, 4*time.Second)}},
		{name: "3p-restart-hold-ontick", sc: simtest.Scenario{Players: 3, Seed: 117, Frames: 900, Link: lan, Rejoin: 10 * time.Second,
			Hold: true, Delivery: simtest.OnTick, Restarts: restart(2, 3*time.Second, 5*time.Second)}},
		{name: "4p-two-restarts", sc: simtest.Scenario{Players: 4, Seed: 118, Frames: 1200, Link: lan, Rejoin: 10 * time.Second,
			Restarts: []simtest.Restart{{Player: 1, At: 2 * time.Second, Back: 3 * time.Second}, {Player: 1, At: 8 * time.Second, Back: 9 * time.Second}}}},
		{name: "vanished-then-restarted", sc: simtest.Scenario{Seed: 120, Frames: 900, Link: lan, Rejoin: 10 * time.Second,
			Vanish:   func(p int) time.Duration { return time.Duration(p) * 3 * time.Second },
			Restarts: restart(1, 4*time.Second, 5*time.Second)}},
		{name: "restarted-game-diverges", drift: true, sc: simtest.Scenario{Seed: 119, Frames: 900, Link: lan, Rejoin: 10 * time.Second,
			Restarts: restart(1, 3*time.Second, 5*time.Second)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc
			sc.Session.InputSize = 1
			sc.Input = input
			var writes [4]int
			sc.WrapConn = func(p int, c transport.Conn) transport.Conn { return countingConn{c, &writes[p]} }
			var s *simtest.Sim
			sc.NewGame = func(p int, _ uint64) (lockstep.Game, error) {
				if tc.drift && s.Peers[p].Life > 0 {
					return &drifting{}, nil
				}
				return &mixer{}, nil
			}
			var err error
			if s, err = simtest.New(sc); err != nil {
				t.Fatal(err)
			}
			rep := s.Run()
			if tc.drift {
				if rep.Err == nil {
					t.Fatal("a restarted process whose game diverges passed")
				}
				if _, err := s.Compare(); err == nil {
					t.Error("Compare found no difference between the rejoiner and the survivor")
				}
				t.Logf("seed %d: %v", sc.Seed, rep.Err)
				return
			}
			if rep.Err != nil {
				t.Fatalf("seed %d: %v", sc.Seed, rep.Err)
			}
			want := tc.minCompared
			if want == 0 {
				want = 500
			}
			if rep.Compared < want {
				t.Errorf("seed %d: %d frame pairs compared, want at least %d", sc.Seed, rep.Compared, want)
			}
			for _, p := range s.Peers {
				if writes[p.Player] == 0 {
					t.Errorf("player %d wrote nothing through its wrapped endpoint", p.Player)
				}
				if d := p.Runner.Counters().MaxDepth; d > 8 {
					t.Errorf("player %d rolled back %d frames, past the prediction window", p.Player, d)
				}
				if p.RewrittenEarly != 0 {
					t.Errorf("player %d: %d frames at or before a resume frame reported again with another checksum", p.Player, p.RewrittenEarly)
				}
			}
			if len(sc.Restarts) != len(s.Dead) {
				t.Errorf("%d restarts, %d dead processes", len(sc.Restarts), len(s.Dead))
			}
			for _, r := range sc.Restarts {
				p := s.Peers[r.Player]
				if f, ok := p.JoinedAt(); !ok || f <= 0 || p.Life == 0 {
					t.Errorf("player %d (life %d) did not rejoin: %+v", r.Player, p.Life, p.Rejoins)
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestDeliveryString(t *testing.T) {
	for d, want := range map[simtest.Delivery]string{simtest.OnArrival: "on-arrival", simtest.OnTick: "on-tick", 7: "Delivery(7)"} {
		if got := d.String(); got != want {
			t.Errorf("%d: %q, want %q", d, got, want)
		}
	}
}
