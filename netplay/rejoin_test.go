package netplay_test

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"p2pa/lockstep"
	"p2pa/netplay"
	"p2pa/simtest"
	"p2pa/transport"
)

// bulky is a counter with a large state: pad is rewritten a little every frame from the
// inputs, so a state handed over must arrive whole and exact or the peers desync.
type bulky struct {
	counter
	pad []byte
}

func newBulky(size int) *bulky { return &bulky{pad: make([]byte, size)} }

func (b *bulky) AdvanceFrame(inputs []byte) {
	b.counter.AdvanceFrame(inputs)
	if len(b.pad) > 0 {
		for i := range 8 {
			b.pad[(b.frame*8+uint64(i)*7919)%uint64(len(b.pad))] ^= byte(b.total >> (8 * i))
		}
	}
}

func (b *bulky) SaveState(dst []byte) []byte {
	dst = b.counter.SaveState(dst)
	return append(dst, b.pad...)
}

func (b *bulky) LoadState(s []byte) error {
	if len(s) != 16+len(b.pad) {
		return errors.New("bulky: bad state")
	}
	if err := b.counter.LoadState(s[:16]); err != nil {
		return err
	}
	copy(b.pad, s[16:])
	return nil
}

// match is n runners over the emulator on a virtual clock, on simtest, where players can
// be killed (their runner is no longer driven and their socket closed), stopped (not
// driven, the socket open) and started afresh.
type match struct {
	t       *testing.T
	sim     *simtest.Sim
	clock   *transport.VirtualClock
	net     *transport.Network
	runners []*netplay.Runner // every player's current runner
	addrs   []netip.AddrPort
	rejoins [][]netplay.RejoinEvent // every player's, over all its processes
	// reported holds, per player and process, each frame OnConfirmed reported and the
	// checksum of its state then
	reported [][]confirmedFrame
	finish   lockstep.Frame
	// players, if set, is the player count the next runner started expects (a restart
	// that was not told the count)
	players int
	// intruders claim seats that are taken; driven like the others
	intruders []*netplay.Runner
	// phases holds, per player, the phases its current process went through, in order,
	// as seen after each frame of the emulation
	phases [][]netplay.Phase
}

// newMatch starts n players of the bulky counter (pad bytes of state) that finish at
// finish: player 0 at 10.0.0.1:7000 every time, the others at a new port each time (a
// restarted process gets another ephemeral port), and everyone knows player 0 only. edit
// changes player p's configuration before each of its runners is made.
func newMatch(t *testing.T, n int, seed uint64, pad int, link transport.LinkConfig, finish lockstep.Frame, edit ...func(p int, c *netplay.Config)) *match {
	m := &match{t: t, finish: finish, runners: make([]*netplay.Runner, n), addrs: make([]netip.AddrPort, n),
		rejoins: make([][]netplay.RejoinEvent, n), reported: make([][]confirmedFrame, n), phases: make([][]netplay.Phase, n)}
	s, err := simtest.New(simtest.Scenario{
		Players: n, Seed: seed, Frames: int(finish), Link: link, Rejoin: netplay.DefaultRejoin,
		Session: lockstep.Config{InputSize: 1, Game: "bulky"},
		NewGame: func(int, uint64) (lockstep.Game, error) { return newBulky(pad), nil },
		Input: func(p int, f lockstep.Frame, dst []byte) []byte {
			return append(dst, byte(uint64(f)*(seed+uint64(p)+1)>>2))
		},
		Addr: func(p, life int) netip.AddrPort {
			return netip.MustParseAddrPort(fmt.Sprintf("10.0.0.%d:%d", p+1, 7000+life*min(p, 1)))
		},
		Edit: func(p, life int, c *netplay.Config) {
			intruder := life < 0
			if intruder {
				life = 99 - life
			} else {
				life++ // its first process is its first start
			}
			players := cmp.Or(m.players, n)
			c.Session.Players = players
			c.Session.Seed, c.Session.Nonce = seed, seed*97+uint64(p)*13+uint64(life)
			c.Peers = make([]netip.AddrPort, players)
			if p != 0 {
				c.Peers[0] = netip.MustParseAddrPort("10.0.0.1:7000")
			}
			c.Game = newBulky(pad)
			c.OnConfirmed = nil
			if !intruder {
				// Every frame reported, with its checksum: checkReported.
				c.OnConfirmed = func(cf netplay.Confirmed) {
					sum, ok := cf.Checksum()
					m.reported[p] = append(m.reported[p], confirmedFrame{cf.Frame, sum, ok})
				}
			}
			record := c.OnRejoin
			c.OnRejoin = func(e netplay.RejoinEvent) {
				m.rejoins[p] = append(m.rejoins[p], e)
				record(e)
			}
			for _, e := range edit {
				e(p, c)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.sim, m.clock, m.net = s, s.Clock, s.Net
	for p := range n {
		m.update(p)
	}
	return m
}

// update takes player p's current process from the simulation.
func (m *match) update(p int) {
	m.runners[p], m.addrs[p] = m.sim.Peers[p].Runner, m.sim.Peers[p].Addr
	m.phases[p] = []netplay.Phase{m.runners[p].Phase()}
}

// start starts player p's side afresh.
func (m *match) start(p int) {
	m.reported[p] = nil // a new process reports from where it joins
	if _, err := m.sim.Restart(p); err != nil {
		m.t.Fatal(err)
	}
	m.update(p)
}

// intrude starts another process for seat p, at another address, while p's is alive.
func (m *match) intrude(p int) *netplay.Runner {
	pe, err := m.sim.Join(p, netip.MustParseAddrPort(fmt.Sprintf("10.0.0.9:%d", 7100+len(m.intruders))))
	if err != nil {
		m.t.Fatal(err)
	}
	m.intruders = append(m.intruders, pe.Runner)
	return pe.Runner
}

// stop and cont are SIGSTOP and SIGCONT for player p: not driven, its socket open.
func (m *match) stop(p int) { m.sim.Peers[p].Paused = true }
func (m *match) cont(p int) { m.sim.Peers[p].Paused = false }

// confirmedFrame is a frame OnConfirmed reported, with its state's checksum then.
type confirmedFrame struct {
	frame lockstep.Frame
	sum   uint64
	ok    bool // the checksum was at hand
}

// checkReported fails the test unless every player's runner reported each confirmed frame
// once, in order (a survivor from frame 0 on, one that rejoined from its resume frame on),
// and every player reported the same checksum at every frame two of them reported: a
// frame once confirmed (recorded, sent to spectators) is never taken back.
func (m *match) checkReported() {
	m.t.Helper()
	sums := map[lockstep.Frame]uint64{}
	for p, rep := range m.reported {
		for i, c := range rep {
			if i > 0 && c.frame != rep[i-1].frame+1 {
				m.t.Errorf("player %d reported frame %d after frame %d: a confirmed frame was taken back or skipped", p, c.frame, rep[i-1].frame)
				return
			}
			if !c.ok {
				continue
			}
			if want, ok := sums[c.frame]; ok && want != c.sum {
				m.t.Errorf("player %d reported frame %d with checksum %016x, another player with %016x", p, c.frame, c.sum, want)
				return
			}
			sums[c.frame] = c.sum
		}
		if len(rep) == 0 || rep[len(rep)-1].frame != m.finish {
			m.t.Errorf("player %d did not report every frame up to %d: %d reported", p, m.finish, len(rep))
		}
	}
}

// checkFinished fails the test unless every player finished the match at m.finish, without
// an error, on player 0's checksum. log also logs each result and the rejoin events.
func (m *match) checkFinished(log bool) {
	m.t.Helper()
	want := m.runners[0].Result()
	for p, r := range m.runners {
		res := r.Result()
		if log {
			m.t.Logf("player %d: %v, rejoin events %+v", p, res, m.rejoins[p])
		}
		if res.Err != nil || res.Reason != netplay.EndFinished || !res.Confirmed || res.Frame != m.finish || res.Checksum != want.Checksum {
			m.t.Errorf("player %d: %v (err %v), player 0: %v", p, res, res.Err, want)
		}
	}
}

// kill stops player p for good, as kill -9 does: nothing more is sent or read.
func (m *match) kill(p int) { m.sim.Kill(p) }

// step plays one frame: every datagram due before it reaches its runner at its arrival
// time, then every runner still driven ticks.
func (m *match) step() {
	_ = m.sim.Step() // a failure is the runner's Result, which the tests check
	for p, r := range m.runners {
		if ph := r.Phase(); m.phases[p][len(m.phases[p])-1] != ph {
			m.phases[p] = append(m.phases[p], ph)
		}
	}
}

func (m *match) allDone() bool {
	for _, p := range m.sim.Peers {
		if !p.Gone && !p.Paused && !p.Runner.Done() {
			return false
		}
	}
	return true
}

// runUntil steps until done or the virtual deadline (a test failure: a hang).
func (m *match) runUntil(deadline time.Duration, done func() bool) {
	m.t.Helper()
	for !done() {
		if m.clock.Now() > deadline {
			for p, r := range m.runners {
				m.t.Logf("player %d: frame %d, rejoin %+v, %v", p, r.Frame(), r.Rejoin(), r.Session().Stats(nil))
			}
			m.t.Fatalf("not done after %v", deadline)
		}
		m.step()
	}
}

// TestRejoin: a player's process dies at a frame, and a fresh runner with a fresh game
// takes its seat some seconds later; every player then finishes the match on the same
// checksum. Two, three and four players; the one killed may be player 0; with loss, the
// handover of a 200 KB state survives it.
func TestRejoin(t *testing.T) {
	lossy := transport.LinkConfig{Latency: 10 * time.Millisecond, Jitter: 3 * time.Millisecond, Loss: 0.05}
	tests := []struct {
		name   string
		n      int
		killed int
		seed   uint64
		pad    int
		link   transport.LinkConfig
		at     time.Duration // when the player dies
		back   time.Duration // how long after it is started again
	}{
		{"2 players, player 1, back after the timeout", 2, 1, 1, 0, transport.LinkConfig{}, 5 * time.Second, 7 * time.Second},
		{"2 players, player 1, back before the timeout", 2, 1, 2, 0, transport.LinkConfig{}, 5 * time.Second, 2 * time.Second},
		{"2 players, player 0, back before the timeout", 2, 0, 3, 0, transport.LinkConfig{}, 5 * time.Second, 2 * time.Second},
		{"2 players, player 1, 200 KB state, 5% loss", 2, 1, 4, 200_000, lossy, 4 * time.Second, 2 * time.Second},
		{"2 players, player 0, 200 KB state, 5% loss", 2, 0, 5, 200_000, lossy, 4 * time.Second, 2 * time.Second},
		{"2 players, player 1, 200 KB state, 2 Mbit/s link with a 25 kB queue", 2, 1, 10, 200_000,
			transport.LinkConfig{Latency: 5 * time.Millisecond, Rate: 2_000_000, Queue: 25_000}, 4 * time.Second, 2 * time.Second},
		{"3 players, player 2", 3, 2, 6, 0, lossy, 4 * time.Second, 2 * time.Second},
		{"3 players, player 0", 3, 0, 7, 10_000, lossy, 4 * time.Second, 2 * time.Second},
		{"4 players, player 3, back after the timeout", 4, 3, 8, 10_000, lossy, 4 * time.Second, 6 * time.Second},
		{"4 players, player 1", 4, 1, 9, 0, transport.LinkConfig{}, 3 * time.Second, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const finish = 1500
			m := newMatch(t, tc.n, tc.seed, tc.pad, tc.link, finish)
			m.runUntil(tc.at, func() bool { return m.clock.Now() >= tc.at })
			m.kill(tc.killed)
			m.runUntil(tc.at+tc.back, func() bool { return m.clock.Now() >= tc.at+tc.back })
			m.start(tc.killed)
			m.runUntil(tc.at+tc.back+120*time.Second, m.allDone)
			want := m.runners[0].Result()
			for p, r := range m.runners {
				res := r.Result()
				if res.Err != nil || res.Reason != netplay.EndFinished || !res.Confirmed {
					t.Errorf("player %d: %v (err %v)", p, res, res.Err)
				}
				if diff := gocmp.Diff([]any{finish, want.Checksum}, []any{int(res.Frame), res.Checksum}); diff != "" {
					t.Errorf("player %d disagrees with player 0 (-0 +%d):\n%s", p, p, diff)
				}
			}
			for p := range m.runners {
				kinds := []netplay.RejoinEventKind{}
				for _, e := range m.rejoins[p] {
					kinds = append(kinds, e.Kind)
				}
				var want []netplay.RejoinEventKind
				// The rejoiner's handover is part of its handshake; a survivor pauses.
				phases := []netplay.Phase{netplay.PhaseHandshake, netplay.PhasePlaying, netplay.PhaseEnding, netplay.PhaseDone}
				switch p {
				case tc.killed:
					want = []netplay.RejoinEventKind{netplay.RejoinJoining, netplay.RejoinResumed}
				default:
					want = []netplay.RejoinEventKind{netplay.RejoinWaiting, netplay.RejoinResumed}
					phases = []netplay.Phase{netplay.PhaseHandshake, netplay.PhasePlaying, netplay.PhasePaused,
						netplay.PhasePlaying, netplay.PhaseEnding, netplay.PhaseDone}
				}
				if diff := gocmp.Diff(want, kinds); diff != "" {
					t.Errorf("player %d's rejoin events (-want +got):\n%s", p, diff)
				}
				if diff := gocmp.Diff(phases, m.phases[p]); diff != "" {
					t.Errorf("player %d's phases (-want +got):\n%s", p, diff)
				}
			}
			for p, r := range m.runners {
				t.Logf("player %d: %v base %d rejoin events %+v", p, r.Result(), r.BaseFrame(), m.rejoins[p])
			}
			if r := m.runners[tc.killed]; !r.Match().Rejoined() || r.BaseFrame() <= 0 {
				t.Errorf("the rejoiner did not rejoin: base frame %d", r.BaseFrame())
			}
			m.checkReported()
		})
	}
}

// TestRejoinAfterFailedHandover: the first process to come back dies halfway through the
// handover; the survivors wait on, and a second one rejoins. Seed 11.
func TestRejoinAfterFailedHandover(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d players", n), func(t *testing.T) {
			const finish = 900
			slow := transport.LinkConfig{Latency: 30 * time.Millisecond, Loss: 0.05}
			m := newMatch(t, n, 11, 300_000, slow, finish)
			killed := n - 1
			m.runUntil(3*time.Second, func() bool { return m.clock.Now() >= 3*time.Second })
			m.kill(killed)
			m.runUntil(5*time.Second, func() bool { return m.clock.Now() >= 5*time.Second })
			m.start(killed)
			m.runUntil(20*time.Second, func() bool {
				st := m.runners[killed].Rejoin()
				return st.Phase == netplay.RejoinReceiving && st.Held > st.Total/3
			})
			m.kill(killed) // a third of the state in
			m.runUntil(40*time.Second, func() bool { return m.clock.Now() >= 12*time.Second })
			for p := range killed {
				if st := m.runners[p].Rejoin(); st.Phase != netplay.RejoinPaused {
					t.Fatalf("player %d stopped waiting: %+v, %v", p, st, m.runners[p].Result())
				}
			}
			m.start(killed)
			m.runUntil(120*time.Second, m.allDone)
			m.checkFinished(false)
		})
	}
}

// TestRejoinAfterNetworkCut: nobody's process dies, but the link is cut for longer than the
// disconnect timeout, so each side drops the other and waits for it. When the link comes
// back the two pauses meet: the one that confirmed less is handed the other's state, and
// both finish together. Seeds 12-14.
func TestRejoinAfterNetworkCut(t *testing.T) {
	for _, tc := range []struct {
		n    int
		seed uint64
		cut  time.Duration
	}{{2, 12, 7 * time.Second}, {2, 13, 12 * time.Second}, {3, 14, 7 * time.Second}} {
		t.Run(fmt.Sprintf("%d players, %v", tc.n, tc.cut), func(t *testing.T) {
			const finish = 1200
			link := transport.LinkConfig{Latency: 15 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.02}
			m := newMatch(t, tc.n, tc.seed, 5_000, link, finish)
			m.runUntil(3*time.Second, func() bool { return m.clock.Now() >= 3*time.Second })
			// The last player is cut off from everyone, both ways.
			last := tc.n - 1
			setLinks := func(c transport.LinkConfig) {
				for p := range last {
					m.net.SetLink(m.addrs[p], m.addrs[last], c)
					m.net.SetLink(m.addrs[last], m.addrs[p], c)
				}
			}
			setLinks(transport.LinkConfig{Loss: 1})
			m.runUntil(3*time.Second+tc.cut+time.Second, func() bool { return m.clock.Now() >= 3*time.Second+tc.cut })
			setLinks(link)
			m.runUntil(120*time.Second, m.allDone)
			m.checkFinished(true)
		})
	}
}

// TestRejoinAfterStall: a player's process stops for longer than the disconnect timeout
// (SIGSTOP, a closed laptop lid) and then goes on; what reached its socket meanwhile waits
// there. Both sides drop each other, and the two pauses meet. Seeds 15-16.
func TestRejoinAfterStall(t *testing.T) {
	for _, tc := range []struct {
		n       int
		seed    uint64
		stopped int
	}{{2, 15, 1}, {2, 16, 0}, {3, 17, 2}} {
		t.Run(fmt.Sprintf("%d players, player %d stopped", tc.n, tc.stopped), func(t *testing.T) {
			const finish = 1200
			m := newMatch(t, tc.n, tc.seed, 0, transport.LinkConfig{Latency: 2 * time.Millisecond}, finish)
			m.runUntil(4*time.Second, func() bool { return m.clock.Now() >= 4*time.Second })
			m.stop(tc.stopped) // not driven, socket open: SIGSTOP
			m.runUntil(13*time.Second, func() bool { return m.clock.Now() >= 12*time.Second })
			m.cont(tc.stopped) // SIGCONT
			m.runUntil(120*time.Second, m.allDone)
			m.checkFinished(true)
		})
	}
}

// TestRejoinSecondDropDuringPause: in a 3-4 player match, a survivor dies while the match
// is paused for another player; the pause starts over for both (within the first window),
// and both come back. Seeds 18-20.
func TestRejoinSecondDropDuringPause(t *testing.T) {
	for _, tc := range []struct {
		n             int
		seed          uint64
		first, second int
	}{{3, 18, 2, 1}, {3, 19, 1, 0}, {4, 20, 3, 1}} {
		t.Run(fmt.Sprintf("%d players, %d then %d", tc.n, tc.first, tc.second), func(t *testing.T) {
			const finish = 1400
			link := transport.LinkConfig{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.03}
			m := newMatch(t, tc.n, tc.seed, 2_000, link, finish)
			at := func(d time.Duration) { m.runUntil(d+time.Second, func() bool { return m.clock.Now() >= d }) }
			at(5 * time.Second)
			m.kill(tc.first)
			at(11 * time.Second)
			m.kill(tc.second)
			at(12 * time.Second)
			m.start(tc.first)
			at(14 * time.Second)
			m.start(tc.second)
			m.runUntil(120*time.Second, m.allDone)
			m.checkFinished(false)
		})
	}
}

// TestRejoinLiveSeatStaysTaken: while a 3-player match is paused for player 2, another
// process claims the seat of player 1, who is alive and waiting: it is refused ("match
// full"), and player 2 then rejoins as usual. Seed 21.
func TestRejoinLiveSeatStaysTaken(t *testing.T) {
	const finish = 900
	m := newMatch(t, 3, 21, 0, transport.LinkConfig{Latency: 10 * time.Millisecond}, finish)
	at := func(d time.Duration) { m.runUntil(d+time.Second, func() bool { return m.clock.Now() >= d }) }
	at(4 * time.Second)
	m.kill(2)
	at(11 * time.Second) // paused since about 9 s
	intruder := m.intrude(1)
	m.runUntil(20*time.Second, intruder.Done)
	if res := intruder.Result(); res.Err == nil || !strings.Contains(res.Err.Error(), "match full") {
		t.Errorf("the intruder: %v (err %v), want match full", res, res.Err)
	}
	m.start(2)
	m.runUntil(120*time.Second, m.allDone)
	m.checkFinished(false)
}

// TestRejoinQuickRestart: a supervisor restarts a killed process at once, before the
// survivors have noticed the silence (InterruptTimeout, 750 ms by default): its handshake
// for a seat whose player was heard from a moment ago is not refused ("match full") but
// waits until that player proves to be there or falls silent, and the restarted process
// rejoins. Every player ends on one checksum and no confirmed frame is taken back.
// Seeds 31-36.
func TestRejoinQuickRestart(t *testing.T) {
	for _, tc := range []struct {
		n, killed int
		seed      uint64
		back      time.Duration
	}{
		{2, 1, 31, 0}, {2, 1, 32, 300 * time.Millisecond}, {2, 1, 33, 600 * time.Millisecond},
		{2, 0, 34, 0}, {4, 2, 35, 0}, {4, 2, 36, 300 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%d players, player %d back after %v", tc.n, tc.killed, tc.back), func(t *testing.T) {
			const finish = 900
			m := newMatch(t, tc.n, tc.seed, 1_000, transport.LinkConfig{Latency: 2 * time.Millisecond}, finish)
			const at = 4 * time.Second
			m.runUntil(at+time.Second, func() bool { return m.clock.Now() >= at })
			m.kill(tc.killed)
			m.runUntil(at+tc.back+time.Second, func() bool { return m.clock.Now() >= at+tc.back })
			m.start(tc.killed)
			m.runUntil(120*time.Second, m.allDone)
			m.checkFinished(false)
			m.checkReported()
			if r := m.runners[tc.killed]; !r.Match().Rejoined() {
				t.Errorf("the restarted player %d did not rejoin: %v", tc.killed, r.Result())
			}
		})
	}
}

// TestRejoinContestedLiveSeat: while the match runs (no pause), another process claims the
// seat of player 1, who is alive and playing. The claim is not answered at once (the seat's
// player might have just died), but player 1 proves to be there with its next inputs, and
// the intruder is told "match full"; the match goes on undisturbed. Seed 37.
func TestRejoinContestedLiveSeat(t *testing.T) {
	const finish = 900
	m := newMatch(t, 2, 37, 0, transport.LinkConfig{Latency: 5 * time.Millisecond}, finish)
	m.runUntil(4*time.Second, func() bool { return m.clock.Now() >= 3*time.Second })
	intruder := m.intrude(1)
	m.runUntil(10*time.Second, intruder.Done)
	if res := intruder.Result(); res.Err == nil || !strings.Contains(res.Err.Error(), "match full") {
		t.Errorf("the intruder: %v (err %v), want match full", res, res.Err)
	}
	m.runUntil(120*time.Second, m.allDone)
	m.checkFinished(false)
	for p := range m.runners {
		if len(m.rejoins[p]) > 0 {
			t.Errorf("player %d: rejoin events %+v, want none", p, m.rejoins[p])
		}
	}
}

// TestRejoinSurvivorBetweenLegs: in a 4-player match player 2 is killed and started again;
// player 3's links to players 0 and 1 are slow, so it opens its resume leg well after
// they have opened theirs and player 0 has introduced the rejoiner to it. Between its two
// legs player 3 must not refuse the rejoiner ("match full"), and the rejoiner, which player
// 0 took, must not give up on such a refusal: it rejoins and all four finish on one
// checksum. Seeds 41-44.
func TestRejoinSurvivorBetweenLegs(t *testing.T) {
	for _, tc := range []struct {
		seed uint64
		slow time.Duration // one way, between player 3 and players 0 and 1
		back time.Duration // how long after the kill player 2 starts again
	}{
		{41, 150 * time.Millisecond, time.Second},
		{42, 300 * time.Millisecond, 1500 * time.Millisecond},
		{43, 150 * time.Millisecond, 3 * time.Second},
		{44, 400 * time.Millisecond, 2 * time.Second},
	} {
		t.Run(fmt.Sprintf("seed %d, %v slow, back after %v", tc.seed, tc.slow, tc.back), func(t *testing.T) {
			const finish = 900
			fast := transport.LinkConfig{Latency: time.Millisecond}
			m := newMatch(t, 4, tc.seed, 1_000, fast, finish)
			for _, p := range []int{0, 1} {
				slow := transport.LinkConfig{Latency: tc.slow}
				m.net.SetLink(m.addrs[p], m.addrs[3], slow)
				m.net.SetLink(m.addrs[3], m.addrs[p], slow)
			}
			const at = 4 * time.Second
			m.runUntil(at+time.Second, func() bool { return m.clock.Now() >= at })
			m.kill(2)
			m.runUntil(at+tc.back+time.Second, func() bool { return m.clock.Now() >= at+tc.back })
			m.start(2)
			m.runUntil(120*time.Second, m.allDone)
			m.checkFinished(false)
			if r := m.runners[2]; !r.Match().Rejoined() {
				t.Errorf("the restarted player 2 did not rejoin: %v", r.Result())
			}
		})
	}
}

// TestRejoinWithoutPlayerCount: in a 4-player match player 2's process is killed and
// started again without being told the player count (it expects 3). Player 0 tells it the
// count (a SetupError on its side), which is how a joiner learns it, not a refused
// rejoin: player 0 reports no RejoinRefused. Started again with the count, it rejoins.
// Seed 45.
func TestRejoinWithoutPlayerCount(t *testing.T) {
	const finish = 900
	m := newMatch(t, 4, 45, 0, transport.LinkConfig{Latency: 2 * time.Millisecond}, finish)
	m.runUntil(5*time.Second, func() bool { return m.clock.Now() >= 4*time.Second })
	m.kill(2)
	m.runUntil(7*time.Second, func() bool { return m.clock.Now() >= 5500*time.Millisecond })
	m.players = 3
	wrong := m.intrude(2)
	m.players = 0
	m.runUntil(10*time.Second, wrong.Done)
	var pce *lockstep.SetupError
	if res := wrong.Result(); !errors.As(res.Err, &pce) || pce.Players != 4 {
		t.Fatalf("the restart expecting 3 players: %v (err %v), want a SetupError naming 4", res, res.Err)
	}
	m.start(2)
	m.runUntil(120*time.Second, m.allDone)
	m.checkFinished(false)
	for p := range m.runners {
		for _, e := range m.rejoins[p] {
			if e.Kind == netplay.RejoinRefused {
				t.Errorf("player %d: %+v: the count it was told is no refused rejoin", p, e)
			}
		}
	}
}
