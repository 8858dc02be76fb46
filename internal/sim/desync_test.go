package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/internal/diverge"
	"p2pa/lockstep"
	"p2pa/transport"
)

// nudgeOne makes player p's game diverge at frame at (diverge.Game).
func nudgeOne(p int, at int32) func(int, int, *game.State) lockstep.Game {
	return func(player, _ int, st *game.State) lockstep.Game {
		if player == p {
			return &diverge.Game{State: st, At: at}
		}
		return st
	}
}

// changedFields lists the field names on the "-" and "+" lines of a go-cmp report.
// go-cmp puts random non-breaking spaces after the markers; strings.Fields splits on them.
func changedFields(diff string) []string {
	var names []string
	for line := range strings.SplitSeq(diff, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "-" && f[0] != "+") {
			continue
		}
		name := strings.TrimSuffix(f[1], ":")
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

func desyncEvents(p *Peer) []lockstep.Event {
	var out []lockstep.Event
	for _, e := range p.Events {
		if e.Kind == lockstep.EventDesync {
			out = append(out, e)
		}
	}
	return out
}

// checkDesync runs a scenario in which player 1's game diverges at frame divergeAt and
// checks that both peers catch it at the first checksum frame after it, stop there, and
// keep states whose difference names the nudged field.
func checkDesync(t *testing.T, sc Scenario, c Coins, divergeAt int32) {
	t.Helper()
	interval := sc.Session.ChecksumInterval
	if interval == 0 {
		interval = 60
	}
	c.Wrap = nudgeOne(1, divergeAt)
	sc.Session.StopOnDesync = true // the match stops at the desync, as before resync
	s, err := New(sc, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Play(); err != nil {
		t.Fatal(err)
	}

	// The sim's own record of confirmed checksums: the first frame that differs is the
	// nudged one (the state after the step that ends at divergeAt).
	_, cmpErr := s.Compare()
	var first int
	if cmpErr == nil {
		t.Fatalf("Compare found no difference; the nudge did not diverge")
	} else if _, err := fmt.Sscanf(cmpErr.Error(), "frame %d:", &first); err != nil || first != int(divergeAt) {
		t.Fatalf("first differing confirmed frame: %v; want frame %d", cmpErr, divergeAt)
	}
	// The first checksum frame at or after the divergence.
	want := lockstep.Frame((int(divergeAt) + interval - 1) / interval * interval)

	var states [2][]byte
	var frames [2]lockstep.Frame
	for i, p := range s.Peers {
		evs := desyncEvents(p)
		if len(evs) != 1 {
			t.Errorf("player %d: %d desync events, want 1 (state %s, frame %d, err %v); events: %v",
				p.Player, len(evs), p.Runner.Session().State(), p.Runner.Session().Frame(), p.Runner.Session().Err(), p.Events)
			continue
		}
		e := evs[0]
		if e.Frame != want || int(e.Frame)-int(divergeAt) >= interval {
			t.Errorf("player %d: desync at frame %d, want %d (first checksum frame after the divergence at %d)", p.Player, e.Frame, want, divergeAt)
		}
		if e.Player != 1-p.Player || e.Local == e.Remote {
			t.Errorf("player %d: desync event %v", p.Player, e)
		}
		if !errors.Is(p.Runner.Session().Err(), lockstep.ErrDesync) {
			t.Errorf("player %d: Err() = %v, want it to wrap ErrDesync", p.Player, p.Runner.Session().Err())
		}
		if p.Runner.Session().Running() || p.Runner.Session().State() != lockstep.StateDesync {
			t.Errorf("player %d: state %s after a desync", p.Player, p.Runner.Session().State())
		}
		// Caught within one checksum interval: the peer did not play on far past it.
		if got := p.Runner.Session().Frame(); int(got-e.Frame) > interval {
			t.Errorf("player %d: at frame %d when the desync of frame %d stopped it", p.Player, got, e.Frame)
		}
		f, st, ok := p.Runner.Session().DesyncState()
		if !ok || f != e.Frame {
			t.Errorf("player %d: DesyncState() = frame %d, %v; want frame %d", p.Player, f, ok, e.Frame)
		}
		states[i] = st
		frames[i] = p.Runner.Session().Frame()
	}
	if t.Failed() {
		return
	}
	// Cross-check the events: each side's local checksum is the other's remote one.
	e0, e1 := desyncEvents(s.Peers[0])[0], desyncEvents(s.Peers[1])[0]
	if e0.Local != e1.Remote || e1.Local != e0.Remote {
		t.Errorf("desync events disagree: player 0 %v, player 1 %v", e0, e1)
	}
	// The saved states are the states of that frame, and their difference is the nudge.
	for i, st := range states {
		g, err := game.Decode(st)
		if err != nil {
			t.Fatalf("player %d: desync state does not decode: %v", i, err)
		}
		if g.Frame() != int32(want) {
			t.Errorf("player %d: desync state is at frame %d, want %d", i, g.Frame(), want)
		}
		if sum := g.Checksum(); sum != desyncEvents(s.Peers[i])[0].Local {
			t.Errorf("player %d: desync state's checksum %016x is not the reported %016x", i, sum, desyncEvents(s.Peers[i])[0].Local)
		}
	}
	diff, err := game.Diff(states[0], states[1])
	if err != nil {
		t.Fatal(err)
	}
	if names := changedFields(diff); !slices.Equal(names, []string{"X"}) || !strings.Contains(diff, "coins: []game.Coin{") {
		t.Errorf("Diff names %q, want only coin X:\n%s", names, diff)
	}

	// Both stay stopped: two more seconds of ticks advance neither.
	for range 120 {
		if err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range s.Peers {
		if p.Runner.Session().Frame() != frames[i] {
			t.Errorf("player %d advanced from frame %d to %d after the desync", p.Player, frames[i], p.Runner.Session().Frame())
		}
		if n := len(desyncEvents(p)); n != 1 {
			t.Errorf("player %d: %d desync events after two more seconds", p.Player, n)
		}
	}
	t.Logf("desync at frame %d; stopped at frames %d and %d after %d ticks", want, frames[0], frames[1], s.Ticks)
}

func TestDesyncDetectedOnBothPeers(t *testing.T) {
	t.Parallel()
	links := []struct {
		name string
		link transport.LinkConfig
		cfg  lockstep.Config
	}{
		{"perfect", transport.LinkConfig{}, lockstep.Config{}},
		{"30ms", transport.LinkConfig{Latency: 30 * time.Millisecond, Jitter: 5 * time.Millisecond}, lockstep.Config{}},
		{"150ms-delay2", transport.LinkConfig{Latency: 150 * time.Millisecond}, lockstep.Config{InputDelay: 2}},
		{"interval7", transport.LinkConfig{Latency: 20 * time.Millisecond}, lockstep.Config{ChecksumInterval: 7}},
	}
	for _, l := range links {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", l.name, seed), func(t *testing.T) {
				t.Parallel()
				checkDesync(t, Scenario{Frames: 900, Seed: seed, Link: l.link, Session: l.cfg}, Coins{Mode: game.Versus}, 500)
			})
		}
	}
}

// TestDesyncDetectedOnBothPeersLossy is the same check on a lossy link. It guards a fixed
// bug: the peer that detects the desync first stops
// sending at once, so its own checksum report (meant to ride on three messages in case
// one is lost) goes out once or not at all, and the other peer never learns of the desync:
// it stalls, then drops the silent peer and plays on alone.
func TestDesyncDetectedOnBothPeersLossy(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			checkDesync(t, Scenario{Frames: 900, Seed: seed, Link: transport.LinkConfig{Loss: 0.2}}, Coins{}, 500)
		})
	}
}

// desyncInput changes every player's input at frame 0 and nearly every frame after, with
// buttons pressed and released at random, so almost every prediction is wrong and rounds
// start, collect and end over and over.
func desyncInput(p int, f lockstep.Frame) game.Input {
	h := uint64(f)*4 + uint64(p) + 0x9e3779b97f4a7c15
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return game.Input{
		X:       int16(h%900) - 50,
		Y:       int16(h>>16%700) - 50,
		Buttons: game.Buttons(h>>40) & (game.ButtonLeft | game.ButtonRight),
	}
}

// TestDesyncNoFalseAlarms: a long match full of mispredictions and deep rollbacks, with a
// checksum comparison every frame, must never report a desync, and the sim's own record of
// the confirmed checksums must agree.
func TestDesyncNoFalseAlarms(t *testing.T) {
	t.Parallel()
	frames := 10000
	if testing.Short() {
		frames = 2000
	}
	if in := desyncInput(0, 0); in == (game.Input{}) {
		t.Fatal("the scripted input of frame 0 equals the prediction")
	}
	s, err := New(Scenario{
		Frames:  frames,
		Seed:    11,
		Link:    transport.LinkConfig{Latency: 150 * time.Millisecond},
		Session: lockstep.Config{InputDelay: 0, ChecksumInterval: 1},
	}, Coins{Mode: game.Versus, Input: desyncInput})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Play(); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Peers {
		st := p.Runner.Session().Stats(nil)
		t.Logf("player %d: frame %d, %d rollbacks re-simulating %d frames, deepest %d, round %d",
			p.Player, st.Frame, st.Rollbacks, st.RollbackFrames, p.Runner.Counters().MaxDepth, s.State(p).Round())
		if n := p.Count(lockstep.EventDesync); n != 0 || p.Runner.Session().Err() != nil {
			t.Errorf("player %d: %d desync events, err %v", p.Player, n, p.Runner.Session().Err())
		}
		if n := p.Count(lockstep.EventDisconnected) + p.Count(lockstep.EventFailed); n != 0 {
			t.Errorf("player %d: %d disconnect/failure events: %v", p.Player, n, p.Events)
		}
		// The inputs really were mispredicted, deeply, and the game really played.
		if st.Rollbacks < int64(frames)/2 || p.Runner.Counters().MaxDepth < 8 {
			t.Errorf("player %d: only %d rollbacks, deepest %d: the scenario does not stress prediction", p.Player, st.Rollbacks, p.Runner.Counters().MaxDepth)
		}
		if s.State(p).Round() < 2 {
			t.Errorf("player %d: still in round %d: the game did not play", p.Player, s.State(p).Round())
		}
	}
	n, err := s.Compare()
	if err != nil {
		t.Fatal(err)
	}
	if n < frames-10 {
		t.Errorf("compared %d frames of %d", n, frames)
	}
}

// countingHandler is a debug-level text handler on io.Discard that counts its records.
type countingHandler struct {
	slog.Handler
	n *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.n.Add(1)
	return h.Handler.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{h.Handler.WithAttrs(as), h.n}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.Handler.WithGroup(name), h.n}
}

// TestDesyncLoggingChangesNothing: verbose logging must not change a single checksum (nor
// a rollback or an event): the same scenario with a debug logger and without.
func TestDesyncLoggingChangesNothing(t *testing.T) {
	t.Parallel()
	var logged atomic.Int64
	logger := slog.New(countingHandler{slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}), &logged})
	sc := Scenario{
		Frames: 1500,
		Seed:   21,
		Link:   transport.LinkConfig{Latency: 40 * time.Millisecond, Jitter: 15 * time.Millisecond, Loss: 0.05, Dup: 0.01, Reorder: 0.01},
	}
	var runs [2]*Sim
	for i := range runs {
		c := sc
		if i == 1 {
			c.Session.Logger = logger
		}
		s, err := New(c, Coins{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Play(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Compare(); err != nil {
			t.Fatal(err)
		}
		runs[i] = s
	}
	if logged.Load() == 0 {
		t.Fatal("the debug logger was never called")
	}
	quiet, verbose := runs[0], runs[1]
	if quiet.Ticks != verbose.Ticks {
		t.Errorf("%d ticks without logging, %d with", quiet.Ticks, verbose.Ticks)
	}
	compared := 0
	for i := range quiet.Peers {
		a, b := quiet.Peers[i], verbose.Peers[i]
		for f := 0; f <= sc.Frames; f++ {
			sa, oka := a.Checksum(lockstep.Frame(f))
			sb, okb := b.Checksum(lockstep.Frame(f))
			if oka != okb || sa != sb {
				t.Fatalf("player %d frame %d: checksum %016x (%v) without logging, %016x (%v) with", i, f, sa, oka, sb, okb)
			}
			if oka {
				compared++
			}
		}
		qs, vs := a.Runner.Session().Stats(nil), b.Runner.Session().Stats(nil)
		if qs.Rollbacks != vs.Rollbacks || qs.RollbackFrames != vs.RollbackFrames || len(a.Events) != len(b.Events) {
			t.Errorf("player %d: %d rollbacks (%d frames), %d events without logging; %d (%d), %d with",
				i, qs.Rollbacks, qs.RollbackFrames, len(a.Events), vs.Rollbacks, vs.RollbackFrames, len(b.Events))
		}
	}
	if compared < 2*(sc.Frames-10) {
		t.Errorf("only %d confirmed checksums compared", compared)
	}
	t.Logf("%d checksums identical; %d log records", compared, logged.Load())
}
