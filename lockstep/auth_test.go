package lockstep

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// flips calls f with every copy of d that has one, two or three bits flipped (pairs and
// triples at a stride, to keep the count down) and with every truncation of d.
func mutations(d []byte, f func(what string, m []byte)) {
	bits := 8 * len(d)
	flip := func(m []byte, i int) { m[i/8] ^= 1 << (i % 8) }
	for i := range bits {
		m := bytes.Clone(d)
		flip(m, i)
		f("one bit", m)
		for j := i + 1; j < bits; j += 7 {
			m2 := bytes.Clone(m)
			flip(m2, j)
			f("two bits", m2)
			if k := j + 13; k < bits {
				m3 := bytes.Clone(m2)
				flip(m3, k)
				f("three bits", m3)
			}
		}
	}
	for n := range len(d) {
		f("truncated", d[:n])
	}
}

// runningPair is two sessions that finished their handshake, and a few seconds of play.
func runningPair(t *testing.T, cfg func(p int) Config) *testNet {
	tn := newNet(t, 2, 2*tick, cfg)
	tn.until(2*time.Second, "handshake", tn.running)
	tn.steps(120)
	tn.noErrors()
	return tn
}

// lastSent is the latest datagram player src sent of type typ.
func lastSent(t *testing.T, tn *testNet, src int, typ msgType) []byte {
	t.Helper()
	for i := len(tn.sent) - 1; i >= 0; i-- {
		if p := tn.sent[i]; p.src == src && msgType(p.data[1]&0x0f) == typ {
			return p.data
		}
	}
	t.Fatalf("player %d sent no %v message", src, typ)
	return nil
}

func TestCRCCatchesCorruptHandshakes(t *testing.T) {
	tn := runningPair(t, nil)
	for _, typ := range []msgType{msgSyncRequest, msgSyncReply} {
		d := lastSent(t, tn, 1, typ)
		if _, ok := checkCRC(d); !ok {
			t.Fatalf("a real %v datagram fails its CRC", typ)
		}
		n := 0
		mutations(d, func(what string, m []byte) {
			n++
			if _, ok := checkCRC(m); ok {
				t.Errorf("%v with %s changed passes the CRC: %x", typ, what, m)
			}
		})
		t.Logf("%v: %d mutations of %d bytes caught", typ, n, len(d))
	}
}

func TestTagCatchesChangedInputs(t *testing.T) {
	tn := runningPair(t, nil)
	s0 := tn.nodes[0].s
	ep := s0.peers[1]
	for _, d := range [][]byte{lastSent(t, tn, 1, msgInput), tn.nodes[1].s.Close(tn.now)[0].Data} {
		d = bytes.Clone(d)
		if _, ok := ep.mac.verify(1, d); !ok {
			t.Fatalf("a real datagram does not verify: %x", d)
		}
		if _, ok := ep.mac.verify(0, d); ok {
			t.Error("a datagram reflected back to its sender verifies")
		}
		mutations(d, func(what string, m []byte) {
			if _, ok := ep.mac.verify(1, m); ok {
				t.Errorf("%s changed, the datagram still verifies: %x", what, m)
			}
		})
	}
}

// TestMatchKeys: both sides of a pair derive the same key; another match between the same
// players (other session nonces), another secret, or another pair gives another key.
func TestMatchKeys(t *testing.T) {
	key := func(secret string, a, b uint64) string { return string(matchKey(secretKey([]byte(secret)), a, b)) }
	tn := runningPair(t, nil)
	s0, s1 := tn.nodes[0].s, tn.nodes[1].s
	if k0, k1 := s0.matchKey(s0.peers[1]), s1.matchKey(s1.peers[0]); !bytes.Equal(k0, k1) {
		t.Fatal("the two sides of a match derive different keys")
	}
	base := key("", 1, 2)
	for _, other := range []string{key("", 2, 1), key("", 1, 3), key("", 3, 2), key("tulip", 1, 2)} {
		if other == base {
			t.Error("two different matches share a key")
		}
	}
	if key("tulip", 1, 2) == key("daisy", 1, 2) {
		t.Error("two secrets give the same key")
	}
}

// TestReplayFromAnotherMatch: datagrams of an earlier match between the same addresses,
// whatever their kind, change nothing in a running match and are each counted once.
func TestReplayFromAnotherMatch(t *testing.T) {
	old := runningPair(t, func(p int) Config { return Config{Nonce: 1000 + uint64(p)} })
	tn := runningPair(t, nil)
	s0 := tn.nodes[0].s
	var injected, inputs int
	for _, p := range old.sent {
		if p.src != 1 {
			continue
		}
		before := s0.Stats(nil).Dropped
		s0.Receive(nodeAddr(1), p.data, tn.now)
		after := s0.Stats(nil).Dropped
		injected++
		switch msgType(p.data[1] & 0x0f) {
		case msgInput:
			inputs++
			if after.Unauthenticated != before.Unauthenticated+1 || total(after) != total(before)+1 {
				t.Fatalf("an input message from another match: drops %+v -> %+v", before, after)
			}
		default:
			if after.WrongTag != before.WrongTag+1 || total(after) != total(before)+1 {
				t.Fatalf("a handshake from another match: drops %+v -> %+v", before, after)
			}
		}
	}
	if inputs == 0 {
		t.Fatal("no input messages to replay")
	}
	tn.steps(120)
	tn.noErrors()
	if tn.compareSums() < 100 {
		t.Error("too few frames compared")
	}
}

// TestMatchFull: a newcomer asking for a seat of a running match is told the match is full
// and fails; the match goes on undisturbed. While player 0 still waits, a seat already taken
// by another address is refused the same way.
func TestMatchFull(t *testing.T) {
	newcomerAddr := nodeAddr(7)
	for _, tc := range []struct {
		name    string
		running bool
	}{{"running", true}, {"seat taken during the handshake", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var tn *testNet
			if tc.running {
				tn = runningPair(t, nil)
			} else {
				// Three players: player 0 learns player 1 and still waits for player 2.
				tn = newNet(t, 3, tick, nil)
				tn.nodes[2].stopped = true
				tn.until(time.Second, "player 1's address learned", func() bool { return tn.nodes[0].s.PeerAddr(1).IsValid() })
			}
			players := len(tn.nodes)
			addrs := make([]netip.AddrPort, players)
			addrs[0] = nodeAddr(0)
			for p := 2; p < players; p++ {
				addrs[p] = nodeAddr(p)
			}
			nc, err := NewSession(Config{Players: players, InputSize: 3, Nonce: 4242}, 1, addrs)
			if err != nil {
				t.Fatal(err)
			}
			start := tn.now
			for tn.now < start+2*time.Second && nc.State() != StateFailed {
				for _, d := range nc.Outgoing(tn.now) {
					if d.To == nodeAddr(0) {
						tn.inject(newcomerAddr, 0, d.Data)
					}
				}
				tn.step()
				for _, d := range tn.strays {
					if d.To == newcomerAddr {
						nc.Receive(nodeAddr(0), d.Data, tn.now)
					}
				}
				tn.strays = nil
			}
			if err := nc.Err(); err == nil || !strings.HasPrefix(err.Error(), "match full") {
				t.Fatalf("newcomer: %v (state %s), want match full", err, nc.State())
			}
			if tc.running {
				tn.steps(60)
				tn.noErrors()
				for _, nd := range tn.nodes {
					if !nd.s.Running() || nd.count(EventFailed) > 0 || nd.count(EventInterrupted) > 0 {
						t.Errorf("player %d disturbed: %s", nd.player, tn.describe())
					}
				}
			} else if tn.nodes[0].s.State() != StateSynchronizing || tn.nodes[0].s.PeerAddr(1) != nodeAddr(1) {
				t.Errorf("player 0 disturbed: %s, player 1 at %v", tn.nodes[0].s.State(), tn.nodes[0].s.PeerAddr(1))
			}
		})
	}
}

// TestRejectsBelievedOnlyIfIntactAndDuringOurHandshake: a reject ends a handshake only if it
// passes the CRC, comes from a peer's address, and arrives while we are synchronizing.
func TestRejectsBelievedOnlyIfIntactAndDuringOurHandshake(t *testing.T) {
	reject := func(s *Session, code rejectCode) []byte {
		m := syncMsg{code: code}
		s.fillSync(&m)
		return appendSync(nil, msgReject, &m, s.proof)
	}
	other, err := NewSession(Config{InputSize: 3, Nonce: 5}, 0, make([]netip.AddrPort, 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		from   netip.AddrPort
		data   func(d []byte) []byte
		failed bool
		drop   func(d dropCounts) uint64
	}{
		{"intact, from player 0", nodeAddr(0), func(d []byte) []byte { return d }, true, nil},
		{"bit flipped", nodeAddr(0), func(d []byte) []byte { d[8] ^= 0x10; return d }, false, func(d dropCounts) uint64 { return d.Corrupt }},
		{"cut short", nodeAddr(0), func(d []byte) []byte { return d[:len(d)-1] }, false, func(d dropCounts) uint64 { return d.Corrupt }},
		{"from a stranger", nodeAddr(5), func(d []byte) []byte { return d }, false, func(d dropCounts) uint64 { return d.Foreign }},
	} {
		for _, code := range []rejectCode{rejectFull, rejectSecret, rejectGame} {
			t.Run(tc.name+"/"+code.String(), func(t *testing.T) {
				s, err := NewSession(Config{InputSize: 3, Nonce: 6}, 1, []netip.AddrPort{nodeAddr(0), {}})
				if err != nil {
					t.Fatal(err)
				}
				s.Outgoing(0)
				s.Receive(tc.from, tc.data(reject(other, code)), time.Millisecond)
				if failed := s.State() == StateFailed; failed != tc.failed {
					t.Fatalf("failed %v (%v), want %v", failed, s.Err(), tc.failed)
				}
				if tc.drop != nil && tc.drop(s.Stats(nil).Dropped) != 1 {
					t.Errorf("drops %+v", s.Stats(nil).Dropped)
				}
			})
		}
	}
	// Once running, a valid reject from the peer is only counted.
	tn := runningPair(t, nil)
	s1 := tn.nodes[1].s
	m := syncMsg{code: rejectFull}
	tn.nodes[0].s.fillSync(&m)
	s1.Receive(nodeAddr(0), appendSync(nil, msgReject, &m, tn.nodes[0].s.proof), tn.now)
	if !s1.Running() {
		t.Fatalf("a reject stopped a running session: %v", s1.Err())
	}
}

// TestSecretMatch: with the same secret on both sides the match runs as without one, and the
// secret changes the match keys.
func TestSecretMatch(t *testing.T) {
	plain := runningPair(t, nil)
	secret := runningPair(t, func(int) Config { return Config{Secret: "tulip"} })
	if secret.compareSums() < 100 {
		t.Error("too few frames compared")
	}
	a, b := plain.nodes[0].s, secret.nodes[0].s
	if bytes.Equal(a.matchKey(a.peers[1]), b.matchKey(b.peers[1])) {
		t.Error("the secret does not change the match key")
	}
}

// TestFailedHandshakeStaysFailed: once a handshake failed, later handshake datagrams — even a
// valid reply that would have been progress — change nothing and report nothing. (A
// progress event after the failure hid it from the caller, which then waited for ever.)
func TestFailedHandshakeStaysFailed(t *testing.T) {
	s1, err := NewSession(Config{InputSize: 3, Nonce: 6, Game: "x"}, 1, []netip.AddrPort{nodeAddr(0), {}})
	if err != nil {
		t.Fatal(err)
	}
	s1.Outgoing(0)
	reply := func(game string) []byte {
		s0, err := NewSession(Config{InputSize: 3, Nonce: 7, Game: game}, 0, make([]netip.AddrPort, 2))
		if err != nil {
			t.Fatal(err)
		}
		m := syncMsg{nonce: s1.peers[0].nonce}
		s0.fillSync(&m)
		return appendSync(nil, msgSyncReply, &m, s0.proof)
	}
	bad, good := reply("y"), reply("x")
	s1.Receive(nodeAddr(0), bad, time.Millisecond)
	s1.Receive(nodeAddr(0), good, 2*time.Millisecond)
	ev := s1.Events()
	if len(ev) != 1 || ev[0].Kind != EventFailed {
		t.Errorf("events %v, want one failure and nothing after it", ev)
	}
	if s1.State() != StateFailed || !strings.Contains(s1.Err().Error(), `peer plays "y"`) {
		t.Errorf("%s: %v", s1.State(), s1.Err())
	}
	for _, d := range s1.Outgoing(time.Second) {
		if msgType(d.Data[1]&0x0f) != msgReject {
			t.Errorf("a failed session sends %x", d.Data)
		}
	}
	if out := s1.Outgoing(2 * time.Second); len(out) != 0 {
		t.Errorf("a failed session goes on sending: %d datagrams", len(out))
	}
}

// BenchmarkMatchTag is the cost of one tag on a steady input message (about 14 bytes):
// each side signs one and verifies one a frame.
func BenchmarkMatchTag(b *testing.B) {
	m := newMAC(matchKey(secretKey(nil), 1, 2))
	d := m.appendTag([]byte{wireMagic, byte(msgInput), 0x90, 0x4e, 0x01, 0x00}, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := m.verify(0, d); !ok {
			b.Fatal("does not verify")
		}
	}
}
