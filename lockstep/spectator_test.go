package lockstep

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func watcherAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 2}), uint16(9500+i))
}

// watchNet plays a match of players sessions and some spectators over links of one latency,
// losing a share of every datagram, on a virtual clock.
type watchNet struct {
	t        *testing.T
	now      time.Duration
	latency  time.Duration
	jitter   time.Duration
	loss     float64
	rng      *rand.Rand
	sessions []*Session
	games    []*toyGame
	sums     []map[Frame]uint64 // confirmed checksums by player
	specs    []*Spectator
	sgames   []*toyGame
	specAt   []time.Duration // when each spectator starts
	specGone []bool          // vanished: neither sends nor receives
	gone     []bool          // players that vanished: neither send nor receive
	inflight []watchPacket
}

type watchPacket struct {
	from, to netip.AddrPort
	due      time.Duration
	data     []byte
}

func newWatchNet(t *testing.T, players int, latency time.Duration, loss float64) *watchNet {
	w := &watchNet{t: t, latency: latency, loss: loss, rng: rand.New(rand.NewPCG(uint64(players), 5))}
	for p := range players {
		addrs := make([]netip.AddrPort, players)
		for q := range addrs {
			if p != 0 {
				addrs[q] = nodeAddr(q)
			}
		}
		cfg := Config{Players: players, InputSize: 3, Nonce: uint64(p) + 11, Seed: 3}
		if p == 0 {
			cfg.Spectators = 2
		}
		s, err := NewSession(cfg, p, addrs)
		if err != nil {
			t.Fatal(err)
		}
		w.sessions = append(w.sessions, s)
		w.games = append(w.games, &toyGame{})
		w.sums = append(w.sums, map[Frame]uint64{})
		w.gone = append(w.gone, false)
	}
	return w
}

func (w *watchNet) addSpectator(at time.Duration) int {
	sp, err := NewSpectator(Config{Nonce: uint64(len(w.specs)) + 101}, nodeAddr(0))
	if err != nil {
		w.t.Fatal(err)
	}
	w.specs = append(w.specs, sp)
	w.sgames = append(w.sgames, &toyGame{})
	w.specAt = append(w.specAt, at)
	w.specGone = append(w.specGone, false)
	return len(w.specs) - 1
}

func (w *watchNet) send(from netip.AddrPort, ds []Datagram) {
	for _, d := range ds {
		if w.rng.Float64() < w.loss {
			continue
		}
		due := w.now + w.latency
		if w.jitter > 0 {
			due += time.Duration(w.rng.Int64N(int64(w.jitter)))
		}
		w.inflight = append(w.inflight, watchPacket{from: from, to: d.To, due: due, data: append([]byte(nil), d.Data...)})
	}
}

func (w *watchNet) deliver(to netip.AddrPort, recv func(from netip.AddrPort, d []byte)) {
	keep := w.inflight[:0]
	for _, p := range w.inflight {
		if p.to == to && p.due <= w.now {
			if recv != nil {
				recv(p.from, p.data)
			}
			continue
		}
		keep = append(keep, p)
	}
	w.inflight = keep
}

// step runs one tick; players stop advancing at frame frames.
func (w *watchNet) step(frames Frame) {
	for p, s := range w.sessions {
		if w.gone[p] {
			w.deliver(nodeAddr(p), nil)
			continue
		}
		w.deliver(nodeAddr(p), func(from netip.AddrPort, d []byte) { s.Receive(from, d, w.now) })
		in := stepInput(p, s.LastLocalFrame()+1)
		if s.Frame() >= frames {
			in = nil
		}
		_, reqs, err := s.Step(w.now, in)
		if err != nil {
			w.t.Fatal(err)
		}
		if err := Apply(w.games[p], reqs); err != nil {
			w.t.Fatal(err)
		}
		for f := range s.ConfirmedFrame() + 1 {
			if _, ok := w.sums[p][f]; !ok {
				if sum, ok := s.Checksum(f); ok {
					w.sums[p][f] = sum
				}
			}
		}
		w.send(nodeAddr(p), s.Outgoing(w.now))
	}
	for i, sp := range w.specs {
		if w.specGone[i] || w.now < w.specAt[i] {
			w.deliver(watcherAddr(i), nil)
			continue
		}
		w.deliver(watcherAddr(i), func(from netip.AddrPort, d []byte) { sp.Receive(from, d, w.now) })
		for _, r := range sp.Step(w.now) {
			if r.Kind == RequestLoad {
				continue // the state it was handed
			}
			if r.Kind != RequestAdvance {
				w.t.Fatalf("spectator %d: a %v request", i, r.Kind)
			}
			for _, st := range r.Status {
				if st != InputConfirmed {
					w.t.Fatalf("spectator %d: input status %v", i, st)
				}
			}
		}
		if err := Apply(w.sgames[i], sp.reqs); err != nil {
			w.t.Fatal(err)
		}
		w.send(watcherAddr(i), sp.Outgoing(w.now))
	}
	w.now += tick
}

// TestSpectators: a spectator from the start and one joining 4 s late (fast-forwarding
// from frame 0) both run exactly the players' game, over a lossy link; a third one finds
// no room; one that vanishes costs the players nothing; when player 0 closes, spectators
// hear of it.
// checkSpectatorsAgree checks that every spectator runs the match of players and holds
// player 0's state at its frame.
func (w *watchNet) checkSpectatorsAgree(t *testing.T, players int) {
	t.Helper()
	for i, sp := range w.specs {
		g := w.sgames[i]
		if !sp.Running() || sp.Players() != players || sp.InputSize() != 3 || sp.Seed() != 3 {
			t.Fatalf("spectator %d: running %v, %d players, input size %d, seed %d", i, sp.Running(), sp.Players(), sp.InputSize(), sp.Seed())
		}
		f := sp.Frame()
		if want, ok := w.sums[0][f]; !ok || g.checksum() != want {
			t.Errorf("spectator %d at frame %d: checksum %016x, player 0's %016x (%v)", i, f, g.checksum(), want, ok)
		}
	}
}

func TestSpectators(t *testing.T) {
	for _, tc := range []struct {
		name    string
		players int
		loss    float64
	}{{"2 players", 2, 0}, {"3 players, loss 10%", 3, 0.10}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWatchNet(t, tc.players, 2*tick, tc.loss)
			early := w.addSpectator(0)
			late := w.addSpectator(4 * time.Second)
			const frames = 600
			for w.sessions[0].Frame() < frames || w.specs[late].Frame() < frames-30 {
				if w.now > 60*time.Second {
					t.Fatalf("not done: players at %d, spectators at %d and %d", w.sessions[0].Frame(), w.specs[early].Frame(), w.specs[late].Frame())
				}
				w.step(frames)
			}
			w.checkSpectatorsAgree(t, tc.players)
			if n := w.sessions[0].Spectators(); n != 2 {
				t.Errorf("player 0 counts %d spectators", n)
			}
			// A third one: no room.
			third := w.addSpectator(w.now)
			for range 120 {
				w.step(frames)
			}
			if err := w.specs[third].Err(); err == nil || !strings.Contains(err.Error(), "no room for spectators") {
				t.Errorf("a third spectator: %v, want no room", err)
			}
			// The early one vanishes; the players play on undisturbed.
			w.specGone[early] = true
			before := w.sessions[0].Frame()
			for range 600 {
				w.step(frames + 400)
			}
			for p, s := range w.sessions {
				if s.Frame() != frames+400 || s.Err() != nil {
					t.Errorf("player %d: frame %d (from %d), err %v", p, s.Frame(), before, s.Err())
				}
			}
			if n := w.sessions[0].Spectators(); n != 1 {
				t.Errorf("player 0 counts %d spectators after one vanished", n)
			}
			// Player 0 closes: the late spectator runs what it has and hears of the end.
			w.send(nodeAddr(0), w.sessions[0].Close(w.now))
			for range 60 {
				w.step(frames + 400)
			}
			sp := w.specs[late]
			if !sp.Ended() {
				t.Errorf("the spectator did not hear player 0 leave: held %d, frame %d", sp.Held(), sp.Frame())
			}
			if f := sp.Frame(); f != frames+400 || w.sgames[late].checksum() != w.sums[1][f] {
				t.Errorf("the spectator ended at frame %d with %016x, player 1 has %016x there", f, w.sgames[late].checksum(), w.sums[1][f])
			}
		})
	}
}

// TestSpectatorsOnABadLink: four players and two spectators, one from the start and one
// joining late, over 150 ms round trips with jitter and 5% loss: the players agree at every
// frame they all confirmed, and each spectator's state is the players' at its frame.
func TestSpectatorsOnABadLink(t *testing.T) {
	frames, lateAt := Frame(10000), 60*time.Second
	if testing.Short() {
		frames, lateAt = 1200, 8*time.Second
	}
	w := newWatchNet(t, 4, 75*time.Millisecond, 0.05)
	w.jitter = 20 * time.Millisecond
	w.addSpectator(0)
	late := w.addSpectator(lateAt)
	limit := time.Duration(frames)*tick*2 + 30*time.Second
	for w.sessions[0].Frame() < frames || w.specs[late].Frame() < frames-60 {
		if w.now > limit {
			t.Fatalf("not done after %v: players at %d, spectators at %d and %d", w.now, w.sessions[0].Frame(), w.specs[0].Frame(), w.specs[late].Frame())
		}
		w.step(frames)
	}
	compared := 0
	for f, sum := range w.sums[0] {
		for p := 1; p < 4; p++ {
			if other, ok := w.sums[p][f]; ok {
				compared++
				if other != sum {
					t.Fatalf("frame %d: player 0 has %016x, player %d %016x", f, sum, p, other)
				}
			}
		}
	}
	if compared < 3*int(frames)*9/10 {
		t.Errorf("only %d frame pairs compared in %d frames", compared, frames)
	}
	for p, s := range w.sessions {
		if s.Err() != nil || s.ConnectedPeers() != 3 {
			t.Errorf("player %d: %v, %d peers", p, s.Err(), s.ConnectedPeers())
		}
	}
	for i, sp := range w.specs {
		f := sp.Frame()
		if want, ok := w.sums[0][f]; !ok || w.sgames[i].checksum() != want {
			t.Errorf("spectator %d at frame %d: %016x, player 0 %016x (%v)", i, f, w.sgames[i].checksum(), want, ok)
		}
	}
}

// TestSpectatorHistoryBounded: over a minute of play every player keeps at most 2×watchKeep
// rows for spectators and, where they start, the very state the players had there; a
// spectator that comes then is handed that state, and runs the players' frames from it.
// Two and three players, every one keeping history.
func TestSpectatorHistoryBounded(t *testing.T) {
	for _, players := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d players", players), func(t *testing.T) {
			w := newWatchNet(t, players, 2*tick, 0.02)
			for _, s := range w.sessions {
				s.cfg.Spectators = 2
			}
			const frames = 3600
			for w.sessions[0].Frame() < frames {
				if w.now > 2*time.Minute {
					t.Fatalf("not done: player 0 at frame %d", w.sessions[0].Frame())
				}
				w.step(frames + 600)
			}
			for p, s := range w.sessions {
				rows := len(s.history) / s.rowSize()
				want, ok := w.sums[p][s.histStart]
				if rows > 2*watchKeep || s.histStart == 0 || !ok || stateChecksum(s.histState) != want {
					t.Errorf("player %d: %d rows from frame %d (at most %d), the state there %016x, the player's %016x (%v)",
						p, rows, s.histStart, 2*watchKeep, stateChecksum(s.histState), want, ok)
				}
			}
			late := w.addSpectator(w.now)
			for range 600 {
				w.step(frames + 600)
			}
			w.checkSpectatorsAgree(t, players)
			if f := w.specs[late].Frame(); f < frames {
				t.Errorf("the late spectator is at frame %d, the players at %d", f, w.sessions[0].Frame())
			}
		})
	}
}

// TestSpectatorSeesTheEnd: a player that ends a match as a runner does (once Unacknowledged
// is 0) has shown its spectators every frame of it, so they end on the players' last
// frame, over loss: the last rows are kept for spectators only a round trip before the end
// (once the peers acknowledged the last inputs), and the goodbye that would carry them may
// be lost. Seeds: the watchNet's (players, 5).
func TestSpectatorSeesTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		players int
		loss    float64
	}{{"2 players", 2, 0}, {"2 players, loss 20%", 2, 0.20}, {"3 players, loss 10%", 3, 0.10}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWatchNet(t, tc.players, 3*tick, tc.loss)
			sp := w.addSpectator(0)
			const frames = 300
			p0 := w.sessions[0]
			for p0.ConfirmedFrame() < frames-1 || p0.Unacknowledged() > 0 {
				if w.now > 60*time.Second {
					t.Fatalf("player 0 never ready to leave: confirmed %d, %d unacknowledged", p0.ConfirmedFrame(), p0.Unacknowledged())
				}
				w.step(frames)
			}
			// Player 0 leaves now, and nothing more of it arrives: neither its goodbye nor
			// what it sent in the last few ticks (a process that exits; a lossy link).
			p0.Close(w.now)
			w.gone[0] = true
			keep := w.inflight[:0]
			for _, pk := range w.inflight {
				if pk.from != nodeAddr(0) {
					keep = append(keep, pk)
				}
			}
			w.inflight = keep
			for range 30 {
				w.step(frames)
			}
			s := w.specs[sp]
			if held := s.Held(); held != frames {
				t.Fatalf("the spectator holds %d frames of %d", held, frames)
			}
			// It hears no goodbye: once player 0 has been silent long enough it runs the
			// rows it holds, to the players' end.
			for !s.Ended() {
				if w.now > 120*time.Second {
					t.Fatalf("the spectator never ended: frame %d, held %d", s.Frame(), s.Held())
				}
				w.step(frames)
			}
			if f := s.Frame(); f != frames || w.sgames[sp].checksum() != w.sums[0][f] {
				t.Errorf("the spectator ended at frame %d with %016x; the players ended at %d with %016x", f, w.sgames[sp].checksum(), frames, w.sums[0][frames])
			}
		})
	}
}
