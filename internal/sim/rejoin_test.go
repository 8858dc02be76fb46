package sim

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"p2pa/game"
	"p2pa/internal/diverge"
	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/simtest"
	"p2pa/transport"
)

// rejoinFrames is how many frames after the rejoin a scenario checks: 10,000 (2 min 47 s of
// game), 1,000 with -short. Under the race detector (make test) the coin game runs some
// hundred times slower and the harness is one goroutine, with nothing for the detector to
// find that a shorter run would miss: 2,000 frames, and 300 for a 200 KB state, whose
// 10,000 frames would take over two minutes each there.
func rejoinFrames(long bool) int {
	switch {
	case testing.Short():
		return 1000
	case raceDetector && long:
		return 300
	case raceDetector:
		return 2000
	}
	return 10000
}

// rejoinCase is a match in which player killed's process dies at frame dies and a fresh one
// (runner, game, socket at the same address, nonce, bot) starts for its seat back later.
type rejoinCase struct {
	name    string
	seed    uint64 // the network's fate for every datagram, the bots and the game
	players int
	killed  int
	dies    int           // when the process dies: at(dies), the match a little behind
	back    time.Duration // how long after the death the fresh one starts
	mode    game.Mode
	coins   int                  // default 50
	link    transport.LinkConfig // every direction, all along but during the handover
	// handover, if set, is every direction's link from the death until handoverFor after
	// the fresh process started: loss while the survivors notice, wait and hand over.
	handover    *transport.LinkConfig
	handoverFor time.Duration
	// long cases (a 200 KB state) are skipped with -short, and with the race detector
	// unless raced; the others run with rejoinFrames' short length.
	long, raced bool
}

// TestRejoinScenarios: a peer's process dies at a frame and a fresh process with a fresh
// game rejoins some seconds later, before or after the disconnect timeout; every player,
// the rejoiner included, then agrees on the checksum of each of the next 10,000 frames,
// and the dead process agreed with the survivors on every frame up to the one the match
// resumed from. Two, three and four players; the killed player may be player 0; loss
// during the handover, a 200 KB state (10,000 coins) handed over through 5% loss.
func TestRejoinScenarios(t *testing.T) {
	const ms = time.Millisecond
	lan := transport.LinkConfig{Latency: 10 * ms, Jitter: 2 * ms}
	wan := transport.LinkConfig{Latency: 40 * ms, Jitter: 10 * ms}
	loss5 := transport.LinkConfig{Latency: 25 * ms, Jitter: 5 * ms, Loss: 0.05}
	loss10 := transport.LinkConfig{Latency: 30 * ms, Jitter: 10 * ms, Loss: 0.10, Dup: 0.02, Reorder: 0.05}
	// Bit-flipped, truncated, replayed and forged copies of the peers' own datagrams, the
	// handover's chunks and acknowledgements among them (transport's mistreatments).
	mangled := transport.LinkConfig{Latency: 15 * ms, Jitter: 5 * ms, Loss: 0.03, Corrupt: 0.05, Truncate: 0.05, Replay: 0.05, Forge: 0.05}
	const before, after, atOnce = 2 * time.Second, 7 * time.Second, 300 * time.Millisecond
	cases := []rejoinCase{
		{name: "2p/player1/after-timeout", seed: 201, players: 2, killed: 1, dies: 1200, back: after, link: lan},
		{name: "2p/player1/before-timeout", seed: 202, players: 2, killed: 1, dies: 1200, back: before, link: lan},
		{name: "2p/player0/before-timeout", seed: 203, players: 2, killed: 0, dies: 1200, back: before, link: wan},
		{name: "2p/player0/after-timeout-loss5%", seed: 204, players: 2, killed: 0, dies: 1500, back: after, link: lan,
			handover: &loss5, handoverFor: 3 * time.Second},
		{name: "2p/player1/at-once", seed: 205, players: 2, killed: 1, dies: 900, back: atOnce, link: lan},
		{name: "2p/player1/200KB-loss5%", seed: 206, players: 2, killed: 1, dies: 240, back: before, link: lan,
			coins: 10_000, handover: &loss5, handoverFor: 5 * time.Second, long: true, raced: true},
		{name: "2p/player0/200KB-loss5%-after-timeout", seed: 207, players: 2, killed: 0, dies: 600, back: after, link: lan,
			coins: 10_000, handover: &loss5, handoverFor: 5 * time.Second, long: true},
		{name: "3p/player2/before-timeout", seed: 208, players: 3, killed: 2, dies: 1200, back: before, mode: game.Versus, link: wan},
		{name: "3p/player1/after-timeout-loss10%", seed: 209, players: 3, killed: 1, dies: 1200, back: after, mode: game.Versus, link: lan,
			handover: &loss10, handoverFor: 3 * time.Second},
		{name: "3p/player0/before-timeout-loss5%", seed: 210, players: 3, killed: 0, dies: 1200, back: before, mode: game.Versus, link: lan,
			handover: &loss5, handoverFor: 3 * time.Second},
		{name: "3p/player0/after-timeout", seed: 211, players: 3, killed: 0, dies: 1000, back: after, mode: game.Versus, link: wan},
		{name: "4p/player3/before-timeout-loss5%", seed: 212, players: 4, killed: 3, dies: 1200, back: before, mode: game.Versus, link: lan,
			handover: &loss5, handoverFor: 3 * time.Second},
		{name: "4p/player0/after-timeout", seed: 213, players: 4, killed: 0, dies: 1200, back: after, mode: game.Versus, link: wan},
		{name: "4p/player2/at-once-loss10%", seed: 214, players: 4, killed: 2, dies: 800, back: atOnce, mode: game.Versus, link: lan,
			handover: &loss10, handoverFor: 3 * time.Second},
		{name: "2p/player1/mangled-handover", seed: 217, players: 2, killed: 1, dies: 900, back: before, link: lan,
			coins: 2_000, handover: &mangled, handoverFor: 4 * time.Second},
		{name: "3p/player0/mangled-handover-after-timeout", seed: 218, players: 3, killed: 0, dies: 900, back: after, mode: game.Versus, link: lan,
			coins: 2_000, handover: &mangled, handoverFor: 4 * time.Second},
		{name: "3p/player2/200KB-loss5%", seed: 215, players: 3, killed: 2, dies: 600, back: before, mode: game.Versus, link: lan,
			coins: 10_000, handover: &loss5, handoverFor: 5 * time.Second, long: true},
		{name: "4p/player0/200KB-loss10%-after-timeout", seed: 216, players: 4, killed: 0, dies: 600, back: after, mode: game.Versus, link: wan,
			coins: 10_000, handover: &loss10, handoverFor: 5 * time.Second, long: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.long && testing.Short() {
				t.Skip("a 200 KB state for 10,000 frames: not with -short")
			}
			if tc.long && !tc.raced && raceDetector {
				t.Skip("a 200 KB state: one such case under the race detector")
			}
			t.Parallel()
			checkRejoin(t, tc)
		})
	}
}

// rejoinScenario is tc's scenario and game, checking n frames after the rejoin.
func rejoinScenario(tc rejoinCase, n int) (Scenario, Coins) {
	died := at(tc.dies)
	sc := Scenario{
		Players: tc.players, Seed: tc.seed, Link: tc.link,
		// The match pauses while the player is away, so it resumes a little before the
		// frame of the death (the survivors' last confirmed frame); 150 frames of slack
		// cover that and what the end needs to confirm.
		Frames:   tc.dies + n + 150,
		Rejoin:   netplay.DefaultRejoin,
		Restarts: []Restart{{Player: tc.killed, At: died, Back: died + tc.back}},
	}
	if tc.handover != nil {
		sc.LinkChanges = []LinkChange{{At: died, Link: *tc.handover}, {At: died + tc.back + tc.handoverFor, Link: tc.link}}
	}
	return sc, Coins{Mode: tc.mode, Coins: tc.coins}
}

func checkRejoin(t *testing.T, tc rejoinCase) {
	t.Helper()
	n := rejoinFrames(tc.long)
	sc, coins := rejoinScenario(tc, n)
	s, err := New(sc, coins)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// Run as Sim.Run does, and count what the link from the donor to the rejoiner lost
	// while the state was handed over (from the rejoiner's RejoinJoining to its
	// RejoinResumed).
	var lost [2]uint64
	var donor netip.AddrPort
	for !s.Finished() {
		// No hang: a virtual deadline, MaxTime (4 × Frames + 600 ticks).
		if s.TimedOut() {
			t.Fatalf("seed %d: not finished after %d ticks: %s", tc.seed, s.Ticks, s.Status())
		}
		if err := s.Step(); err != nil {
			t.Fatalf("seed %d: %v", tc.seed, err)
		}
		r := s.Peers[tc.killed]
		switch {
		case r.Life != 1 || len(r.Rejoins) == 0:
		case !donor.IsValid():
			donor = simtest.Addr(r.Rejoins[0].Player)
			lost[0] = s.Net.Stats(donor, r.Addr).Lost
		case len(r.Rejoins) == 2 && lost[1] == 0:
			lost[1] = s.Net.Stats(donor, r.Addr).Lost
		}
	}
	elapsed := time.Since(start)
	cfg := lockstep.Config{}.WithDefaults()
	died, back := at(tc.dies), at(tc.dies)+tc.back

	rejoiner := s.Peers[tc.killed]
	if len(s.Dead) != 1 || rejoiner.Life != 1 {
		t.Fatalf("%d dead processes, rejoiner's life %d: want one restart", len(s.Dead), rejoiner.Life)
	}
	dead := s.Dead[0]
	base, ok := rejoiner.JoinedAt()
	if !ok || !rejoiner.Runner.Match().Rejoined() || rejoiner.Runner.BaseFrame() != base {
		t.Fatalf("the fresh process did not rejoin: events %+v, base frame %d, rejoined %v",
			rejoiner.Rejoins, rejoiner.Runner.BaseFrame(), rejoiner.Runner.Match().Rejoined())
	}
	// The match resumes from a frame every survivor confirmed, which the dead process
	// had reached.
	if reached := dead.Runner.Frame(); base <= 0 || base > reached {
		t.Errorf("resumed at frame %d; the dead process had reached frame %d", base, reached)
	}

	// The check itself: every peer, the rejoiner included, holds the checksum of base (on
	// the rejoiner: the state it was handed, as its game loaded it) and of each of the n
	// frames after it, and they all agree; Compare also checks every other frame two
	// peers confirmed, the dead process's up to base.
	compared, err := s.Compare()
	if err != nil {
		t.Errorf("seed %d: checksums differ: %v", tc.seed, err)
	}
	last := int(base) + n
	if last > sc.Frames-cfg.MaxPrediction-1 {
		t.Fatalf("resumed at frame %d: %d frames after it do not fit in the scenario's %d", base, n, sc.Frames)
	}
	for _, p := range s.Peers {
		missing := 0
		for f := int(base); f <= last; f++ {
			if _, ok := p.Checksum(lockstep.Frame(f)); !ok {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("player %d lacks the checksums of %d of frames %d..%d", p.Player, missing, base, last)
		}
		// A survivor's old leg may have confirmed a few frames past base on the dead
		// player's last input, which the next leg played on the rejoiner's instead: those
		// are reported again, and only those.
		if p.RewrittenEarly != 0 {
			t.Errorf("player %d: %d frames at or before the resume frame %d reported again with another checksum", p.Player, p.RewrittenEarly, base)
		}
	}
	// The dead process and the survivors agreed before it died, on a good part of the
	// frames it played (Compare checked them; here: that there were some).
	shared := 0
	for f := lockstep.Frame(0); f <= base; f++ {
		if _, ok := dead.Checksum(f); ok {
			if _, ok := s.Peers[(tc.killed+1)%tc.players].Checksum(f); ok {
				shared++
			}
		}
	}
	if shared < int(base)*9/10 {
		t.Errorf("the dead process shares %d of frames 0..%d with player %d", shared, base, (tc.killed+1)%tc.players)
	}

	for _, p := range s.Peers {
		if err := p.Runner.Session().Err(); err != nil {
			t.Errorf("player %d: %v", p.Player, err)
		}
		if n := p.Count(lockstep.EventDesync) + p.Count(lockstep.EventFailed); n != 0 {
			t.Errorf("player %d: %d desync or failure events", p.Player, n)
		}
		if f := p.Runner.Frame(); int(f) != sc.Frames {
			t.Errorf("player %d ended at frame %d, want %d", p.Player, f, sc.Frames)
		}
		if s.State(p).Frame() != int32(sc.Frames) {
			t.Errorf("player %d: game at frame %d, want %d", p.Player, s.State(p).Frame(), sc.Frames)
		}
	}

	// What the runners reported of the rejoin: the survivors paused for the killed player
	// and resumed with it at base; the fresh process was handed the state at base.
	type rejoinSeen struct {
		Kind   netplay.RejoinEventKind
		Player int
		Frame  lockstep.Frame
	}
	for _, p := range s.Peers {
		var got, want []rejoinSeen
		for _, e := range p.Rejoins {
			got = append(got, rejoinSeen{e.Kind, e.Player, e.Frame})
		}
		if p == rejoiner {
			want = []rejoinSeen{{netplay.RejoinJoining, -1, base}, {netplay.RejoinResumed, tc.killed, base}}
			if len(got) > 0 && got[0].Kind == netplay.RejoinJoining {
				want[0].Player = got[0].Player // the donor: the survivors decide
			}
		} else {
			waiting := lockstep.NullFrame
			if len(got) > 0 {
				waiting = got[0].Frame // the frame the drop was noticed at
			}
			want = []rejoinSeen{{netplay.RejoinWaiting, tc.killed, waiting}, {netplay.RejoinResumed, tc.killed, base}}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("player %d's rejoin events (-want +got):\n%s", p.Player, diff)
		}
	}
	// When: the survivors notice the death after the disconnect timeout, or, when the
	// fresh process is back first, once it is (the seat's silence is then over the
	// interrupt timeout); the match resumes once it is back and has the state.
	for _, p := range s.Peers {
		if p == rejoiner || len(p.Rejoins) == 0 {
			continue
		}
		noticed := p.Rejoins[0].At
		lo, hi := died+cfg.DisconnectTimeout-5*Tick, died+cfg.DisconnectTimeout+10*Tick
		// A fresh player 0 knows nobody's address, but the survivors probe a quiet peer
		// with handshake requests, so it answers them and is noticed as early.
		if back < died+cfg.DisconnectTimeout {
			lo, hi = max(back, died+cfg.InterruptTimeout), max(back, died+cfg.InterruptTimeout)+time.Second
		}
		if noticed < lo || noticed > hi {
			t.Errorf("player %d noticed the death at %v, want %v..%v (died at %v, back at %v)", p.Player, noticed, lo, hi, died, back)
		}
	}
	resumed := rejoiner.Rejoins[len(rejoiner.Rejoins)-1].At
	if resumed < back {
		t.Errorf("resumed at %v, before the fresh process started at %v", resumed, back)
	}
	handover := resumed - rejoiner.Rejoins[0].At
	handoverLost := lost[1] - lost[0]
	// A 200 KB state is 417 chunks: a lossy link loses some of them, and the handover
	// must have survived that.
	if tc.handover != nil && tc.handover.Loss > 0 && tc.coins >= 10_000 && handoverLost == 0 {
		t.Errorf("the link from the donor lost nothing during the handover: the case tests no loss there")
	}

	t.Logf("%s (seed %d): died at frame %d (%v), back %v later, resumed at frame %d at %v (handover of %d bytes in %v, %d datagrams lost from the donor); %d frames in %d ticks, %v real; %d checksum pairs compared, frames %d..%d on all %d players",
		tc.name, tc.seed, tc.dies, died, tc.back, base, resumed, rejoiner.Rejoins[0].Bytes, handover, handoverLost,
		sc.Frames, s.Ticks, elapsed.Round(time.Millisecond), compared, base, last, tc.players)
	logPeers(t, s)
}

func logPeers(t *testing.T, s *Sim) {
	t.Helper()
	for _, p := range append(append([]*Peer(nil), s.Peers...), s.Dead...) {
		st := p.Runner.Session().Stats(nil)
		joined, _ := p.JoinedAt()
		c := p.Runner.Counters()
		t.Logf("  player %d life %d: joined at %d, frame %d confirmed %d, stalls %d, waits %d, rollbacks %d, frames reported %d (again %d, with another checksum %d), dropped %d",
			p.Player, p.Life, joined, p.Runner.Frame(), p.Runner.ConfirmedFrame(), c.Stalls, c.Waits, st.Rollbacks,
			p.Reported, p.Repeated, p.Rewritten, st.DroppedTotal())
	}
}

// TestRejoinTwice: in a four-player match two players' processes die one after the other,
// one of them twice, and each comes back; the match is then four legs, and every player
// agrees on every frame after the last rejoin.
func TestRejoinTwice(t *testing.T) {
	t.Parallel()
	n := rejoinFrames(false)
	sc := Scenario{
		Players: 4, Seed: 221,
		Link:   transport.LinkConfig{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.02},
		Rejoin: netplay.DefaultRejoin,
		Restarts: []Restart{
			{Player: 1, At: at(300), Back: at(300) + 2*time.Second},
			{Player: 3, At: at(900), Back: at(900) + 6*time.Second},
			{Player: 1, At: at(1500), Back: at(1500) + 3*time.Second},
		},
		Frames: 1500 + n + 150,
	}
	s, err := New(sc, Coins{Mode: game.Versus})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Play(); err != nil {
		t.Fatalf("seed %d: %v", sc.Seed, err)
	}
	if _, err := s.Compare(); err != nil {
		t.Errorf("seed %d: checksums differ: %v", sc.Seed, err)
	}
	lives := make([]int, 4)
	for _, p := range s.Peers {
		lives[p.Player] = p.Life
		if err := p.Runner.Session().Err(); err != nil {
			t.Errorf("player %d: %v", p.Player, err)
		}
	}
	if diff := cmp.Diff([]int{0, 2, 0, 1}, lives); diff != "" {
		t.Errorf("lives (-want +got):\n%s", diff)
	}
	base, ok := s.Peers[1].JoinedAt()
	if !ok {
		t.Fatalf("player 1's third process did not rejoin: %+v", s.Peers[1].Rejoins)
	}
	for _, p := range s.Peers {
		if b := p.Runner.BaseFrame(); b != base {
			t.Errorf("player %d's last leg starts at frame %d, player 1 rejoined at %d", p.Player, b, base)
		}
		for f := base; f <= base+lockstep.Frame(n); f++ {
			if _, ok := p.Checksum(f); !ok {
				t.Errorf("player %d has no checksum of frame %d", p.Player, f)
				break
			}
		}
		if got := p.CountRejoins(netplay.RejoinResumed); p.Life == 0 && got != 3 {
			t.Errorf("player %d: %d resumptions, want 3: %+v", p.Player, got, p.Rejoins)
		}
		if p.RewrittenEarly != 0 {
			t.Errorf("player %d: %d frames at or before a resume frame reported again with another checksum", p.Player, p.RewrittenEarly)
		}
	}
	logPeers(t, s)
}

// TestRejoinSurvivorDiesDuringPause: in a three-player match player 2's process dies, and
// while the others wait for it player 1's dies too; both come back, and the match goes on
// with every player agreeing. (Before the paused leg kept its seats' liveness, the players
// cycled between pauses for ever.) Seeds 241-245.
func TestRejoinSurvivorDiesDuringPause(t *testing.T) {
	t.Parallel()
	n := rejoinFrames(false) / 5
	for seed := uint64(241); seed <= 245; seed++ {
		sc := Scenario{
			Players: 3, Seed: seed,
			Link:   transport.LinkConfig{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.02},
			Rejoin: netplay.DefaultRejoin,
			Restarts: []Restart{
				{Player: 2, At: at(300), Back: at(300) + 7*time.Second},
				{Player: 1, At: at(300) + 6*time.Second, Back: at(300) + 9*time.Second},
			},
			Frames: 300 + n + 150,
		}
		s, err := New(sc, Coins{Mode: game.Versus})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Play(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if _, err := s.Compare(); err != nil {
			t.Errorf("seed %d: checksums differ: %v", seed, err)
		}
		for _, p := range s.Peers {
			if err := p.Runner.Session().Err(); err != nil {
				t.Errorf("seed %d: player %d: %v", seed, p.Player, err)
			}
			if f := p.Runner.Frame(); int(f) < sc.Frames {
				t.Errorf("seed %d: player %d stopped at frame %d of %d", seed, p.Player, f, sc.Frames)
			}
		}
	}
}

// forgetfulGame is a game whose LoadState drops a field: it keeps its own first coin's
// velocity rather than the loaded one, the classic rollback bug. A fresh process handed
// the match's state then moves that coin as a new game would. (Collector positions would
// not do: every input sets them afresh.)
type forgetfulGame struct {
	*game.State
	own, buf []byte
}

func (g *forgetfulGame) LoadState(b []byte) error {
	g.own = g.State.SaveState(g.own[:0])
	g.buf = append(g.buf[:0], b...)
	off := diverge.CoinOffset(g.State.Players()) + 8 // coin 0's VX, VY (4 bytes each)
	copy(g.buf[off:off+8], g.own[off:off+8])
	return g.State.LoadState(g.buf)
}

// TestRejoinCatchesDisagreement shows the checks above can fail: a rejoiner whose game drops
// a field on LoadState starts from a state that differs from the match's, and one whose
// game diverges some frames after the rejoin plays on differently; in both Compare names
// the first frame that differs, and every session's checksum exchange reports a desync.
func TestRejoinCatchesDisagreement(t *testing.T) {
	tc := rejoinCase{seed: 231, players: 3, killed: 1, dies: 600, back: 2 * time.Second, mode: game.Versus,
		link: transport.LinkConfig{Latency: 15 * time.Millisecond, Loss: 0.02}}
	const divergeAt = 700 // a frame after the rejoin (the match resumes near frame 600)
	cases := []struct {
		name string
		seed uint64
		wrap func(int, *game.State) lockstep.Game
		// first is the first frame that differs, given the frame the rejoiner joined at.
		first func(base lockstep.Frame) int
	}{
		{"LoadState drops a field", 231,
			func(_ int, st *game.State) lockstep.Game { return &forgetfulGame{State: st} },
			func(base lockstep.Frame) int { return int(base) }},
		{"game diverges after the rejoin", 232,
			func(_ int, st *game.State) lockstep.Game { return &diverge.Game{State: st, At: divergeAt} },
			func(lockstep.Frame) int { return divergeAt }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tc := tc
			tc.seed = c.seed
			sc, coins := rejoinScenario(tc, 1000)
			sc.Session.StopOnDesync = true // caught, not mended
			coins.Wrap = func(p, life int, st *game.State) lockstep.Game {
				if life > 0 { // the restarted process's game only
					return c.wrap(p, st)
				}
				return st
			}
			s, err := New(sc, coins)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Play(); err != nil {
				t.Fatalf("seed %d: %v", sc.Seed, err)
			}
			rejoiner := s.Peers[tc.killed]
			base, ok := rejoiner.JoinedAt()
			if !ok || base >= divergeAt {
				t.Fatalf("the fresh process did not rejoin before frame %d: %+v", divergeAt, rejoiner.Rejoins)
			}
			_, err = s.Compare()
			if err == nil {
				t.Fatal("Compare found no difference between the rejoiner and the survivors")
			}
			t.Logf("seed %d, rejoined at %d; Compare: %v", sc.Seed, base, err)
			var first int
			if _, err := fmt.Sscanf(err.Error(), "frame %d:", &first); err != nil || first != c.first(base) {
				t.Errorf("first differing frame %d (%v), want %d", first, err, c.first(base))
			}
			for _, p := range s.Peers {
				if n := p.Count(lockstep.EventDesync); n == 0 {
					t.Errorf("player %d saw no desync: %v", p.Player, p.Events)
				}
			}
		})
	}
}
