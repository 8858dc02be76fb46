package lockstep

import (
	"bytes"
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// The fuzz targets of the wire codec and of Session.Receive. Their seeds come from the real
// encoder: datagrams two sessions sent each other in a short game. The corpus the fuzzer
// found interesting lives in testdata/fuzz/<FuzzName>; plain go test runs it. To fuzz:
//
//	go test -run '^$' -fuzz '^FuzzSessionReceive$' -fuzztime 30s ./lockstep
//
// (or make fuzz for every target in the repository).

// fuzzInputSizes are the input sizes a fuzzed pair plays with: the encoding has inline masks
// for inputs of up to 7 bytes and explicit mask bytes for longer ones.
var fuzzInputSizes = [...]int{3, 9, 1}

const (
	fuzzTick             = time.Second / 60
	fuzzChecksumInterval = 10
	fuzzMaxRecords       = 256
	// fuzzMaxAlloc bounds what one Receive may allocate: a few small error values or event
	// slots, never anything sized by a field of the datagram.
	fuzzMaxAlloc = 16 << 10
	fuzzKeepSeen = 256 // oldest datagrams kept for replays; as many recent ones in a ring
)

// fuzzAddr is player p's address in a fuzzed pair.
func fuzzAddr(p int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(7100+p))
}

// fuzzForeign are addresses that are not a peer: another port, a peer's port on another
// host, IPv6, and (appended per target) the target's own address.
var fuzzForeign = [...]netip.AddrPort{
	netip.MustParseAddrPort("127.0.0.1:9999"),
	netip.MustParseAddrPort("127.0.0.2:7100"),
	netip.MustParseAddrPort("127.0.0.2:7101"),
	netip.MustParseAddrPort("[::1]:7101"),
	netip.MustParseAddrPort("10.1.2.3:7100"),
}

// fuzzPair is two sessions playing the toy game over a fakeLink in one goroutine.
type fuzzPair struct {
	t     testing.TB
	size  int
	s     [2]*Session
	g     [2]toyGame
	link  fakeLink
	rng   *rand.Rand
	in    []byte
	now   time.Duration
	sums  [2]map[Frame]uint64 // checksum of every confirmed frame seen, per player
	seen  [2][][]byte         // datagrams each player was sent by the other
	nseen [2]int
	ever  [2]map[string]bool // every datagram each player was sent, for telling replays
	bad   [2][]Event         // events that mean the game stopped or broke
}

func newFuzzPair(t testing.TB, size int) *fuzzPair {
	p := &fuzzPair{t: t, size: size, rng: rand.New(rand.NewPCG(5, 5)), in: make([]byte, size)}
	p.link = fakeLink{latency: 30 * time.Millisecond, jitter: 8 * time.Millisecond, rng: rand.New(rand.NewPCG(11, 11))}
	for i := range 2 {
		addrs := make([]netip.AddrPort, 2)
		if i == 1 {
			addrs[0] = fuzzAddr(0) // player 0 learns player 1's address in the handshake
		}
		cfg := Config{InputSize: size, ChecksumInterval: fuzzChecksumInterval, Seed: 42, Nonce: uint64(i + 1), Game: "fuzz"}
		s, err := NewSession(cfg, i, addrs)
		if err != nil {
			t.Fatal(err)
		}
		p.s[i] = s
		p.sums[i] = map[Frame]uint64{}
		p.ever[i] = map[string]bool{}
	}
	return p
}

// tick runs one frame for both players: deliver what is due, advance, send.
func (p *fuzzPair) tick() {
	for p.link.q.Len() > 0 && p.link.q[0].at <= p.now {
		f := heap.Pop(&p.link.q).(flight)
		p.s[f.to].Receive(fuzzAddr(f.from), f.data, p.now)
	}
	for i, s := range p.s {
		if s.Running() {
			if p.rng.IntN(6) == 0 {
				p.in[p.rng.IntN(p.size)] = byte(p.rng.Uint32())
			}
			_, reqs, err := s.Step(p.now, p.in)
			if err != nil {
				p.t.Fatal(err)
			}
			if err := Apply(&p.g[i], reqs); err != nil {
				p.t.Fatal(err)
			}
			c := s.ConfirmedFrame()
			for f := c; f > c-4 && f >= 0; f-- {
				if sum, ok := s.Checksum(f); ok {
					p.sums[i][f] = sum
				}
			}
		}
		for _, d := range s.Outgoing(p.now) {
			to := 1 - i
			if d.To != fuzzAddr(to) {
				continue // an answer to an injected datagram: it goes nowhere
			}
			p.link.send(p.now, i, to, d.Data)
			p.capture(to, d.Data)
		}
		for _, e := range s.Events() {
			switch e.Kind {
			case EventDesync, EventFailed, EventDisconnected, EventPeerLeft:
				p.bad[i] = append(p.bad[i], e)
			}
		}
	}
	p.now += fuzzTick
}

// capture keeps a copy of a datagram sent to player to: the first fuzzKeepSeen, then a ring
// of the latest fuzzKeepSeen.
func (p *fuzzPair) capture(to int, d []byte) {
	c := append([]byte(nil), d...)
	p.ever[to][string(c)] = true
	if len(p.seen[to]) < 2*fuzzKeepSeen {
		p.seen[to] = append(p.seen[to], c)
		return
	}
	p.seen[to][fuzzKeepSeen+p.nseen[to]%fuzzKeepSeen] = c
	p.nseen[to]++
}

// genuine reports whether d passes the checks as a datagram of player to's peer in this
// match: the fuzz pair is deterministic, so an input can hold a datagram the peer sends
// later in the same game (the seeds come from a longer run of it). Only the peer's key
// makes those; they are the truth about the match and may be taken.
func (p *fuzzPair) genuine(to int, d []byte) bool {
	ep := p.s[to].peers[1-to]
	h, err := parseHeader(d)
	if err != nil || ep.mac == nil {
		return false
	}
	if h.typ == msgInput || h.typ == msgBye {
		_, ok := ep.mac.verify(1-to, d)
		return ok
	}
	body, ok := checkCRC(d)
	var m syncMsg
	return ok && parseSync(body, h, &m) == nil && m.version == ProtocolVersion && m.session == ep.session
}

// isReplay reports whether d is exactly a datagram player to was sent earlier.
func (p *fuzzPair) isReplay(to int, d []byte) bool { return p.ever[to][string(d)] }

// warmUp plays until both sessions run and have played a few frames.
func (p *fuzzPair) warmUp() {
	for range 600 {
		if p.s[0].Frame() >= 20 && p.s[1].Frame() >= 20 {
			return
		}
		p.tick()
	}
	p.t.Fatalf("the pair did not start: %v, %v", p.s[0].State(), p.s[1].State())
}

// allocatedBytes is the heap allocated so far, to the byte: ReadMemStats flushes the
// per-P caches (runtime/metrics is cheaper but counts small objects a span at a time, so a
// GC starting during a Receive would charge it with other code's allocations).
func allocatedBytes() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// inject hands player to one datagram between ticks. If mustDrop, the session must count
// it as dropped (exactly once) and take nothing from it.
func (p *fuzzPair) inject(to int, from netip.AddrPort, d []byte, mustDrop bool) {
	s := p.s[to]
	ep := s.peers[1-to]
	drops, packets := total(s.drops), ep.packetsIn
	before := allocatedBytes()
	s.Receive(from, d, p.now)
	if n := allocatedBytes() - before; n > fuzzMaxAlloc {
		p.t.Fatalf("Receive of %d bytes from %v allocated %d bytes", len(d), from, n)
	}
	if mustDrop {
		if got := total(s.drops) - drops; got != 1 {
			p.t.Fatalf("player %d: a datagram from %v that does not belong (%x) counted %d times in %+v", to, from, d, got, s.drops)
		}
		if ep.packetsIn != packets {
			p.t.Fatalf("player %d: a dropped datagram from %v (%x) counted as received from the peer", to, from, d)
		}
	}
}

// otherMatch is what each player of another match between the same addresses (other
// session nonces) was sent: replays from another match for the fuzzer.
func otherMatch(t testing.TB, size int) [2][][]byte {
	p := newFuzzPair(t, size)
	p.s[0].session, p.s[1].session = 0x5eed0001, 0x5eed0003
	p.warmUp()
	for range 30 {
		p.tick()
	}
	return p.seen
}

// FuzzSessionReceive plays a pair of sessions and injects the fuzz input as datagrams between
// the valid ones. data[0] picks the input size; then come records:
//
//	op: bit 0 the target player; bits 1-2 the source: 0 a foreign address, 1 the peer's
//	    address with the last byte (tag or CRC) flipped, 2 the peer's address, 3 the peer's
//	    address in IPv4-mapped IPv6 form; bit 3: 0 raw bytes, 1 a captured datagram
//	    changed; bits 4-7 clean ticks to play before the injection
//	raw: length byte (255: the rest of the input) and the bytes
//	captured: which one, position, xor (0: none), cut: low 7 bits how many bytes to cut off
//	    the end, high bit: from another match between the same addresses
//
// Whatever arrives, nothing panics and no Receive allocates more than a few bytes. Every
// datagram is checked (CRC or tag) before it is believed, so nothing but an exact replay of
// one of this match's own datagrams (or one the peer sends later: see genuine) may change
// anything: each other datagram — corrupted,
// truncated, forged, foreign, from another match — is counted once in Stats().Dropped, and
// afterwards the pair plays on with equal checksums at every frame both confirmed.
// record plays one record of FuzzSessionReceive's input r, the n-th: some ticks, then one
// datagram (fresh bytes, or a seen one altered) from some address. It returns the rest of
// r; false: r ended inside the record.
func (p *fuzzPair) record(r []byte, n int, others [2][][]byte) ([]byte, bool) {
	op := r[0]
	r = r[1:]
	for range int(op >> 4) {
		p.tick()
	}
	to := int(op & 1)
	var d []byte
	if op&8 == 0 {
		if len(r) == 0 {
			return r, false
		}
		k := int(r[0])
		r = r[1:]
		if k == 255 {
			k = len(r)
		}
		k = min(k, len(r))
		d, r = append([]byte(nil), r[:k]...), r[k:]
	} else {
		var a [4]byte
		r = r[copy(a[:], r):]
		seen := p.seen[to]
		if a[3]&0x80 != 0 {
			seen = others[to]
		}
		d = append([]byte(nil), seen[int(a[0])%len(seen)]...)
		if a[2] != 0 {
			d[int(a[1])%len(d)] ^= a[2]
		}
		d = d[:len(d)-int(a[3]&0x7f)%(len(d)+1)]
	}
	from := p.fuzzFrom(op, n, to, d)
	mustDrop := unmap(from) != fuzzAddr(1-to) || !p.isReplay(to, d) && !p.genuine(to, d)
	p.inject(to, from, d, mustDrop)
	return r, true
}

// fuzzFrom is where a record's datagram to player to comes from: the peer, a foreign
// address, the peer as an IPv4-mapped address, or the peer with d's last byte flipped.
func (p *fuzzPair) fuzzFrom(op byte, n, to int, d []byte) netip.AddrPort {
	peer := fuzzAddr(1 - to)
	from := peer
	switch (op >> 1) & 3 {
	case 0:
		if i := n % (len(fuzzForeign) + 1); i < len(fuzzForeign) {
			from = fuzzForeign[i]
		} else {
			from = fuzzAddr(to)
		}
	case 1:
		if len(d) > 0 {
			d[len(d)-1] ^= 0x40
		}
	case 3:
		from = netip.AddrPortFrom(netip.AddrFrom16(peer.Addr().As16()), peer.Port())
	}
	return from
}

// playOnAndCompare lets the pair play on undisturbed, and checks that nothing injected
// changed anything and that the pair agrees.
func (p *fuzzPair) playOnAndCompare(t *testing.T) {
	t.Helper()
	start := [2]Frame{p.s[0].Frame(), p.s[1].Frame()}
	const more = 90
	for i := 0; i < 600 && (p.s[0].Frame() < start[0]+more || p.s[1].Frame() < start[1]+more); i++ {
		p.tick()
	}
	for i, s := range p.s {
		if len(p.bad[i]) > 0 {
			t.Fatalf("player %d: %v after datagrams that should have changed nothing", i, p.bad[i][0])
		}
		if !s.Running() || s.Frame() < start[i]+more {
			t.Fatalf("player %d: %s at frame %d, want running past %d (err %v)", i, s.State(), s.Frame(), start[i]+more, s.Err())
		}
	}
	compared := 0
	for f, a := range p.sums[0] {
		if b, ok := p.sums[1][f]; ok {
			compared++
			if a != b {
				t.Fatalf("confirmed frame %d: checksums %016x and %016x differ", f, a, b)
			}
		}
	}
	if compared < more {
		t.Fatalf("only %d confirmed frames compared", compared)
	}
}

func FuzzSessionReceive(f *testing.F) {
	for _, seed := range fuzzSessionSeeds(f) {
		f.Add(seed)
	}
	var others [len(fuzzInputSizes)][2][][]byte
	for i, size := range fuzzInputSizes {
		others[i] = otherMatch(f, size)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		sizeIdx := int(data[0]) % len(fuzzInputSizes)
		p := newFuzzPair(t, fuzzInputSizes[sizeIdx])
		p.warmUp()
		r := data[1:]
		for n := 0; len(r) > 0 && n < fuzzMaxRecords; n++ {
			var ok bool
			if r, ok = p.record(r, n, others[sizeIdx]); !ok {
				break
			}
		}
		p.playOnAndCompare(t)
	})
}

// fuzzCapture plays a short game with input size size and returns what each player was
// sent: handshake messages first, then inputs with quality and checksum reports.
func fuzzCapture(t testing.TB, size int) *fuzzPair {
	p := newFuzzPair(t, size)
	p.warmUp()
	for range 60 {
		p.tick()
	}
	return p
}

// fuzzSessionSeeds builds records (see FuzzSessionReceive) from real datagrams: the pair in
// the fuzz function is deterministic, so these carry the tags it uses.
func fuzzSessionSeeds(t testing.TB) [][]byte {
	p := fuzzCapture(t, fuzzInputSizes[0])
	raw := func(op byte, d []byte) []byte {
		if len(d) >= 255 {
			return append([]byte{op, 255}, d...)
		}
		return append([]byte{op, byte(len(d))}, d...)
	}
	const (
		foreign  = 0 << 1
		wrongTag = 1 << 1
		peer     = 2 << 1
		mapped   = 3 << 1
		captured = 8
	)
	var seeds [][]byte
	for to := range 2 {
		seen := p.seen[to]
		sync, latest := seen[0], seen[len(seen)-1]
		old := seen[len(seen)/3]
		op := byte(to)
		// Foreign and wrong-tag copies of real messages, a replay much later, a leftover
		// handshake.
		seeds = append(seeds,
			append([]byte{0}, raw(op|foreign, latest)...),
			append([]byte{1}, raw(op|wrongTag, latest)...),
			append([]byte{2}, raw(op|wrongTag|0x30, sync)...),
			append(append([]byte{0}, raw(op|peer|0xf0, old)...), raw(op|mapped|0xf0, old)...),
			append([]byte{0}, raw(op|peer, sync)...),
		)
		// Wrong version: a real sync request claiming protocol 3, with its CRC fixed.
		v3 := append([]byte(nil), sync...)
		v3[4] = ProtocolVersion + 1
		v3 = recrc(v3)
		seeds = append(seeds, append(append([]byte{0}, raw(op|foreign, v3)...), raw(op|peer, v3)...))
		// Oversized: a real message padded past MaxDatagram.
		big := append(append([]byte(nil), latest...), make([]byte, MaxDatagram)...)
		seeds = append(seeds, append([]byte{0}, raw(op|peer, big)...))
		// Captured datagrams, mutated: exact replay, truncated, a flipped byte, a forged one.
		seeds = append(seeds,
			[]byte{0, op | peer | captured | 0x50, 3, 0, 0, 0, op | peer | captured, 200, 0, 0, 0},
			[]byte{1, op | peer | captured, 100, 0, 0, 5, op | peer | captured, 100, 0, 0, 1},
			[]byte{0, op | wrongTag | captured, 120, 6, 0x80, 0},
			[]byte{2, op | peer | captured, 90, 7, 0x01, 0},
			[]byte{0, op | foreign | captured | 0x10, 7, 4, 0xff, 0},
			// From another match: an input message and a handshake, whole and cut.
			[]byte{0, op | peer | captured, 100, 0, 0, 0x80, op | peer | captured, 0, 0, 0, 0x80},
			[]byte{1, op | peer | captured, 101, 0, 0, 0x83, op | mapped | captured, 1, 0, 0, 0x81},
			// A bit flip in every region of a handshake and an input message.
			[]byte{0, op | peer | captured, 0, 1, 0x01, 0, op | peer | captured, 0, 4, 0x02, 0, op | peer | captured, 0, 30, 0x80, 0},
			[]byte{0, op | peer | captured, 150, 1, 0x10, 0, op | peer | captured, 150, 3, 0x04, 0, op | peer | captured, 150, 200, 0x01, 0},
		)
	}
	// A flood of junk from everywhere.
	rng := rand.New(rand.NewPCG(3, 4))
	flood := []byte{0}
	for i := range 40 {
		junk := make([]byte, rng.IntN(40))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		if i%3 == 0 && len(junk) > 0 {
			junk[0] = wireMagic
		}
		flood = append(flood, raw(byte(i%8), junk)...)
	}
	return append(seeds, flood)
}

// FuzzDecodeDatagram runs the codec on arbitrary bytes: parseHeader, then parseSync,
// parseInput (and with it countInputs), decodeInputs, or the goodbye's varint. Nothing may
// panic, and whatever parses must encode back to something that parses the same.
func FuzzDecodeDatagram(f *testing.F) {
	for _, size := range []int{1, 3, 5, 9, MaxInputSize} {
		p := fuzzCapture(f, size)
		for to := range 2 {
			seen := p.seen[to]
			for _, i := range []int{0, 1, len(seen) / 2, len(seen) - 3, len(seen) - 2, len(seen) - 1} {
				f.Add(seen[i], uint8(size-1))
			}
		}
		f.Add(p.s[0].Close(p.now)[0].Data, uint8(size-1))
		m := syncMsg{version: ProtocolVersion, nonce: 77, code: rejectGame}
		p.s[1].fillSync(&m)
		f.Add(appendSync(nil, msgReject, &m, p.s[1].proof), uint8(size-1))
	}
	f.Add(appendCRC([]byte{wireMagic, byte(msgSyncRequest), 0, 0, ProtocolVersion + 1}, 0), uint8(0))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, sizeByte uint8) {
		size := 1 + int(sizeByte)%MaxInputSize
		if len(data) > 0 {
			fuzzInputStream(t, data[1:], size)
		}
		// The integrity checks are not the decoder: they are cut off unchecked here (the
		// session fuzz and the auth tests cover them).
		h, body, err := testBody(data)
		if err != nil {
			return
		}
		switch h.typ {
		case msgSyncRequest, msgSyncReply, msgReject:
			var m syncMsg
			if parseSync(body, h, &m) != nil || m.version != ProtocolVersion {
				return
			}
			re := appendSync(nil, h.typ, &m, newMAC(secretKey(nil)))
			if !bytes.Equal(re[syncHeaderLen:len(re)-proofLen-crcLen], body[syncHeaderLen:len(body)-proofLen]) {
				t.Fatalf("sync message %x parses as %+v, which encodes as %x", data, m, re)
			}
		case msgInput:
			fuzzInputRoundTrip(t, data, h, body, size)
		case msgBye:
			r := reader{b: body}
			_ = r.uvarint(maxFrameOnWire)
		}
	})
}

// fuzzInputRoundTrip checks that an input message that parses encodes again into one that
// parses to the same fields and inputs.
func fuzzInputRoundTrip(t *testing.T, data []byte, h header, body []byte, size int) {
	t.Helper()
	var m inputMsg
	if parseInput(body, h.flags, size, &m) != nil {
		return
	}
	if m.count > maxInputsPerSend || m.ack < NullFrame || m.start < 0 {
		t.Fatalf("parsed out of range: %+v", m)
	}
	dec := fuzzDecode(t, m.inputs, m.count, size)
	flags := h.flags & (flagQuality | flagChecksum | flagRoster)
	again := m
	again.inputs = appendInputs(nil, make([]byte, size), dec, size)
	re := appendInput(nil, &again, flags)
	h2, err := parseHeader(re)
	body2 := re[2:]
	if err != nil || h2.flags != flags || h2.typ != msgInput {
		t.Fatalf("re-encoded header %x: %+v, %v", re, h2, err)
	}
	var m2 inputMsg
	if err := parseInput(body2, flags, size, &m2); err != nil {
		t.Fatalf("input message %x parses as %+v, which encodes as %x, which does not parse: %v", data, m, re, err)
	}
	if !bytes.Equal(fuzzDecode(t, m2.inputs, m2.count, size), dec) {
		t.Fatalf("inputs of %x change when re-encoded as %x", data, re)
	}
	if fuzzFields(m2, flags) != fuzzFields(m, flags) {
		t.Fatalf("input message %x parses as %+v, re-encoded as %+v", data, m, m2)
	}
}

// fuzzFields are the fields of m that encoding with flags puts on the wire.
func fuzzFields(m inputMsg, flags uint8) [11 + 2*MaxPlayers]int64 {
	f := [11 + 2*MaxPlayers]int64{int64(m.start), int64(m.count), int64(m.ack)}
	if flags&flagRoster != 0 {
		f[10] = int64(m.rosterN)
		for i, e := range m.roster[:m.rosterN] {
			f[11+2*i] = int64(e.last)
			if e.disc {
				f[12+2*i] = 1
			}
		}
	}
	if flags&flagQuality != 0 {
		f[3], f[4], f[5], f[6], f[7] = int64(m.ping), int64(m.echo), int64(m.held), int64(m.frame), int64(m.advantage)
	}
	if flags&flagChecksum != 0 {
		f[8], f[9] = int64(m.sumFrame), int64(m.sum)
	}
	return f
}

// fuzzInputStream walks b as encoded inputs; if that works, decoding must give exactly the
// inputs counted and re-encoding them must count and decode the same.
func fuzzInputStream(t *testing.T, b []byte, size int) {
	count, err := countInputs(b, size)
	if err != nil {
		return
	}
	if count < 0 || count > maxInputsPerSend {
		t.Fatalf("countInputs(%x, %d) = %d", b, size, count)
	}
	dec := fuzzDecode(t, b, count, size)
	enc := appendInputs(nil, make([]byte, size), dec, size)
	if m, err := countInputs(enc, size); err != nil || m != count {
		t.Fatalf("re-encoded inputs %x: countInputs %d, %v; want %d", enc, m, err, count)
	}
	if again := fuzzDecode(t, enc, count, size); !bytes.Equal(again, dec) {
		t.Fatalf("inputs %x decode as %x, re-encoded %x decode as %x", b, dec, enc, again)
	}
}

// fuzzDecode expands count inputs, checking that decodeInputs emits each exactly once, in
// order, with the right size.
func fuzzDecode(t *testing.T, enc []byte, count, size int) []byte {
	out := make([]byte, 0, count*size)
	next := 0
	decodeInputs(enc, make([]byte, size), count, size, make([]byte, size), func(i int, in []byte) {
		if i != next || len(in) != size {
			t.Fatalf("decodeInputs(%x) emitted input %d (%d bytes), want input %d (%d bytes)", enc, i, len(in), next, size)
		}
		next++
		out = append(out, in...)
	})
	if next != count {
		t.Fatalf("decodeInputs(%x) emitted %d inputs, want %d", enc, next, count)
	}
	return out
}

// FuzzParseIntro: an introduction that parses has at most one entry per player, each a
// valid address of a player of the match.
func FuzzParseIntro(f *testing.F) {
	f.Add([]byte{1, 2, 4, 10, 0, 0, 7, 0x58, 0x1b}, uint8(3))
	f.Add([]byte{2, 1, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 2, 4, 1, 2, 3, 4, 5, 6}, uint8(4))
	f.Fuzz(func(t *testing.T, b []byte, players uint8) {
		n := int(players)%MaxPlayers + 1
		got, err := parseIntro(b, n)
		if err != nil {
			return
		}
		if got.n > MaxPlayers {
			t.Fatalf("%d entries", got.n)
		}
		for _, in := range got.list[:got.n] {
			if in.player < 0 || in.player >= n || !in.addr.IsValid() || in.addr.Port() == 0 {
				t.Fatalf("entry %+v of %x", in, b)
			}
		}
	})
}

// FuzzSpectatorDatagrams: whatever arrives, from player 0's address or not, a running
// spectator and a player 0 that takes spectators neither panic nor let a spectator run
// past the frames it holds.
func FuzzSpectatorDatagrams(f *testing.F) {
	f.Add([]byte{wireMagic, byte(msgWatch), 0, 0x83, 1, 2, 3})
	f.Add([]byte{wireMagic, byte(msgWatchAck), 5})
	f.Add([]byte{wireMagic, byte(msgBye), 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		host, err := NewSession(Config{Players: 2, InputSize: 3, Nonce: 1, Spectators: 2}, 0, make([]netip.AddrPort, 2))
		if err != nil {
			t.Fatal(err)
		}
		sp, err := NewSpectator(Config{Nonce: 2}, nodeAddr(0))
		if err != nil {
			t.Fatal(err)
		}
		host.Receive(watcherAddr(0), data, time.Millisecond)
		host.Outgoing(time.Millisecond)
		sp.Receive(nodeAddr(0), data, time.Millisecond)
		// Run the spectator as if its handshake had passed, so the data paths are reached.
		sp.state, sp.players, sp.inputSize = StateRunning, 2, 3
		sp.mac = newMAC(matchKey(sp.root, 7, sp.session))
		sp.decoded, sp.zero, sp.status = make([]byte, 6), make([]byte, 6), make([]InputStatus, 2)
		sp.Receive(nodeAddr(0), data, 2*time.Millisecond)
		sp.receiveRows(0, data) // the rows decoder, past the tag
		sp.receiveRows(Frame(len(data)%3), data)
		sp.Step(3 * time.Millisecond)
		if sp.Frame() > sp.Held() || len(sp.rows) != int(sp.Held())*6 {
			t.Fatalf("frame %d, held %d, %d row bytes", sp.Frame(), sp.Held(), len(sp.rows))
		}
		sp.Outgoing(4 * time.Millisecond)
	})
}
