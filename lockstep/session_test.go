package lockstep

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The tests in this file wire sessions to each other by hand: a list of datagrams in flight
// with one fixed latency, stepped one 60 Hz tick at a time, every datagram visible to the
// test (to count, drop, forge or replay).

const tick = time.Second / 60

func nodeAddr(p int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(9000+p))
}

// stepInput is the input of player p for frame f: it changes every few frames, so
// predictions are often wrong and rollbacks happen.
func stepInput(p int, f Frame) []byte {
	return []byte{byte(p), byte(f / 5), byte(int(f) * 7 / 13)}
}

type timedEvent struct {
	Event
	at time.Duration
}

type node struct {
	player  int
	s       *Session
	g       Game
	events  []timedEvent
	sums    map[Frame]uint64
	last    Frame // last confirmed frame recorded
	startAt time.Duration
	playAt  time.Duration // no input or advance before this time (the session runs)
	paused  bool          // no input or advance, but the session runs
	stopped bool          // does nothing at all
	input   func(p int, f Frame) []byte
	stalls  int
	waits   int
	errs    []error
}

func (nd *node) count(k EventKind) int {
	n := 0
	for _, e := range nd.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func (nd *node) first(k EventKind) (timedEvent, bool) {
	for _, e := range nd.events {
		if e.Kind == k {
			return e, true
		}
	}
	return timedEvent{}, false
}

// packet is a datagram in flight.
type packet struct {
	from     netip.AddrPort
	src, dst int // player numbers; src -1 for injected datagrams
	due      time.Duration
	sentAt   time.Duration
	data     []byte
}

type testNet struct {
	t        *testing.T
	nodes    []*node
	now      time.Duration
	latency  time.Duration
	inflight []packet
	// filter sees every datagram a session sends; false loses it. It may change p.data.
	filter func(p *packet) bool
	// sent lists every datagram a session sent, copied, whatever its fate.
	sent    []packet
	nowhere int        // datagrams sent to an address nobody has
	strays  []Datagram // those datagrams, copied
}

// newNet makes n sessions with cfg (Players, InputSize and Nonce filled in). Player 0 does
// not know the others' addresses, as on the command line; the others know everyone's.
func newNet(t *testing.T, n int, latency time.Duration, cfg func(p int) Config) *testNet {
	t.Helper()
	tn := &testNet{t: t, latency: latency}
	for p := range n {
		c := Config{}
		if cfg != nil {
			c = cfg(p)
		}
		if c.Players == 0 {
			c.Players = n
		}
		if c.InputSize == 0 {
			c.InputSize = 3
		}
		if c.Nonce == 0 {
			c.Nonce = uint64(p)*7919 + 1
		}
		addrs := make([]netip.AddrPort, c.Players)
		for q := range addrs {
			if p != 0 {
				addrs[q] = nodeAddr(q)
			}
		}
		s, err := NewSession(c, p, addrs)
		if err != nil {
			t.Fatal(err)
		}
		tn.nodes = append(tn.nodes, &node{player: p, s: s, g: &toyGame{}, sums: map[Frame]uint64{}, last: NullFrame, input: stepInput})
	}
	return tn
}

func (tn *testNet) step() {
	for _, nd := range tn.nodes {
		tn.stepNode(nd)
	}
	tn.now += tick
}

func (tn *testNet) steps(n int) {
	for range n {
		tn.step()
	}
}

// until steps until cond holds, failing after limit.
func (tn *testNet) until(limit time.Duration, what string, cond func() bool) {
	tn.t.Helper()
	end := tn.now + limit
	for !cond() {
		if tn.now > end {
			tn.t.Fatalf("%s: not after %v (now %v): %s", what, limit, tn.now, tn.describe())
		}
		tn.step()
	}
}

func (tn *testNet) describe() string {
	var b strings.Builder
	for _, nd := range tn.nodes {
		st := nd.s.Stats(nil)
		b.WriteString("[player ")
		b.WriteString(string(rune('0' + nd.player)))
		b.WriteString(" " + st.State.String())
		if err := nd.s.Err(); err != nil {
			b.WriteString(" " + err.Error())
		}
		for _, e := range nd.events {
			b.WriteString("; " + e.String())
		}
		b.WriteString("] ")
	}
	return b.String()
}

func (tn *testNet) running() bool {
	for _, nd := range tn.nodes {
		if !nd.s.Running() {
			return false
		}
	}
	return true
}

// inject puts a datagram on the wire to player dst, arriving at its next step.
func (tn *testNet) inject(from netip.AddrPort, dst int, data []byte) {
	tn.inflight = append(tn.inflight, packet{from: from, src: -1, dst: dst, due: tn.now, sentAt: tn.now, data: append([]byte(nil), data...)})
}

func (tn *testNet) stepNode(nd *node) {
	if nd.stopped {
		return
	}
	now := tn.now
	// Deliver what is due, in order; a node that has not started loses it.
	keep := tn.inflight[:0]
	for _, p := range tn.inflight {
		if p.dst != nd.player || p.due > now {
			keep = append(keep, p)
			continue
		}
		if now >= nd.startAt {
			nd.s.Receive(p.from, p.data, now)
		}
	}
	tn.inflight = keep
	if now < nd.startAt {
		return
	}
	if nd.s.Running() && now >= nd.playAt && !nd.paused {
		tn.advance(nd, now)
	}
	nd.record()
	for _, d := range nd.s.Outgoing(now) {
		tn.send(nd, d)
	}
	for _, e := range nd.s.Events() {
		nd.events = append(nd.events, timedEvent{e, now})
	}
}

func (tn *testNet) advance(nd *node, now time.Duration) {
	status, reqs, err := nd.s.Step(now, nd.input(nd.player, nd.s.Frame()+Frame(nd.s.InputDelay())))
	if err != nil {
		nd.errs = append(nd.errs, err)
		return
	}
	switch status {
	case StatusWaiting, StatusSendQueueFull:
		nd.stalls++
	case StatusTimeSync:
		nd.waits++
	}
	if err := Apply(nd.g, reqs); err != nil {
		tn.t.Fatal(err)
	}
}

func (nd *node) record() {
	c := nd.s.ConfirmedFrame()
	for f := nd.last + 1; f <= c; f++ {
		if sum, ok := nd.s.Checksum(f); ok {
			nd.sums[f] = sum
		}
	}
	nd.last = max(nd.last, c)
}

func (tn *testNet) send(nd *node, d Datagram) {
	dst := -1
	for _, o := range tn.nodes {
		if nodeAddr(o.player) == d.To {
			dst = o.player
		}
	}
	if dst < 0 {
		tn.nowhere++ // nobody listens there: lost, as UDP would
		tn.strays = append(tn.strays, Datagram{To: d.To, Data: append([]byte(nil), d.Data...)})
		return
	}
	if len(d.Data) > MaxDatagram {
		tn.t.Errorf("player %d sent a %d-byte datagram", nd.player, len(d.Data))
	}
	p := packet{from: nodeAddr(nd.player), src: nd.player, dst: dst, due: tn.now + tn.latency, sentAt: tn.now, data: append([]byte(nil), d.Data...)}
	tn.sent = append(tn.sent, p)
	if tn.filter != nil && !tn.filter(&p) {
		return
	}
	tn.inflight = append(tn.inflight, p)
}

// compareSums checks that every pair of nodes agrees on every frame both confirmed, and
// returns how many frames each pair compared at least. Once a peer is dropped the two go
// separate ways: only frames up to the end frames count.
func (tn *testNet) compareSums() int {
	tn.t.Helper()
	least := -1
	for i, a := range tn.nodes {
		for _, b := range tn.nodes[i+1:] {
			n := 0
			last := Frame(1<<31 - 1)
			for _, e := range []Frame{a.s.EndFrame(), b.s.EndFrame()} {
				if e != NullFrame {
					last = min(last, e)
				}
			}
			for f, sa := range a.sums {
				if f > last {
					continue
				}
				if sb, ok := b.sums[f]; ok {
					n++
					if sa != sb {
						tn.t.Errorf("frame %d: player %d has %016x, player %d %016x", f, a.player, sa, b.player, sb)
					}
				}
			}
			if least < 0 || n < least {
				least = n
			}
		}
	}
	return least
}

func (tn *testNet) noErrors() {
	tn.t.Helper()
	for _, nd := range tn.nodes {
		for _, err := range nd.errs {
			tn.t.Errorf("player %d: %v", nd.player, err)
		}
		if err := nd.s.Err(); err != nil {
			tn.t.Errorf("player %d: %v", nd.player, err)
		}
	}
}

// --- handshake -------------------------------------------------------------------------

func TestSessionHandshake(t *testing.T) {
	for _, trips := range []int{0, 1, 3, 12} {
		want := trips
		if want == 0 {
			want = 5 // the default
		}
		tn := newNet(t, 2, 2*tick, func(p int) Config {
			return Config{SyncRoundTrips: trips, Seed: uint64(1000 + p), Game: "toy"}
		})
		n0, n1 := tn.nodes[0], tn.nodes[1]
		if n0.s.PeerAddr(1).IsValid() {
			t.Fatalf("player 0 knows player 1's address before hearing from it")
		}
		for _, nd := range []*node{n0, n1} {
			if status, reqs, err := nd.s.Step(0, make([]byte, 3)); err != nil || status != StatusSynchronizing || len(reqs) != 0 {
				t.Errorf("player %d: Step before the handshake: %v %v, want %v", nd.player, status, err, StatusSynchronizing)
			}
			if seed, ok := nd.s.Seed(); ok {
				t.Errorf("player %d: Seed() = %d before the handshake, want not ok", nd.player, seed)
			}
		}
		tn.until(2*time.Second, "handshake", tn.running)
		for _, nd := range tn.nodes {
			checkHandshakeDone(t, nd, trips, want)
		}
		if got := n0.s.PeerAddr(1); got != nodeAddr(1) {
			t.Errorf("player 0 learned %v for player 1, want %v", got, nodeAddr(1))
		}
		// Each round trip takes two latencies; the handshake takes them in a row.
		if d, _ := n1.first(EventRunning); d.at > time.Duration(want)*(2*tn.latency+2*tick)+tick {
			t.Errorf("trips %d: running after %v", trips, d.at)
		}
	}
}

// checkHandshakeDone checks a node's events and state after a handshake of want round
// trips (trips asked for).
func checkHandshakeDone(t *testing.T, nd *node, trips, want int) {
	t.Helper()
	var progress []int
	for _, e := range nd.events {
		if e.Kind == EventSynchronizing {
			progress = append(progress, e.Progress)
			if e.Total != want || e.Player != 1-nd.player {
				t.Errorf("trips %d: player %d: %v, want total %d with player %d", trips, nd.player, e, want, 1-nd.player)
			}
		}
	}
	if len(progress) != want || progress[0] != 1 || progress[len(progress)-1] != want {
		t.Errorf("trips %d: player %d: progress %v, want 1..%d", trips, nd.player, progress, want)
	}
	if nd.count(EventRunning) != 1 || nd.events[len(nd.events)-1].Kind != EventRunning {
		t.Errorf("trips %d: player %d: events %v, want running last", trips, nd.player, nd.events)
	}
	if nd.s.State() != StateRunning {
		t.Errorf("player %d state %v", nd.player, nd.s.State())
	}
	// Player 0's seed is the game's, and the running event carries it.
	if seed, ok := nd.s.Seed(); !ok || seed != 1000 {
		t.Errorf("player %d plays seed %d (%v), want player 0's 1000", nd.player, seed, ok)
	}
	if e, _ := nd.first(EventRunning); e.Seed != 1000 {
		t.Errorf("player %d: running event with seed %d, want 1000", nd.player, e.Seed)
	}
}

func TestSessionHandshakeThreeAndFourPlayers(t *testing.T) {
	for _, n := range []int{3, 4} {
		tn := newNet(t, n, tick, func(p int) Config { return Config{Seed: uint64(50 + p)} })
		tn.until(2*time.Second, "handshake", tn.running)
		for _, nd := range tn.nodes {
			if seed, ok := nd.s.Seed(); !ok || seed != 50 {
				t.Errorf("%d players: player %d seed %d (%v)", n, nd.player, seed, ok)
			}
		}
		for q := 1; q < n; q++ {
			if tn.nodes[0].s.PeerAddr(q) != nodeAddr(q) {
				t.Errorf("%d players: player 0 has %v for player %d", n, tn.nodes[0].s.PeerAddr(q), q)
			}
		}
		tn.steps(300)
		if c := tn.compareSums(); c < 250 {
			t.Errorf("%d players: %d frames compared", n, c)
		}
		tn.noErrors()
	}
}

// checkHandshakeFailed checks that player i's handshake failed with an error saying want,
// once, and that the session stays ended.
func checkHandshakeFailed(t *testing.T, tn *testNet, i int, want string) {
	t.Helper()
	nd := tn.nodes[i]
	err := nd.s.Err()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("player %d: %v, want %q", i, err, want)
	}
	if e, ok := nd.first(EventFailed); !ok || e.Err != err {
		t.Errorf("player %d: failed event %v, want one with the session's error", i, e)
	}
	if nd.count(EventRunning) != 0 || nd.s.Running() {
		t.Errorf("player %d ran", i)
	}
	if status, _, err := nd.s.Step(tn.now, nil); err != nil || status != StatusEnded || !strings.Contains(nd.s.Err().Error(), want) {
		t.Errorf("player %d: Step after the failure: %v %v (%v)", i, status, err, nd.s.Err())
	}
}

func TestSessionHandshakeMismatch(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cfg          func(p int) Config
		forceVersion bool
		twoZeros     bool   // both sessions are player 0
		want0, want1 string // want0 "": player 0 refuses the newcomer and keeps waiting
	}{
		{
			name:         "protocol version",
			forceVersion: true,
			want0:        "peer runs protocol 3, we run 2",
			want1:        "protocol", // see below
		},
		{
			name: "game",
			cfg: func(p int) Config {
				return Config{Game: map[int]string{0: "y", 1: "x"}[p]}
			},
			// Player 0 decides the game: a newcomer with another one is told player 0's
			// (a SetupError, which a joiner may adopt) and player 0 waits on for another.
			want1: `peer plays "y", we play "x"`,
		},
		{
			name:  "input size",
			cfg:   func(p int) Config { return Config{InputSize: 3 + p} },
			want0: "peer sends 4-byte inputs, we expect 3",
			want1: "peer sends 3-byte inputs, we expect 4",
		},
		{
			name:  "secrets differ",
			cfg:   func(p int) Config { return Config{Secret: []string{"tulip", "daisy"}[p]} },
			want0: "the secrets differ: the peer's handshake does not prove our secret",
			want1: "the secrets differ: the peer's handshake does not prove our secret",
		},
		{
			name:  "secret on player 0 only",
			cfg:   func(p int) Config { return Config{Secret: []string{"tulip", ""}[p]} },
			want0: "the secrets differ: we have a secret and the peer has none",
			want1: "the secrets differ: the peer has a secret and we have none",
		},
		{
			name:  "secret on player 1 only",
			cfg:   func(p int) Config { return Config{Secret: []string{"", "daisy"}[p]} },
			want0: "the secrets differ: the peer has a secret and we have none",
			want1: "the secrets differ: we have a secret and the peer has none",
		},
		{
			name:     "same player",
			twoZeros: true,
			want0:    "both peers are player 0",
			want1:    "both peers are player 0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tn *testNet
			if tc.twoZeros {
				// Two player 0s: the second one knows the first one's address.
				tn = newNet(t, 2, tick, nil)
				s, err := NewSession(Config{Players: 2, InputSize: 3, Nonce: 99}, 0, []netip.AddrPort{{}, nodeAddr(0)})
				if err != nil {
					t.Fatal(err)
				}
				tn.nodes[1].s = s
			} else {
				tn = newNet(t, 2, tick, tc.cfg)
			}
			if tc.forceVersion {
				// Player 1 speaks another protocol version: the version byte sits at the
				// same offset in every version.
				tn.filter = func(p *packet) bool {
					if p.src == 1 && len(p.data) > 4 && msgType(p.data[1]&0x0f) <= msgSyncReply {
						p.data[4] = ProtocolVersion + 1
						p.data = recrc(p.data) // an intact datagram of another version
					}
					return true
				}
			}
			tn.until(2*time.Second, "both fail", func() bool {
				return (tc.want0 == "" || tn.nodes[0].s.State() == StateFailed) && tn.nodes[1].s.State() == StateFailed
			})
			if tc.want0 == "" {
				tn.steps(60)
				if st := tn.nodes[0].s.State(); st != StateSynchronizing {
					t.Errorf("player 0 is %v after refusing a newcomer, want synchronizing (%v)", st, tn.nodes[0].s.Err())
				}
			}
			for i, want := range []string{tc.want0, tc.want1} {
				if want != "" {
					checkHandshakeFailed(t, tn, i, want)
				}
			}
			if tc.want0 == "" {
				var ge *SetupError
				if !errors.As(tn.nodes[1].s.Err(), &ge) || ge.Player != 0 || ge.Game != "y" || ge.OurGame != "x" {
					t.Errorf("player 1: %#v, want a SetupError naming player 0's game", tn.nodes[1].s.Err())
				}
				return // player 0 waits on for a player who plays its game
			}
			// Failed sessions stay quiet.
			sent := len(tn.sent)
			tn.steps(60)
			if len(tn.sent) != sent {
				t.Errorf("failed sessions sent %d more datagrams", len(tn.sent)-sent)
			}
		})
	}
}

// A peer of another version cannot tell us its version in our layout, so the one that
// really runs the other version (here: player 1, forged) gets our reject and reports it;
// our binary cannot run protocol 2, so its wording is only checked for "protocol" above.

func TestSessionPlayerOneStartsFirst(t *testing.T) {
	tn := newNet(t, 2, 3*tick, nil)
	const absent = 3 * time.Second
	tn.nodes[0].startAt = absent
	tn.until(absent+2*time.Second, "handshake after player 0 appears", tn.running)
	lost := 0
	for _, p := range tn.sent {
		if p.src == 1 && p.sentAt+tn.latency < absent {
			lost++
		}
	}
	// Player 1 retries every 100 ms while nobody answers, no faster.
	if lost < 25 || lost > 35 {
		t.Errorf("player 1 sent %d handshake datagrams in the %v player 0 was away, want about 30", lost, absent)
	}
	if at, _ := tn.nodes[0].first(EventRunning); at.at > absent+time.Second {
		t.Errorf("running %v after player 0 appeared", at.at-absent)
	}
	tn.steps(300)
	if c := tn.compareSums(); c < 250 {
		t.Errorf("%d frames compared", c)
	}
	tn.noErrors()
}

func TestSessionCloseWhileSynchronizing(t *testing.T) {
	tn := newNet(t, 2, tick, func(int) Config { return Config{SyncRoundTrips: 50} })
	tn.until(time.Second, "first round trip", func() bool { return tn.nodes[0].count(EventSynchronizing) > 0 })
	for _, d := range tn.nodes[1].s.Close(tn.now) {
		tn.send(tn.nodes[1], d)
	}
	tn.nodes[1].stopped = true
	tn.until(time.Second, "player 0 fails", func() bool { return tn.nodes[0].s.Err() != nil })
	if err := tn.nodes[0].s.Err(); !strings.Contains(err.Error(), "player 1 left before the game started") {
		t.Errorf("player 0: %v", err)
	}
}

// --- hostile and stray datagrams -------------------------------------------------------

// TestSessionDropsBadDatagrams plays the same match twice, once with a stream of bad
// datagrams thrown at player 0: each is dropped and counted under its reason, and the game
// is the same frame for frame.
// injectBadDatagrams hands player 0 one of each kind of bad datagram, made from player
// 1's recent traffic, and adds to want the drops each must cause.
func injectBadDatagrams(t *testing.T, tn *testNet, syncReply []byte, want *dropCounts) {
	t.Helper()
	var recent, old []byte
	for j := len(tn.sent) - 1; j >= 0; j-- {
		p := tn.sent[j]
		if p.src != 1 || msgType(p.data[1]&0x0f) != msgInput {
			continue
		}
		if recent == nil {
			recent = p.data
		}
		if p.sentAt < tn.now-90*tick {
			old = p.data
			break
		}
	}
	clone := func(b []byte) []byte { return append([]byte(nil), b...) }
	other := netip.AddrPortFrom(nodeAddr(1).Addr(), 9999)
	stranger := netip.MustParseAddrPort("127.0.0.2:9001")
	tn.inject(other, 0, recent) // another port on player 1's host
	tn.inject(stranger, 0, recent)
	want.Foreign += 2
	wrongTag := clone(recent)
	wrongTag[2] ^= 0x55
	tn.inject(nodeAddr(1), 0, wrongTag) // a flipped byte, or a leftover session on player 1's address
	// Cut short: the tag no longer verifies, wherever the cut is.
	tn.inject(nodeAddr(1), 0, recent[:len(recent)-1])
	tn.inject(nodeAddr(1), 0, append(clone(recent[:4]), 0x81))
	tn.inject(nodeAddr(1), 0, recent[:3])
	want.Unauthenticated += 4
	tn.inject(nodeAddr(1), 0, []byte("GET / HTTP/1.1\r\n\r\n"))                       // garbage
	tn.inject(nodeAddr(1), 0, []byte{wireMagic, 0x0f, recent[2], recent[3], 0, 0, 0}) // unknown type
	tn.inject(nodeAddr(1), 0, []byte{wireMagic, 0x00, recent[2], recent[3]})          // type 0
	want.Malformed += 3
	// A handshake reply with a flipped bit, and one cut short: the CRC fails.
	flipped := clone(syncReply)
	flipped[9] ^= 0x04
	tn.inject(nodeAddr(1), 0, flipped)
	tn.inject(nodeAddr(1), 0, syncReply[:len(syncReply)-3])
	want.Corrupt += 2
	big := append(clone(recent), make([]byte, MaxDatagram+1-len(recent))...)
	tn.inject(nodeAddr(1), 0, big) // oversized
	want.Oversized++
	tn.inject(nodeAddr(1), 0, old)       // a replay of an old input message
	tn.inject(nodeAddr(1), 0, syncReply) // a replay of the handshake
	want.Stale += 2
	// Forged: an acknowledgement of inputs we never sent.
	h, body, _ := testBody(recent)
	var m inputMsg
	if err := parseInput(body, h.flags, 3, &m); err != nil {
		t.Fatal(err)
	}
	m.ack += 1000
	tn.inject(nodeAddr(1), 0, sealAs(tn.nodes[0].s, 1, appendInput(nil, &m, 0)))
	want.Malformed++
	// (Inputs past a gap: TestSessionCountsForgedGapOnce.)
	// Another protocol version's handshake from a stranger, mid-game: ignored.
	v2 := clone(syncReply)
	v2[4] = ProtocolVersion + 1
	tn.inject(stranger, 0, recrc(v2))
	want.WrongVersion++
}

// checkSameGame checks that two runs played frame for frame the same game.
func checkSameGame(t *testing.T, clean, attacked *testNet) {
	t.Helper()
	for p := range clean.nodes {
		a, b := clean.nodes[p], attacked.nodes[p]
		if a.s.Frame() != b.s.Frame() || len(a.sums) != len(b.sums) {
			t.Fatalf("player %d: frame %d with %d checksums, attacked %d with %d", p, a.s.Frame(), len(a.sums), b.s.Frame(), len(b.sums))
		}
		for f, sum := range a.sums {
			if b.sums[f] != sum {
				t.Errorf("player %d frame %d: %016x attacked, %016x not", p, f, b.sums[f], sum)
			}
		}
		if a.g.(*toyGame).checksum() != b.g.(*toyGame).checksum() {
			t.Errorf("player %d: the attack changed the game", p)
		}
	}
}

func TestSessionDropsBadDatagrams(t *testing.T) {
	play := func(attack bool) (*testNet, dropCounts) {
		tn := newNet(t, 2, 0, nil)
		tn.until(time.Second, "handshake", tn.running)
		var syncReply []byte
		for _, p := range tn.sent {
			if p.src == 1 && msgType(p.data[1]&0x0f) == msgSyncReply {
				syncReply = p.data
			}
		}
		if syncReply == nil {
			t.Fatal("player 1 sent no sync reply")
		}
		tn.steps(100)
		var want dropCounts
		for i := range 300 {
			if attack && i%10 == 0 {
				injectBadDatagrams(t, tn, syncReply, &want)
			}
			tn.step()
		}
		tn.steps(30)
		return tn, want
	}
	clean, _ := play(false)
	attacked, want := play(true)
	base := clean.nodes[0].s.Stats(nil).Dropped
	got := attacked.nodes[0].s.Stats(nil).Dropped
	t.Logf("dropped without attack %+v, with %+v", base, got)
	diff := dropCounts{
		Malformed:       got.Malformed - base.Malformed,
		Oversized:       got.Oversized - base.Oversized,
		Corrupt:         got.Corrupt - base.Corrupt,
		Unauthenticated: got.Unauthenticated - base.Unauthenticated,
		Foreign:         got.Foreign - base.Foreign,
		WrongTag:        got.WrongTag - base.WrongTag,
		WrongVersion:    got.WrongVersion - base.WrongVersion,
		Stale:           got.Stale - base.Stale,
		Overflow:        got.Overflow - base.Overflow,
	}
	// Truncated input messages may count as either Malformed or Stale; their sum is exact.
	mixed, wantMixed := diff.Malformed+diff.Stale, want.Malformed+want.Stale
	diff.Malformed, diff.Stale, want.Malformed, want.Stale = 0, 0, 0, 0
	if diff != want || mixed != wantMixed {
		t.Errorf("drops caused by the bad datagrams %+v with %d malformed or stale, want %+v with %d", diff, mixed, want, wantMixed)
	}
	if total(got) < total(want) {
		t.Errorf("Total %d, want at least %d", total(got), total(want))
	}
	attacked.noErrors()
	for _, nd := range attacked.nodes {
		if nd.count(EventDesync) != 0 || nd.count(EventFailed) != 0 {
			t.Errorf("player %d: %v", nd.player, nd.events)
		}
	}
	if c := attacked.compareSums(); c < 400 {
		t.Errorf("%d frames compared", c)
	}
	// Frame for frame the same game as without the attack.
	checkSameGame(t, clean, attacked)
}

// TestSessionCountsForgedGapOnce: an input message whose inputs start past a gap (forged or
// corrupt: the sender always starts right after our acknowledgement) is one dropped
// datagram, Malformed, and changes nothing.
func TestSessionCountsForgedGapOnce(t *testing.T) {
	tn := newNet(t, 2, 0, nil)
	tn.until(time.Second, "handshake", tn.running)
	tn.steps(100)
	var recent []byte
	for _, p := range tn.sent {
		if p.src == 1 && msgType(p.data[1]&0x0f) == msgInput {
			recent = p.data
		}
	}
	h, body, _ := testBody(recent)
	var m inputMsg
	if err := parseInput(body, h.flags, 3, &m); err != nil || m.count == 0 {
		t.Fatalf("%+v, %v", m, err)
	}
	m.start += 50
	tn.step() // player 0 receives the real message first
	s := tn.nodes[0].s
	before := s.Stats(nil).Dropped
	known := s.sync.queues[1].known
	s.Receive(nodeAddr(1), sealAs(s, 1, appendInput(nil, &m, 0)), tn.now)
	after := s.Stats(nil).Dropped
	if s.sync.queues[1].known != known {
		t.Errorf("inputs after a gap were taken: known %d, was %d", s.sync.queues[1].known, known)
	}
	if after.Malformed != before.Malformed+1 || total(after) != total(before)+1 {
		t.Errorf("one forged datagram: drops went from %+v to %+v, want one more Malformed and nothing else", before, after)
	}
}

// --- timeouts, goodbye -----------------------------------------------------------------

func TestSessionTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		interrupt, disconnect time.Duration
		silence               time.Duration // how long the link is cut
	}{
		{"defaults, peer gone", 0, 0, time.Hour},
		{"defaults, outage", 0, 0, 2 * time.Second},
		{"custom, peer gone", 250 * time.Millisecond, time.Second, time.Hour},
		{"custom, outage", 250 * time.Millisecond, time.Second, 500 * time.Millisecond},
		{"interrupt equals disconnect", time.Second, time.Second, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{InterruptTimeout: tc.interrupt, DisconnectTimeout: tc.disconnect}
			tn := newNet(t, 2, 2*tick, func(int) Config { return cfg })
			cfg.InputSize = 3
			cfg = cfg.WithDefaults()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			it, dt := cfg.InterruptTimeout, cfg.DisconnectTimeout
			tn.until(time.Second, "handshake", tn.running)
			tn.steps(120)
			cut := tn.now
			tn.filter = func(p *packet) bool { return p.sentAt < cut || p.sentAt >= cut+tc.silence }
			tn.until(dt+2*time.Second, "timeout", func() bool {
				return tn.now > cut+tc.silence+time.Second || (tn.nodes[0].count(EventDisconnected) > 0 && tn.nodes[1].count(EventDisconnected) > 0)
			})
			// The last datagram before the cut arrives one latency later; silence counts from then.
			w := timeoutWant{cut: cut, silence: tc.silence, it: it, dt: dt, slack: tn.latency + 2*tick}
			for _, nd := range tn.nodes {
				w.checkNode(t, nd)
			}
			if tc.silence >= dt {
				w.checkAlone(t, tn)
			}
			if c := tn.compareSums(); c < 100 {
				t.Errorf("%d frames compared", c)
			}
			tn.noErrors()
		})
	}
}

// timeoutWant is what TestSessionTimeouts expects after the link is cut at cut for silence:
// an interruption after it, and a disconnect after dt (once silence reaches it).
type timeoutWant struct {
	cut, silence, it, dt, slack time.Duration
}

// checkNode checks one node's events and peer stats after the cut.
func (w timeoutWant) checkNode(t *testing.T, nd *node) {
	t.Helper()
	cut, dt, slack := w.cut, w.dt, w.slack
	var kinds []EventKind
	for _, e := range nd.events {
		if e.at >= cut && e.Kind != EventTimeSyncWait {
			kinds = append(kinds, e.Kind)
		}
	}
	w.checkInterrupted(t, nd, kinds)
	if w.silence < dt {
		w.checkResumed(t, nd, kinds)
		return
	}
	ev, ok := nd.first(EventDisconnected)
	if !ok {
		t.Fatalf("player %d: no disconnect: %v", nd.player, kinds)
	}
	if ev.at < cut+dt-tick || ev.at > cut+dt+slack {
		t.Errorf("player %d: disconnected at %v, want %v after %v", nd.player, ev.at, dt, cut)
	}
	if ev.Frame != nd.s.EndFrame() || ev.Frame < 100 {
		t.Errorf("player %d: disconnected at frame %d, EndFrame %d", nd.player, ev.Frame, nd.s.EndFrame())
	}
	if st := nd.s.Stats(nil); st.Peers[0].State != StateGone {
		t.Errorf("player %d: peer state %q", nd.player, st.Peers[0].State)
	}
}

// checkInterrupted checks a node's interruption after the cut.
func (w timeoutWant) checkInterrupted(t *testing.T, nd *node, kinds []EventKind) {
	t.Helper()
	cut, it, dt, slack := w.cut, w.it, w.dt, w.slack
	ev, ok := nd.first(EventInterrupted)
	switch {
	case !ok && it < dt:
		t.Errorf("player %d: no interruption: %v", nd.player, kinds)
	case ok && (ev.at < cut+it-tick || ev.at > cut+it+slack):
		t.Errorf("player %d: interrupted at %v, want %v after %v", nd.player, ev.at, it, cut)
	case ok && (ev.Timeout > dt-it+tick || ev.Timeout < dt-it-slack):
		t.Errorf("player %d: interrupted with %v left, want about %v", nd.player, ev.Timeout, dt-it)
	case ok && ev.Player != 1-nd.player:
		t.Errorf("player %d: interrupted by player %d", nd.player, ev.Player)
	}
}

// checkResumed checks a node whose link came back before the disconnect timeout.
func (w timeoutWant) checkResumed(t *testing.T, nd *node, kinds []EventKind) {
	t.Helper()
	if want := []EventKind{EventInterrupted, EventResumed}; len(kinds) != 2 || kinds[0] != want[0] || kinds[1] != want[1] {
		t.Errorf("player %d: events %v after the cut, want %v", nd.player, kinds, want)
	}
	if e, _ := nd.first(EventResumed); e.at < w.cut+w.silence || e.at > w.cut+w.silence+w.slack {
		t.Errorf("player %d: resumed at %v, link back at %v", nd.player, e.at, w.cut+w.silence)
	}
	if st := nd.s.Stats(nil); st.Peers[0].Interrupted || st.Peers[0].State != StateRunning {
		t.Errorf("player %d: peer stats %+v after resuming", nd.player, st.Peers[0])
	}
}

// checkAlone checks that, alone after the disconnect, each plays on without waiting for
// anyone and sends nothing to the dropped peer.
func (w timeoutWant) checkAlone(t *testing.T, tn *testNet) {
	t.Helper()
	before := [2]Frame{tn.nodes[0].s.Frame(), tn.nodes[1].s.Frame()}
	stalls := [2]int{tn.nodes[0].stalls, tn.nodes[1].stalls}
	tn.steps(120)
	for i, nd := range tn.nodes {
		if got := nd.s.Frame() - before[i]; got != 120 || nd.stalls != stalls[i] {
			t.Errorf("player %d advanced %d frames in 120 ticks (%d stalls) after the disconnect", i, got, nd.stalls-stalls[i])
		}
		if c := nd.s.ConfirmedFrame(); c != nd.s.Frame() {
			t.Errorf("player %d: confirmed %d of %d after the disconnect", i, c, nd.s.Frame())
		}
		// Nothing is sent to a peer that is gone.
		for _, p := range tn.sent {
			if p.src == i && p.sentAt > w.cut+w.dt+w.slack {
				t.Fatalf("player %d still sends to the dropped peer at %v", i, p.sentAt)
			}
		}
	}
}

// closeAndSayGoodbye closes nd's session and sends its goodbyes, which must carry frame end
// to player 0.
func closeAndSayGoodbye(t *testing.T, tn *testNet, nd *node, end Frame) {
	t.Helper()
	bye := nd.s.Close(tn.now)
	if len(bye) != 2 {
		t.Errorf("%d goodbye datagrams, want 2 (one may be lost)", len(bye))
	}
	for _, d := range bye {
		h, body, err := testBody(d.Data)
		r := reader{b: body}
		if err != nil || h.typ != msgBye || Frame(r.uvarint(maxFrameOnWire)) != end || d.To != nodeAddr(0) {
			t.Errorf("goodbye %x to %v, want one carrying frame %d to player 0", d.Data, d.To, end)
		}
		tn.send(nd, d)
	}
}

// checkPeerLeftAt checks that nd saw player 1 leave, once, at frame end.
func checkPeerLeftAt(t *testing.T, nd *node, end Frame) {
	t.Helper()
	e, _ := nd.first(EventPeerLeft)
	if e.Player != 1 || e.Frame != end {
		t.Errorf("peer left event %+v, want player 1 at frame %d", e.Event, end)
	}
	if nd.count(EventPeerLeft) != 1 || nd.count(EventDisconnected) != 0 {
		t.Errorf("player 0 events %v", nd.events)
	}
	if nd.s.EndFrame() != end {
		t.Errorf("player 0's EndFrame %d, want %d", nd.s.EndFrame(), end)
	}
}

func TestSessionCloseSaysGoodbye(t *testing.T) {
	tn := newNet(t, 2, 3*tick, nil)
	tn.until(time.Second, "handshake", tn.running)
	tn.steps(200)
	n0, n1 := tn.nodes[0], tn.nodes[1]
	// Player 1 leaves the way netplay.Runner does: no more input, fold in late remote inputs,
	// wait until player 0 has all of ours, then say goodbye.
	n1.paused = true
	end := n1.s.LastLocalFrame() + 1
	tn.until(time.Second, "player 1 ready to leave", func() bool {
		status, reqs, err := n1.s.Step(tn.now, nil)
		if err != nil || status != StatusCaughtUp {
			t.Fatalf("Step with no input: %v %v, want %v", status, err, StatusCaughtUp)
		}
		if err := Apply(n1.g, reqs); err != nil {
			t.Fatal(err)
		}
		return n1.s.ConfirmedFrame() >= end && n1.s.Unacknowledged() == 0
	})
	if n1.s.Frame() != end {
		t.Fatalf("player 1 at frame %d, end %d", n1.s.Frame(), end)
	}
	closeAndSayGoodbye(t, tn, n1, end)
	n1.record()
	n1.stopped = true
	if n1.s.State() != StateClosed || n1.s.Running() {
		t.Errorf("player 1 state %v after Close", n1.s.State())
	}
	if status, _, err := n1.s.Step(tn.now, make([]byte, 3)); err != nil || status != StatusEnded || n1.s.Err() != nil {
		t.Errorf("Step after Close: %v %v (%v), want %v and no error", status, err, n1.s.Err(), StatusEnded)
	}
	tn.until(time.Second, "player 0 sees player 1 leave", func() bool { return n0.count(EventPeerLeft) > 0 })
	tn.steps(30)
	checkPeerLeftAt(t, n0, end)
	// Both agree on the last frame's state.
	s0, ok0 := n0.sums[end]
	s1, ok1 := n1.sums[end]
	if !ok0 || !ok1 || s0 != s1 {
		t.Errorf("frame %d: player 0 %016x (%v), player 1 %016x (%v)", end, s0, ok0, s1, ok1)
	}
	tn.compareSums()
	tn.noErrors()
}

// --- traffic ---------------------------------------------------------------------------

func TestSessionOneDatagramPerFrame(t *testing.T) {
	for _, latency := range []time.Duration{0, 3 * tick} {
		tn := newNet(t, 2, latency, nil)
		tn.until(time.Second, "handshake", tn.running)
		tn.steps(120)
		from := len(tn.sent)
		const frames = 600
		tn.steps(frames)
		var count [2]int
		var lastAck [2]Frame
		lastAck[0], lastAck[1] = NullFrame, NullFrame
		for _, p := range tn.sent[from:] {
			count[p.src]++
			h, body, err := testBody(p.data)
			if err != nil || h.typ != msgInput {
				t.Fatalf("latency %v: player %d sent a %v datagram in steady state", latency, p.src, h.typ)
			}
			var m inputMsg
			if err := parseInput(body, h.flags, 3, &m); err != nil {
				t.Fatal(err)
			}
			// Acknowledgements ride on input messages: none goes alone.
			if m.count == 0 {
				t.Errorf("latency %v: player %d sent a datagram without inputs (a bare ack)", latency, p.src)
			}
			if m.ack < lastAck[p.src] {
				t.Errorf("latency %v: player %d's ack went back from %d to %d", latency, p.src, lastAck[p.src], m.ack)
			}
			lastAck[p.src] = m.ack
		}
		for p, n := range count {
			perFrame := float64(n) / frames
			t.Logf("latency %v: player %d sent %.3f datagrams a frame", latency, p, perFrame)
			if perFrame > 1.1 || perFrame < 0.9 {
				t.Errorf("latency %v: player %d sent %d datagrams in %d frames", latency, p, n, frames)
			}
			st := tn.nodes[p].s.Stats(nil)
			if pps := st.Peers[0].PacketsOutPerSec; pps < 54 || pps > 66 {
				t.Errorf("latency %v: player %d: %d packets a second", latency, p, pps)
			}
		}
		// The acks keep up: the last one each side sent is at most a round trip behind.
		for p := range 2 {
			if behind := tn.nodes[1-p].s.LastLocalFrame() - lastAck[p]; behind > Frame(2*latency/tick)+2 {
				t.Errorf("latency %v: player %d acked frame %d, %d behind", latency, p, lastAck[p], behind)
			}
		}
		tn.noErrors()
	}
}

// --- time sync -------------------------------------------------------------------------

func TestSessionTimeSync(t *testing.T) {
	// run plays 600 frames; player 0 starts playing headStart frames after player 1.
	run := func(headStart, maxPred int) *testNet {
		tn := newNet(t, 2, 4*tick, func(int) Config { return Config{MaxPrediction: maxPred} })
		tn.until(time.Second, "handshake", tn.running)
		tn.nodes[0].playAt = tn.now + time.Duration(headStart)*tick
		tn.steps(600)
		tn.compareSums()
		tn.noErrors()
		return tn
	}
	gap := func(tn *testNet) Frame { return tn.nodes[1].s.Frame() - tn.nodes[0].s.Frame() }
	waited := func(nd *node, since time.Duration) (events, frames int) {
		for _, e := range nd.events {
			if e.Kind == EventTimeSyncWait && e.at >= since {
				events++
				frames += e.Frames
			}
		}
		return events, frames
	}
	for _, tc := range []struct{ headStart, maxPred int }{{0, 0}, {10, 0}, {10, 20}, {20, 30}} {
		tn := run(tc.headStart, tc.maxPred)
		n0, n1 := tn.nodes[0], tn.nodes[1]
		e0, f0 := waited(n0, 0)
		e1, f1 := waited(n1, 0)
		t.Logf("head start %d, maxpred %d: gap %d; player 0 waited %d frames (%d events), stalled %d; player 1 waited %d frames (%d events), stalled %d",
			tc.headStart, tc.maxPred, gap(tn), f0, e0, n0.stalls, f1, e1, n1.stalls)
		if n0.waits != f0 || n1.waits != f1 {
			t.Errorf("Wait returned true %d and %d times, the events asked for %d and %d", n0.waits, n1.waits, f0, f1)
		}
		// However far apart they start, the two meet within 600 frames and stay together.
		if g := gap(tn); g > 2 || g < -2 {
			t.Errorf("head start %d: after 600 frames player 1 is %d frames ahead", tc.headStart, g)
		}
		if _, late := waited(n1, tn.now-5*time.Second); late > 4 {
			t.Errorf("head start %d: player 1 still waited %d frames in the last 5 seconds", tc.headStart, late)
		}
		if tc.headStart == 0 {
			continue
		}
		// The one ahead is told to wait; waiting, not stalling at the prediction window, is
		// how it gives up its lead when the window is wide enough to allow one.
		if e1 == 0 {
			t.Errorf("head start %d: the peer ahead was never asked to wait: %v", tc.headStart, n1.events)
		}
		if f0 > f1 {
			t.Errorf("head start %d: the peer behind waited %d frames, the one ahead %d", tc.headStart, f0, f1)
		}
		if tc.maxPred > tc.headStart {
			if n1.stalls != 0 || f1 < tc.headStart/2-1 {
				t.Errorf("head start %d: player 1 stalled %d times and waited %d frames", tc.headStart, n1.stalls, f1)
			}
		}
	}
}

// --- errors ----------------------------------------------------------------------------

// checkCatchUp lets player 1 be heard again after player 0 stalled at frame: player 0
// catches up, and rolls back no deeper than the window.
func checkCatchUp(t *testing.T, tn *testNet, cfg Config, frame Frame) {
	t.Helper()
	n0, s := tn.nodes[0], tn.nodes[0].s
	tn.filter = nil
	stalls := n0.stalls
	tn.steps(120)
	if n0.stalls-stalls > 2*cfg.MaxPrediction {
		t.Errorf("maxpred %d: %d more stalls after player 1 came back", cfg.MaxPrediction, n0.stalls-stalls)
	}
	st := s.Stats(nil)
	if st.MaxRollbackDepth > cfg.MaxPrediction || st.MaxRollbackDepth < 1 {
		t.Errorf("maxpred %d: deepest rollback %d", cfg.MaxPrediction, st.MaxRollbackDepth)
	}
	if s.Frame() < frame+100 {
		t.Errorf("maxpred %d: player 0 at frame %d, stuck since %d", cfg.MaxPrediction, s.Frame(), frame)
	}
}

func TestSessionInputErrors(t *testing.T) {
	for _, maxPred := range []int{0, 3} {
		cfg := Config{MaxPrediction: maxPred}
		tn := newNet(t, 2, 0, func(int) Config { return cfg })
		cfg.InputSize = 3
		cfg = cfg.WithDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		n0 := tn.nodes[0]
		s := n0.s
		if status, _, err := s.Step(0, make([]byte, 3)); err != nil || status != StatusSynchronizing {
			t.Errorf("before the handshake: %v %v", status, err)
		}
		tn.until(time.Second, "handshake", tn.running)
		tn.steps(30)
		n0.paused = true
		frame := s.Frame()
		if status, _, err := s.Step(tn.now, make([]byte, 4)); err == nil || status != 0 || s.Frame() != frame {
			t.Errorf("a 4-byte input for a 3-byte game: %v %v, frame %d -> %d", status, err, frame, s.Frame())
		}
		status, reqs, err := s.Step(tn.now, stepInput(0, s.Frame()))
		if err != nil || status != StatusAdvanced {
			t.Fatalf("step: %v %v", status, err)
		}
		if err := Apply(n0.g, reqs); err != nil {
			t.Fatal(err)
		}
		n0.paused = false

		// Player 1 goes silent: player 0 runs MaxPrediction frames past its last input, then
		// refuses.
		// What player 1 sent so far still arrives (the link has no latency).
		known := tn.nodes[1].s.LastLocalFrame()
		tn.filter = func(p *packet) bool { return p.src != 1 }
		stalls := n0.stalls
		tn.steps(cfg.MaxPrediction + 10)
		if n0.stalls == stalls {
			t.Fatalf("maxpred %d: player 0 never stalled", cfg.MaxPrediction)
		}
		if got, want := s.Frame(), known+1+Frame(cfg.MaxPrediction); got != want {
			t.Errorf("maxpred %d: player 0 stopped at frame %d, want %d (player 1's last input %d)", cfg.MaxPrediction, got, want, known)
		}
		if d := s.Frame() - s.ConfirmedFrame(); d != Frame(cfg.MaxPrediction) {
			t.Errorf("maxpred %d: %d frames past the confirmed one", cfg.MaxPrediction, d)
		}
		frame = s.Frame()
		if status, reqs, err := s.Step(tn.now, stepInput(0, s.LastLocalFrame()+1)); err != nil || status != StatusWaiting || len(reqs) != 0 {
			t.Errorf("maxpred %d: Step past the window: %v %v, want %v", cfg.MaxPrediction, status, err, StatusWaiting)
		}
		if s.Frame() != frame || s.LastLocalFrame() != frame-1 {
			t.Errorf("a refused input was kept")
		}
		checkCatchUp(t, tn, cfg, frame)
		if c := tn.compareSums(); c < 100 {
			t.Errorf("%d frames compared", c)
		}
		tn.noErrors()
	}
}

// skewedGame adds one to its sum at one frame, every time it runs it: a game that is not
// deterministic across machines.
type skewedGame struct {
	toyGame
	at int64
}

func (g *skewedGame) AdvanceFrame(inputs []byte) {
	g.toyGame.AdvanceFrame(inputs)
	if g.frame == g.at {
		g.sum++
	}
}

// faultyGame adds faults[f] to its sum at each frame f of faults, every time it runs it;
// with every > 0, also at every every-th frame from the first fault on (a game that keeps
// diverging).
type faultyGame struct {
	toyGame
	faults map[int64]uint64
	every  int64
	first  int64
}

func (g *faultyGame) AdvanceFrame(inputs []byte) {
	g.toyGame.AdvanceFrame(inputs)
	g.sum += g.faults[g.frame]
	if g.every > 0 && g.frame > g.first && (g.frame-g.first)%g.every == 0 {
		g.sum += 7
	}
}

func TestSessionDetectsDesync(t *testing.T) {
	tn := newNet(t, 2, 2*tick, func(int) Config { return Config{StopOnDesync: true} })
	tn.nodes[1].g = &skewedGame{at: 100}
	tn.until(10*time.Second, "desync", func() bool {
		return tn.nodes[0].s.State() == StateDesync && tn.nodes[1].s.State() == StateDesync
	})
	var sums [2][2]uint64
	for i, nd := range tn.nodes {
		e, ok := nd.first(EventDesync)
		if !ok || e.Frame != 120 || e.Player != 1-i || e.Local == e.Remote {
			t.Errorf("player %d: desync event %+v, want frame 120 (the first checksum after 100)", i, e.Event)
		}
		sums[i] = [2]uint64{e.Local, e.Remote}
		f, state, ok := nd.s.DesyncState()
		var g toyGame
		if !ok || f != 120 || g.LoadState(state) != nil || g.frame != 120 {
			t.Errorf("player %d: desync state of frame %d (%v), %d bytes", i, f, ok, len(state))
		}
		if err := nd.s.Err(); !errors.Is(err, ErrDesync) {
			t.Errorf("player %d: %v", i, err)
		}
		if status, _, err := nd.s.Step(tn.now, make([]byte, 3)); err != nil || status != StatusEnded {
			t.Errorf("player %d: Step after the desync: %v %v", i, status, err)
		}
	}
	if sums[0][0] != sums[1][1] || sums[0][1] != sums[1][0] {
		t.Errorf("the two sides report different checksums: %x", sums)
	}
	// The state of frame 100 is the first to differ; the recorded checksums say so too.
	a, b := tn.nodes[0].sums, tn.nodes[1].sums
	if a[99] != b[99] || a[100] == b[100] {
		t.Errorf("frame 99: %016x and %016x, frame 100: %016x and %016x", a[99], b[99], a[100], b[100])
	}
}

// --- stats -----------------------------------------------------------------------------

func TestSessionStats(t *testing.T) {
	for _, latency := range []time.Duration{3 * tick, 40 * time.Millisecond, 100 * time.Millisecond} {
		tn := newNet(t, 2, latency, nil)
		tn.until(2*time.Second, "handshake", tn.running)
		tn.steps(300)
		for _, nd := range tn.nodes {
			checkStats(t, latency, nd)
		}
		tn.compareSums()
		tn.noErrors()
	}
}

// checkStats checks one node's Stats after 300 frames over a link of the given latency.
func checkStats(t *testing.T, latency time.Duration, nd *node) {
	t.Helper()
	st := nd.s.Stats(make([]PeerStats, 0, 4))
	if len(st.Peers) != 1 {
		t.Fatalf("%d peer stats", len(st.Peers))
	}
	ps := st.Peers[0]
	// The datagrams wait for the next tick, up to one more tick each way.
	rtt, lo, hi := ps.RTT, 2*latency, 2*latency+2*tick
	t.Logf("latency %v: player %d: %+v", latency, nd.player, st)
	if rtt < lo-time.Millisecond || rtt > hi+time.Millisecond {
		t.Errorf("latency %v: player %d: RTT %v, want %v..%v", latency, nd.player, rtt, lo, hi)
	}
	switch {
	case st.State != StateRunning || ps.State != StateRunning || ps.Player != 1-nd.player || ps.Interrupted:
		t.Errorf("states %+v", st)
	case st.Frame != nd.s.Frame() || st.ConfirmedFrame != nd.s.ConfirmedFrame() || st.Frame < 290:
		t.Errorf("frames %d, %d", st.Frame, st.ConfirmedFrame)
	case st.Frame-st.ConfirmedFrame > Frame(latency/tick)+3:
		t.Errorf("confirmed %d, %d behind frame %d", st.ConfirmedFrame, st.Frame-st.ConfirmedFrame, st.Frame)
	case st.Rollbacks < 10 || st.RollbackFrames < st.Rollbacks || st.MaxRollbackDepth < 1 || st.MaxRollbackDepth > 8:
		t.Errorf("rollbacks %d (%d frames), deepest %d", st.Rollbacks, st.RollbackFrames, st.MaxRollbackDepth)
	default:
		checkPeerStats(t, latency, st)
	}
}

// checkPeerStats is checkStats' part on the peer's figures: traffic, queue, advantages.
func checkPeerStats(t *testing.T, latency time.Duration, st Stats) {
	t.Helper()
	ps := st.Peers[0]
	switch {
	case ps.PacketsIn < 290 || ps.PacketsOut < 290 || ps.BytesIn < 10*ps.PacketsIn || ps.BytesOut < 10*ps.PacketsOut:
		t.Errorf("traffic in %d/%d B, out %d/%d B", ps.PacketsIn, ps.BytesIn, ps.PacketsOut, ps.BytesOut)
	case ps.PacketsInPerSec < 50 || ps.PacketsOutPerSec < 50 || ps.BytesInPerSec < 500 || ps.BytesOutPerSec < 500:
		t.Errorf("rates in %d/s %d B/s, out %d/s %d B/s", ps.PacketsInPerSec, ps.BytesInPerSec, ps.PacketsOutPerSec, ps.BytesOutPerSec)
	case ps.SendQueue < 0 || ps.SendQueue > int(2*latency/tick)+5:
		t.Errorf("send queue %d", ps.SendQueue)
	case ps.LocalAdvantage < -3 || ps.LocalAdvantage > 3 || ps.RemoteAdvantage < -3 || ps.RemoteAdvantage > 3:
		t.Errorf("advantages %d, %d", ps.LocalAdvantage, ps.RemoteAdvantage)
	case total(st.Dropped) != st.Dropped.Stale:
		t.Errorf("dropped %+v on a clean link", st.Dropped)
	}
}

// TestSessionIntroductions: with 3 and 4 players, every player but 0 knows only player 0's
// address; player 0 introduces them, they mesh directly, and the match plays in agreement.
func TestSessionIntroductions(t *testing.T) {
	for _, tc := range []struct {
		n     int
		lossy bool // a fifth of the datagrams lost, and the last player starts 1 s late
	}{{3, false}, {4, false}, {3, true}, {4, true}} {
		n := tc.n
		tn := newNet(t, n, tick, nil)
		if tc.lossy {
			rng := rand.New(rand.NewPCG(uint64(n), 77))
			tn.filter = func(*packet) bool { return rng.IntN(5) != 0 }
			tn.nodes[n-1].startAt = time.Second
		}
		for p := 1; p < n; p++ {
			addrs := make([]netip.AddrPort, n)
			addrs[0] = nodeAddr(0)
			s, err := NewSession(Config{Players: n, InputSize: 3, Nonce: uint64(p)*7919 + 1}, p, addrs)
			if err != nil {
				t.Fatal(err)
			}
			tn.nodes[p].s = s
		}
		tn.until(6*time.Second, "handshake", tn.running)
		for _, nd := range tn.nodes {
			for q := range n {
				if q != nd.player && nd.s.PeerAddr(q) != nodeAddr(q) {
					t.Errorf("%d players: player %d has %v for player %d, want %v", n, nd.player, nd.s.PeerAddr(q), q, nodeAddr(q))
				}
			}
		}
		tn.steps(300)
		if c := tn.compareSums(); c < 250 {
			t.Errorf("%d players: %d frames compared", n, c)
		}
		tn.noErrors()
	}
}

func TestParseIntroErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"count over the players", []byte{5}},
		{"entry missing", []byte{1}},
		{"player out of range", []byte{1, 3, 4, 127, 0, 0, 1, 1, 0}},
		{"bad address length", []byte{1, 1, 5, 127, 0, 0, 1, 9, 1, 0}},
		{"port 0", []byte{1, 1, 4, 127, 0, 0, 1, 0, 0}},
		{"trailing", []byte{1, 1, 4, 127, 0, 0, 1, 1, 0, 0}},
	} {
		if got, err := parseIntro(tc.body, 3); err == nil {
			t.Errorf("%s: parsed %x as %+v", tc.name, tc.body, got)
		}
	}
	got, err := parseIntro([]byte{1, 2, 4, 10, 0, 0, 7, 0x58, 0x1b}, 3)
	if err != nil || got.n != 1 || got.list[0] != (introduction{player: 2, addr: netip.MustParseAddrPort("10.0.0.7:7000")}) {
		t.Errorf("parsed %+v, %v", got, err)
	}
}

// TestSessionPlayerCountFromPlayerZero: player 0 decides how many play. A newcomer that
// expects another count is refused with player 0's count, which it can read from its error
// (and start again with), and player 0 goes on waiting, undisturbed.
func TestSessionPlayerCountFromPlayerZero(t *testing.T) {
	tn := newNet(t, 2, tick, func(p int) Config { return Config{Players: 3 - p} })
	tn.until(2*time.Second, "player 1 fails", func() bool { return tn.nodes[1].s.State() == StateFailed })
	var pc *SetupError
	if err := tn.nodes[1].s.Err(); !errors.As(err, &pc) || pc.Players != 3 || pc.OurPlayers != 2 ||
		!strings.Contains(err.Error(), "peer expects 3 players, we expect 2") {
		t.Errorf("player 1: %v, want a SetupError saying player 0 expects 3", err)
	}
	tn.steps(30)
	if st, err := tn.nodes[0].s.State(), tn.nodes[0].s.Err(); st != StateSynchronizing || err != nil {
		t.Errorf("player 0: %v, %v; want it still waiting", st, err)
	}
	if a := tn.nodes[0].s.PeerAddr(1); a.IsValid() {
		t.Errorf("player 0 seated the refused newcomer at %v", a)
	}
}

// TestPeerStatsReceived: PeerStats.Received is the last frame of the peer's input held
// here: nothing before the handshake, then no further than the peer has played, and at
// least every frame this side confirmed.
func TestPeerStatsReceived(t *testing.T) {
	tn := newNet(t, 2, 20*time.Millisecond, func(int) Config { return Config{} })
	for _, nd := range tn.nodes {
		if ps := nd.s.Stats(nil).Peers[0]; ps.Received != NullFrame {
			t.Errorf("player %d: received %d before the handshake", nd.player, ps.Received)
		}
	}
	tn.steps(200)
	for i, nd := range tn.nodes {
		peer := tn.nodes[1-i]
		ps := nd.s.Stats(nil).Peers[0]
		if ps.Received != nd.s.knownFrame(peer.player) || ps.Received > peer.s.LastLocalFrame() || ps.Received < nd.s.ConfirmedFrame()-1 || ps.Received < 100 {
			t.Errorf("player %d: received %d; the peer's last local frame %d, confirmed here %d", nd.player, ps.Received, peer.s.LastLocalFrame(), nd.s.ConfirmedFrame())
		}
	}
}
