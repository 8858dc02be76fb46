package sim

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"p2pa/lockstep"
	"p2pa/transport"
)

// hostileTap hands every datagram waiting for player p to its session, as the next Step
// would (same order, same time), and returns copies of those from the other player that
// are not in injected: a way to capture real traffic without changing the run.
func hostileTap(s *Sim, p int, injected map[string]bool) [][]byte {
	pe := s.Peers[p]
	now := s.Clock.Now()
	var got [][]byte
	for {
		n, from, ok := pe.Conn.ReadFrom(s.buf)
		if !ok {
			return got
		}
		if n <= len(s.buf) {
			if d := s.buf[:n]; from == Addr(1-p) && !injected[string(d)] {
				got = append(got, append([]byte(nil), d...))
			}
			pe.Session.Receive(from, s.buf[:n], now)
		}
	}
}

// hostileStep runs one tick and, if capture is set, captures the real traffic each player
// was sent.
func hostileStep(t *testing.T, s *Sim, capture *[2][][]byte, injected map[string]bool) {
	t.Helper()
	if err := s.Step(); err != nil {
		t.Fatal(err)
	}
	if capture != nil {
		for p := range capture {
			capture[p] = append(capture[p], hostileTap(s, p, injected)...)
		}
	}
}

// Message types and the input message's fields, read the way lockstep's wire format lays
// them out (magic, type and flags, tag; for inputs: start, ack delta, count).
const (
	hostileMagic       = 0xB7
	hostileSyncRequest = 1
	hostileSyncReply   = 2
	hostileInput       = 3
)

func hostileType(d []byte) byte {
	if len(d) < 4 || d[0] != hostileMagic {
		return 0
	}
	return d[1] & 0x0f
}

func hostileTag(d []byte) uint16 { return binary.LittleEndian.Uint16(d[2:]) }

// hostileInputCount is how many inputs an input message carries.
func hostileInputCount(d []byte) int {
	b := d[4:]
	_, n := binary.Uvarint(b)
	_, m := binary.Varint(b[n:])
	return int(b[n+m])
}

func hostileDrops(s *Sim) [2]lockstep.DropStats {
	return [2]lockstep.DropStats{s.Peers[0].Session.Stats(nil).Dropped, s.Peers[1].Session.Stats(nil).Dropped}
}

func hostileSub(a, b lockstep.DropStats) lockstep.DropStats {
	return lockstep.DropStats{
		Malformed: a.Malformed - b.Malformed, Oversized: a.Oversized - b.Oversized, Foreign: a.Foreign - b.Foreign,
		WrongTag: a.WrongTag - b.WrongTag, WrongVersion: a.WrongVersion - b.WrongVersion, Stale: a.Stale - b.Stale,
		Overflow: a.Overflow - b.Overflow,
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
	ref, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Run(); err != nil {
		t.Fatal(err)
	}

	// An earlier game between the same addresses: its processes, left over, still send
	// with their own session tags.
	old, err := New(Scenario{Frames: frames, Seed: 1001, Link: sc.Link})
	if err != nil {
		t.Fatal(err)
	}
	var leftover [2][][]byte
	for old.Ticks < 200 {
		hostileStep(t, old, &leftover, nil)
	}

	s, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
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
		if err := c.WriteTo(d, Addr(to)); err != nil {
			t.Fatal(err)
		}
	}

	// The first two seconds of real traffic, handshake included, for replays much later.
	var early, recent [2][][]byte
	for s.Ticks < 120 {
		hostileStep(t, s, &early, nil)
	}
	for p := range 2 {
		if !s.Peers[p].Session.Running() {
			t.Fatalf("player %d: %s after 2 s", p, s.Peers[p].Session.State())
		}
		if len(leftover[p]) == 0 || len(early[p]) == 0 {
			t.Fatalf("player %d: nothing captured", p)
		}
		if hostileTag(leftover[p][0]) == hostileTag(early[p][0]) {
			t.Fatal("the earlier game has the same session tag; pick another seed")
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
	peerTag := [2]uint16{hostileTag(early[0][0]), hostileTag(early[1][0])}
	rng := rand.New(rand.NewPCG(7, 8))
	pick := func(ds [][]byte) []byte { return ds[rng.IntN(len(ds))] }

	// phase injects, tick by tick, what inject returns for each player, lets it all arrive,
	// and checks each player's drop counters moved by exactly want (Stale: at least).
	phase := func(name string, ticks int, inject func(p int) (datagrams int, want lockstep.DropStats)) {
		t.Helper()
		before := hostileDrops(s)
		var want [2]lockstep.DropStats
		sent := 0
		for range ticks {
			for p := range 2 {
				n, w := inject(p)
				sent += n
				want[p] = lockstep.DropStats{
					Malformed: want[p].Malformed + w.Malformed, Oversized: want[p].Oversized + w.Oversized,
					Foreign: want[p].Foreign + w.Foreign, WrongTag: want[p].WrongTag + w.WrongTag,
					WrongVersion: want[p].WrongVersion + w.WrongVersion, Stale: want[p].Stale + w.Stale,
				}
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
		t.Logf("%s: %d datagrams; player 0 now at frame %d, drops %+v", name, sent, s.Peers[0].Session.Frame(), after[0])
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

	phase("foreign", 20, func(p int) (int, lockstep.DropStats) {
		// Real datagrams, the right tag and all, but from addresses that are not the peer.
		send(-1, p, latest(p))
		send(-2, p, latest(p))
		send(-3, p, pick(syncRequests[p]))
		return 3, lockstep.DropStats{Foreign: 3}
	})
	phase("wrong tag", 20, func(p int) (int, lockstep.DropStats) {
		for range 3 {
			send(1-p, p, pick(leftover[p]))
		}
		return 3, lockstep.DropStats{WrongTag: 3}
	})
	phase("wrong version", 10, func(p int) (int, lockstep.DropStats) {
		for i, v := range []byte{lockstep.ProtocolVersion + 1, 0xff} {
			d := append([]byte(nil), pick(syncRequests[p])...)
			d[4] = v
			send([]int{1 - p, -1}[i], p, d)
		}
		return 2, lockstep.DropStats{WrongVersion: 2}
	})
	phase("truncated", 20, func(p int) (int, lockstep.DropStats) {
		for range 3 {
			// Cut inside the header or the start frame (two varint bytes from frame 128
			// on): malformed. A cut among the inputs, which run to the end of a message,
			// leaves a valid shorter message with nothing new: stale, as replays are.
			d := latest(p)
			send(1-p, p, d[:rng.IntN(min(6, len(d)))])
		}
		return 3, lockstep.DropStats{Malformed: 3}
	})
	phase("oversized", 10, func(p int) (int, lockstep.DropStats) {
		for i := range 2 {
			d := append([]byte(nil), latest(p)...)
			d = append(d, make([]byte, lockstep.MaxDatagram+1+rng.IntN(transport.MaxDatagram-lockstep.MaxDatagram)-len(d))...)
			send([]int{1 - p, -2}[i], p, d)
		}
		return 2, lockstep.DropStats{Oversized: 2}
	})
	// Replays of the first two seconds, from the peer's real address with its real tag, many
	// seconds later: old input messages and handshake replies are stale; handshake requests
	// get an answer (the peer may be finishing its handshake) that the peer counts stale in
	// turn.
	for s.Ticks < 600 {
		hostileStep(t, s, nil, nil)
	}
	next := [2]int{}
	phase("replayed", 40, func(p int) (int, lockstep.DropStats) {
		var w lockstep.DropStats
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

	// A flood: random bytes, leftover-tag and truncated messages from everywhere.
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
					// Junk from the peer's own address, but never with its real tag: that
					// would be the peer speaking (the protocol does not authenticate).
					from = 1 - p
					if hostileType(d) != 0 && hostileTag(d) == peerTag[p] {
						d = append([]byte(nil), d...)
						d[2] ^= 0x80
					}
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
		if got := d.Total() - d.Stale - d.Overflow; got != flood[p] {
			t.Errorf("flood: player %d counted %d of %d datagrams as dropped: %+v", p, got, flood[p], d)
		}
	}

	if err := s.Run(); err != nil {
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
			a, ok := s.Peers[p].Checksum(f)
			b, ok2 := ref.Peers[p].Checksum(f)
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
		st := p.Session.Stats(nil)
		t.Logf("player %d: frame %d, rollbacks %d, stalls %d, dropped %+v", p.Player, st.Frame, st.Rollbacks, p.Stalls, st.Dropped)
		if p.Session.Err() != nil || int(st.Frame) < frames {
			t.Errorf("player %d: frame %d, %v", p.Player, st.Frame, p.Session.Err())
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
			s, err := New(Scenario{Frames: 1200, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
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
			s.Scenario.Vanish = func(p int, now time.Duration) bool { return p == 1 && now >= gone }
			p0 := s.Peers[0]
			stale := p0.Session.Stats(nil).Dropped.Stale
			sent, whileRunning := 0, 0
			for s.Ticks < 120+10*60 { // 10 s: twice the disconnect timeout
				if s.Ticks%6 == 0 { // one replay every 100 ms
					if err := s.Peers[1].Conn.WriteTo(old[sent%len(old)], Addr(0)); err != nil {
						t.Fatal(err)
					}
					sent++
					if p0.Session.Stats(nil).Peers[0].State != lockstep.PeerGone {
						whileRunning++
					}
				}
				hostileStep(t, s, nil, nil)
			}
			st := p0.Session.Stats(nil)
			// (Once the peer is dropped its datagrams are ignored without being counted.)
			if got := st.Dropped.Stale - stale; got+1 < uint64(whileRunning) {
				t.Errorf("%d of the %d replays sent before the peer was dropped counted as stale", got, whileRunning)
			}
			if p0.Count(lockstep.EventInterrupted) == 0 || p0.Count(lockstep.EventDisconnected) == 0 {
				t.Errorf("player 1 vanished 10 s ago and only stale replays of its old %s came since, "+
					"yet player 0 saw %d interrupted and %d disconnected events (peer state %q, frame %d, stalls %d)",
					tc.name, p0.Count(lockstep.EventInterrupted), p0.Count(lockstep.EventDisconnected), st.Peers[0].State, st.Frame, p0.Stalls)
			}
		})
	}
}
