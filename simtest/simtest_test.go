package simtest_test

import (
	"encoding/binary"
	"errors"
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
