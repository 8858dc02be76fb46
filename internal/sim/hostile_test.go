package sim

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/simtest"
	"p2pa/transport"
)

// hostileTap stands in front of a player's endpoint (Scenario.WrapConn) and, while into is
// set, keeps a copy of every datagram the runner reads from the other player that is not
// in injected: a way to capture real traffic without changing the run.
type hostileTap struct {
	transport.Conn
	from     netip.AddrPort
	injected map[string]bool
	into     *[][]byte
}

func (c *hostileTap) ReadFrom(b []byte) (int, netip.AddrPort, bool) {
	n, from, ok := c.Conn.ReadFrom(b)
	if ok && c.into != nil && n <= len(b) && from == c.from && !c.injected[string(b[:n])] {
		*c.into = append(*c.into, append([]byte(nil), b[:n]...))
	}
	return n, from, ok
}

// hostileSim is a two-player coin match whose players' reads are tapped.
type hostileSim struct {
	*Sim
	taps [2]*hostileTap
}

func newHostileSim(t *testing.T, sc Scenario) *hostileSim {
	t.Helper()
	h := &hostileSim{}
	sc.WrapConn = func(p int, c transport.Conn) transport.Conn {
		h.taps[p] = &hostileTap{Conn: c, from: simtest.Addr(1 - p)}
		return h.taps[p]
	}
	s, err := New(sc, Coins{})
	if err != nil {
		t.Fatal(err)
	}
	h.Sim = s
	return h
}

// hostileStep runs one tick and, if capture is set, captures the real traffic each player
// read in it.
func hostileStep(t *testing.T, s *hostileSim, capture *[2][][]byte, injected map[string]bool) {
	t.Helper()
	for p, tap := range s.taps {
		tap.injected, tap.into = injected, nil
		if capture != nil {
			tap.into = &capture[p]
		}
	}
	err := s.Step()
	for _, tap := range s.taps {
		tap.into = nil
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Message types and fields, read the way lockstep's wire format (protocol 2) lays them out:
// magic, type and flags; a handshake then has 2 reserved bytes, the version and the
// sender's session nonce, and ends in a CRC-32C; input and goodbye messages end in an
// 8-byte tag.
const (
	hostileMagic       = 0xB7
	hostileSyncRequest = 1
	hostileSyncReply   = 2
	hostileInput       = 3
	hostileBye         = 4
	hostileReject      = 5
	hostileTagLen      = 8
)

// hostileTagged are the other types that end in a tag: introduction (6), state chunk and
// acknowledgement (9, 10), resync chunk and acknowledgement (11, 12).
var hostileTagged = []byte{6, 9, 10, 11, 12}

func hostileType(d []byte) byte {
	if len(d) < 2 || d[0] != hostileMagic {
		return 0
	}
	return d[1] & 0x0f
}

func hostileIsSync(d []byte) bool {
	t := hostileType(d)
	return t == hostileSyncRequest || t == hostileSyncReply || t == hostileReject
}

// hostileSession is the sender's session nonce in a handshake datagram.
func hostileSession(d []byte) uint64 { return binary.LittleEndian.Uint64(d[5:]) }

var hostileCastagnoli = crc32.MakeTable(crc32.Castagnoli)

// hostileRecrc gives a changed handshake datagram a valid CRC again.
func hostileRecrc(d []byte) []byte {
	d = append([]byte(nil), d[:len(d)-4]...)
	return binary.LittleEndian.AppendUint32(d, crc32.Checksum(d, hostileCastagnoli))
}

// dropCounts are a session's drop counters (lockstep.Stats.Dropped), named so that these
// tests can build, add and compare them.
type dropCounts struct {
	Malformed, Oversized, Corrupt, Unauthenticated, Foreign, WrongTag, WrongVersion, Stale, Overflow uint64
}

// total is how many datagrams d counts as dropped, whatever the reason.
func (d dropCounts) total() uint64 { return lockstep.Stats{Dropped: d}.DroppedTotal() }

// hostileCheck is the counter a changed (not replayed) datagram from the peer's address
// lands in: nothing in it is believed before its check.
func hostileCheck(d []byte) dropCounts {
	switch {
	case len(d) > lockstep.MaxDatagram:
		return dropCounts{Oversized: 1}
	case hostileIsSync(d):
		return dropCounts{Corrupt: 1}
	case hostileType(d) == hostileInput || hostileType(d) == hostileBye || slices.Contains(hostileTagged, hostileType(d)):
		return dropCounts{Unauthenticated: 1}
	}
	return dropCounts{Malformed: 1}
}

// hostileInputCount reports whether an input message carries inputs (anything after the
// start and ack varints, or the quality and checksum blocks when flagged, is one).
func hostileInputCount(d []byte) int {
	if len(d) < 2+hostileTagLen {
		return 0
	}
	b := d[2 : len(d)-hostileTagLen]
	if d[1]&0xf0 != 0 {
		return 0 // has optional blocks: not worth walking here
	}
	_, n := binary.Uvarint(b)
	_, m := binary.Varint(b[n:])
	return len(b) - n - m
}

func hostileAdd(a, b dropCounts) dropCounts {
	return dropCounts{
		Malformed: a.Malformed + b.Malformed, Oversized: a.Oversized + b.Oversized, Corrupt: a.Corrupt + b.Corrupt,
		Unauthenticated: a.Unauthenticated + b.Unauthenticated, Foreign: a.Foreign + b.Foreign,
		WrongTag: a.WrongTag + b.WrongTag, WrongVersion: a.WrongVersion + b.WrongVersion, Stale: a.Stale + b.Stale,
		Overflow: a.Overflow + b.Overflow,
	}
}

func hostileDrops(s *hostileSim) [2]dropCounts {
	return [2]dropCounts{s.Peers[0].Runner.Session().Stats(nil).Dropped, s.Peers[1].Runner.Session().Stats(nil).Dropped}
}

func hostileSub(a, b dropCounts) dropCounts {
	return dropCounts{
		Malformed: a.Malformed - b.Malformed, Oversized: a.Oversized - b.Oversized, Foreign: a.Foreign - b.Foreign,
		WrongTag: a.WrongTag - b.WrongTag, WrongVersion: a.WrongVersion - b.WrongVersion, Stale: a.Stale - b.Stale,
		Overflow: a.Overflow - b.Overflow, Corrupt: a.Corrupt - b.Corrupt, Unauthenticated: a.Unauthenticated - b.Unauthenticated,
	}
}

// TestHostilePackets plays a match over the emulated network while datagrams that do not
// belong arrive at both players from extra endpoints and from the peers' own addresses: one
// kind at a time, then a flood of everything. Each kind must be counted in its
// Stats().Dropped counter, exactly once per datagram, and the game must go on with the
// checksums of an undisturbed run of the same scenario at every confirmed frame.
func TestHostilePackets(t *testing.T) {
	const frames = 1200
	sc := Scenario{Frames: frames, Seed: 7, Link: transport.LinkConfig{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}}
	ref, err := New(sc, Coins{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Play(); err != nil {
		t.Fatal(err)
	}

	// An earlier game between the same addresses: its processes, left over, still send
	// under their own session nonces, so their own match keys.
	old := newHostileSim(t, Scenario{Frames: frames, Seed: 1001, Link: sc.Link})
	var leftover [2][][]byte
	for old.Ticks < 200 {
		hostileStep(t, old, &leftover, nil)
	}

	s := newHostileSim(t, sc)
	var foreign []transport.Conn
	for _, a := range []string{"127.0.0.1:9000", "10.9.8.7:7001", "[::1]:7000"} {
		c, err := s.Net.Listen(netip.MustParseAddrPort(a))
		if err != nil {
			t.Fatal(err)
		}
		foreign = append(foreign, c)
	}
	// send puts d on the network from player from's own address (from >= 0) or from a
	// foreign endpoint (-1 - i).
	injected := map[string]bool{}
	send := func(from, to int, d []byte) {
		t.Helper()
		c := s.Peers[max(from, 0)].Conn
		if from < 0 {
			c = foreign[-1-from]
		} else if len(injected) < 10000 {
			injected[string(d)] = true
		}
		if err := c.WriteTo(d, simtest.Addr(to)); err != nil {
			t.Fatal(err)
		}
	}

	// The first two seconds of real traffic, handshake included, for replays much later.
	var early, recent [2][][]byte
	for s.Ticks < 120 {
		hostileStep(t, s, &early, nil)
	}
	for p := range 2 {
		if !s.Peers[p].Runner.Session().Running() {
			t.Fatalf("player %d: %s after 2 s", p, s.Peers[p].Runner.Session().State())
		}
		if len(leftover[p]) == 0 || len(early[p]) == 0 {
			t.Fatalf("player %d: nothing captured", p)
		}
		if !hostileIsSync(leftover[p][0]) || !hostileIsSync(early[p][0]) {
			t.Fatalf("player %d: the first datagram captured is no handshake", p)
		}
		if hostileSession(leftover[p][0]) == hostileSession(early[p][0]) {
			t.Fatal("the earlier game has the same session nonce; pick another seed")
		}
	}
	var syncRequests [2][][]byte
	for p := range 2 {
		for _, d := range early[p] {
			if hostileType(d) == hostileSyncRequest {
				syncRequests[p] = append(syncRequests[p], d)
			}
		}
		if len(syncRequests[p]) == 0 {
			t.Fatalf("player %d was sent no sync request", p)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	pick := func(ds [][]byte) []byte { return ds[rng.IntN(len(ds))] }

	// phase injects, tick by tick, what inject returns for each player, lets it all arrive,
	// and checks each player's drop counters moved by exactly want (Stale: at least).
	phase := func(name string, ticks int, inject func(p int) (datagrams int, want dropCounts)) {
		t.Helper()
		before := hostileDrops(s)
		var want [2]dropCounts
		sent := 0
		for range ticks {
			for p := range 2 {
				n, w := inject(p)
				sent += n
				want[p] = hostileAdd(want[p], w)
			}
			recent = [2][][]byte{}
			hostileStep(t, s, &recent, injected)
		}
		for range 6 {
			hostileStep(t, s, nil, nil)
		}
		after := hostileDrops(s)
		for p := range 2 {
			got := hostileSub(after[p], before[p])
			stale := got.Stale
			if stale >= want[p].Stale {
				got.Stale = want[p].Stale
			}
			if got != want[p] {
				t.Errorf("%s: player %d's drop counters moved by %+v, want %+v (stale at least %d, got %d)", name, p, got, want[p], want[p].Stale, stale)
			}
		}
		t.Logf("%s: %d datagrams; player 0 now at frame %d, drops %+v", name, sent, s.Peers[0].Runner.Session().Frame(), after[0])
	}
	// Keep a few ticks' worth of recent real traffic at hand for copies.
	for range 3 {
		hostileStep(t, s, &recent, injected)
	}
	latest := func(p int) []byte {
		if len(recent[p]) == 0 {
			return pick(early[p][len(early[p])-20:])
		}
		return pick(recent[p])
	}

	phase("foreign", 20, func(p int) (int, dropCounts) {
		// Real datagrams, the right tag and all, but from addresses that are not the peer.
		send(-1, p, latest(p))
		send(-2, p, latest(p))
		send(-3, p, pick(syncRequests[p]))
		return 3, dropCounts{Foreign: 3}
	})
	phase("leftover", 20, func(p int) (int, dropCounts) {
		// The earlier game's datagrams from the peer's own address: its inputs fail the
		// tag (another match key), its handshakes carry another session nonce.
		var w dropCounts
		for range 3 {
			d := pick(leftover[p])
			if hostileIsSync(d) {
				w.WrongTag++
			} else {
				w.Unauthenticated++
			}
			send(1-p, p, d)
		}
		return 3, w
	})
	phase("wrong version", 10, func(p int) (int, dropCounts) {
		for i, v := range []byte{lockstep.ProtocolVersion + 1, 0xff} {
			d := append([]byte(nil), pick(syncRequests[p])...)
			d[4] = v
			send([]int{1 - p, -1}[i], p, hostileRecrc(d)) // intact, of another version
		}
		return 2, dropCounts{WrongVersion: 2}
	})
	phase("truncated", 20, func(p int) (int, dropCounts) {
		var w dropCounts
		for range 3 {
			// Cut anywhere: the tag or CRC no longer checks (cut inside the header:
			// malformed).
			d := latest(p)
			d = d[:rng.IntN(len(d))]
			w = hostileAdd(w, hostileCheck(d))
			send(1-p, p, d)
		}
		return 3, w
	})
	phase("bit flips", 20, func(p int) (int, dropCounts) {
		var w dropCounts
		for range 3 {
			d := append([]byte(nil), latest(p)...)
			if rng.IntN(4) == 0 {
				d = append([]byte(nil), pick(syncRequests[p])...)
			}
			for range 1 + rng.IntN(3) {
				i := 8 + rng.IntN(8*(len(d)-1)) // past the magic byte
				d[i/8] ^= 1 << (i % 8)
			}
			w = hostileAdd(w, hostileCheck(d))
			send(1-p, p, d)
		}
		return 3, w
	})
	phase("oversized", 10, func(p int) (int, dropCounts) {
		for i := range 2 {
			d := append([]byte(nil), latest(p)...)
			d = append(d, make([]byte, lockstep.MaxDatagram+1+rng.IntN(transport.MaxDatagram-lockstep.MaxDatagram)-len(d))...)
			send([]int{1 - p, -2}[i], p, d)
		}
		return 2, dropCounts{Oversized: 2}
	})
	// Replays of the first two seconds, from the peer's real address with its real tag, many
	// seconds later: old input messages and handshake replies are stale; handshake requests
	// get an answer (the peer may be finishing its handshake) that the peer counts stale in
	// turn.
	for s.Ticks < 600 {
		hostileStep(t, s, nil, nil)
	}
	next := [2]int{}
	phase("replayed", 40, func(p int) (int, dropCounts) {
		var w dropCounts
		n := 0
		for ; n < 6 && next[p] < len(early[p]); n++ {
			d := early[p][next[p]]
			next[p]++
			switch hostileType(d) {
			case hostileSyncReply:
				w.Stale++
			case hostileInput:
				w.Stale++
			}
			send(1-p, p, d)
		}
		return n, w
	})
	for p := range 2 {
		if next[p] != len(early[p]) {
			t.Fatalf("player %d: replayed only %d of %d datagrams", p, next[p], len(early[p]))
		}
	}

	// A flood: random bytes, leftover and truncated messages from everywhere.
	before := hostileDrops(s)
	flood := [2]uint64{}
	for range 30 {
		for p := range 2 {
			for i := range 1000 {
				var d []byte
				switch i % 4 {
				case 0:
					d = make([]byte, rng.IntN(lockstep.MaxDatagram+100))
					for k := range d {
						d[k] = byte(rng.Uint32())
					}
					if len(d) > 0 && rng.IntN(2) == 0 {
						d[0] = hostileMagic
					}
				case 1:
					d = pick(leftover[p])
				case 2:
					d = latest(p)
					d = d[:rng.IntN(len(d))]
				case 3:
					d = latest(p)
				}
				from := -1 - rng.IntN(len(foreign))
				if i%4 != 3 && rng.IntN(3) == 0 {
					from = 1 - p // junk from the peer's own address: it fails the checks too
				}
				send(from, p, d)
				flood[p]++
			}
		}
		hostileStep(t, s, nil, nil)
	}
	for range 6 {
		hostileStep(t, s, nil, nil)
	}
	after := hostileDrops(s)
	for p := range 2 {
		d := hostileSub(after[p], before[p])
		if got := d.total() - d.Stale - d.Overflow; got != flood[p] {
			t.Errorf("flood: player %d counted %d of %d datagrams as dropped: %+v", p, got, flood[p], d)
		}
	}

	if err := s.Play(); err != nil {
		t.Fatal(err)
	}
	n, err := s.Compare()
	if err != nil {
		t.Fatal(err)
	}
	if n < frames-100 {
		t.Errorf("only %d frames compared", n)
	}
	same := 0
	for f := 0; f <= frames; f++ {
		for p := range 2 {
			a, ok := s.Peers[p].Checksum(lockstep.Frame(f))
			b, ok2 := ref.Peers[p].Checksum(lockstep.Frame(f))
			if ok && ok2 {
				same++
				if a != b {
					t.Fatalf("player %d frame %d: checksum %016x, the undisturbed run has %016x", p, f, a, b)
				}
			}
		}
	}
	if same < 2*(frames-100) {
		t.Errorf("only %d checksums compared with the undisturbed run", same)
	}
	for _, p := range s.Peers {
		st := p.Runner.Session().Stats(nil)
		t.Logf("player %d: frame %d, rollbacks %d, stalls %d, dropped %+v", p.Player, st.Frame, st.Rollbacks, p.Runner.Counters().Stalls, st.Dropped)
		if p.Runner.Session().Err() != nil || int(st.Frame) < frames {
			t.Errorf("player %d: frame %d, %v", p.Player, st.Frame, p.Runner.Session().Err())
		}
		for _, k := range []lockstep.EventKind{lockstep.EventDesync, lockstep.EventDisconnected, lockstep.EventPeerLeft, lockstep.EventFailed, lockstep.EventInterrupted} {
			if c := p.Count(k); c > 0 {
				t.Errorf("player %d: %d %v events", p.Player, c, k)
			}
		}
	}
}

// TestStaleReplaysDoNotKeepAVanishedPeerAlive: player 1 vanishes, and from then on only
// replays of its old messages arrive from its address: input messages, or handshake replies
// (answers to requests player 0 made long ago). They are counted as stale (nothing new), so
// they must not count as signs of life either: player 0 must report the peer interrupted and
// then disconnected, as it does when nothing arrives at all. Otherwise anyone who saw one of
// the peer's datagrams keeps a dead peer "connected" and the game frozen at the prediction
// threshold for ever.
func TestStaleReplaysDoNotKeepAVanishedPeerAlive(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep func(d []byte) bool
	}{
		{"inputs", func(d []byte) bool { return hostileType(d) == hostileInput && hostileInputCount(d) > 0 }},
		{"handshake replies", func(d []byte) bool { return hostileType(d) == hostileSyncReply }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newHostileSim(t, Scenario{Frames: 1200, Seed: 3})
			var early [2][][]byte
			for s.Ticks < 120 {
				hostileStep(t, s, &early, nil)
			}
			var old [][]byte
			for _, d := range early[0] {
				if tc.keep(d) {
					old = append(old, d)
				}
			}
			if len(old) == 0 {
				t.Fatal("none captured")
			}
			gone := s.Clock.Now()
			s.Scenario.Vanish = vanishing(map[int]time.Duration{1: gone})
			p0 := s.Peers[0]
			stale := p0.Runner.Session().Stats(nil).Dropped.Stale
			sent, whileRunning := 0, 0
			for s.Ticks < 120+10*60 { // 10 s: twice the disconnect timeout
				if s.Ticks%6 == 0 { // one replay every 100 ms
					if err := s.Peers[1].Conn.WriteTo(old[sent%len(old)], simtest.Addr(0)); err != nil {
						t.Fatal(err)
					}
					sent++
					if p0.Runner.Session().Stats(nil).Peers[0].State != lockstep.StateGone {
						whileRunning++
					}
				}
				hostileStep(t, s, nil, nil)
			}
			st := p0.Runner.Session().Stats(nil)
			// (Once the peer is dropped its datagrams are ignored without being counted.)
			if got := st.Dropped.Stale - stale; got+1 < uint64(whileRunning) {
				t.Errorf("%d of the %d replays sent before the peer was dropped counted as stale", got, whileRunning)
			}
			if p0.Count(lockstep.EventInterrupted) == 0 || p0.Count(lockstep.EventDisconnected) == 0 {
				t.Errorf("player 1 vanished 10 s ago and only stale replays of its old %s came since, "+
					"yet player 0 saw %d interrupted and %d disconnected events (peer state %q, frame %d, stalls %d)",
					tc.name, p0.Count(lockstep.EventInterrupted), p0.Count(lockstep.EventDisconnected), st.Peers[0].State, st.Frame, p0.Runner.Counters().Stalls)
			}
		})
	}
}

// TestMistreatedLinks plays matches over links that add bit-flipped, truncated, replayed
// and forged copies of the peers' own datagrams (transport.LinkConfig's mistreatments, all
// from the sender's address), on top of latency and loss. Every copy must be dropped: no
// desync, no failure, no lost peer, every player reaches the last frame, and both agree on
// every frame both confirmed. The drop counters must show the copies were seen.
func TestMistreatedLinks(t *testing.T) {
	frames := 10_000
	if testing.Short() {
		frames = 900
	}
	base := transport.LinkConfig{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.02}
	with := func(f func(c *transport.LinkConfig)) transport.LinkConfig {
		c := base
		f(&c)
		return c
	}
	checked := func(d dropCounts) uint64 { return d.Corrupt + d.Unauthenticated + d.Malformed }
	for _, tc := range []struct {
		name  string
		seed  uint64
		link  transport.LinkConfig
		drops func(d dropCounts) uint64 // the counter the copies must show in
	}{
		{"bit flips 15%", 21, with(func(c *transport.LinkConfig) { c.Corrupt = 0.15 }), checked},
		{"truncated 10%", 22, with(func(c *transport.LinkConfig) { c.Truncate = 0.10 }), checked},
		{"replayed 10%", 23, with(func(c *transport.LinkConfig) { c.Replay = 0.10 }), func(d dropCounts) uint64 { return d.Stale }},
		{"forged 10%", 24, with(func(c *transport.LinkConfig) { c.Forge = 0.10 }), checked},
		{"everything 5%", 25, with(func(c *transport.LinkConfig) { c.Corrupt, c.Truncate, c.Replay, c.Forge = 0.05, 0.05, 0.05, 0.05 }), checked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Scenario{Frames: frames, Seed: tc.seed, Link: tc.link}, Coins{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Play(); err != nil {
				t.Fatal(err)
			}
			n, err := s.Compare()
			if err != nil {
				t.Fatal(err)
			}
			if n < frames-100 {
				t.Errorf("only %d frames compared", n)
			}
			for _, p := range s.Peers {
				st := p.Runner.Session().Stats(nil)
				t.Logf("player %d: frame %d, rollbacks %d, dropped %+v", p.Player, st.Frame, st.Rollbacks, st.Dropped)
				if p.Runner.Session().Err() != nil || int(st.Frame) < frames {
					t.Errorf("player %d: frame %d, %v", p.Player, st.Frame, p.Runner.Session().Err())
				}
				for _, k := range []lockstep.EventKind{lockstep.EventDesync, lockstep.EventDisconnected, lockstep.EventPeerLeft, lockstep.EventFailed} {
					if c := p.Count(k); c > 0 {
						t.Errorf("player %d: %d %v events", p.Player, c, k)
					}
				}
				if tc.drops(st.Dropped) == 0 {
					t.Errorf("player %d: the mistreated copies do not show in the drop counters: %+v", p.Player, st.Dropped)
				}
			}
		})
	}
}
