package lockstep

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// --- handshake messages ----------------------------------------------------------------

func TestSyncRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  msgType
		m    syncMsg
	}{
		{"request", msgSyncRequest, syncMsg{version: ProtocolVersion, secret: true, session: 0x0102030405060708, nonce: 0xdeadbeef, player: 1, players: 2, inputSize: 5, seed: 42, game: []byte("p2pa-coins mode=classic coins=50")}},
		{"reply", msgSyncReply, syncMsg{version: ProtocolVersion, nonce: 1, player: 0, players: 4, inputSize: MaxInputSize, seed: 1<<64 - 1, game: []byte("g")}},
		{"reject", msgReject, syncMsg{version: ProtocolVersion, player: 3, players: 4, inputSize: 1, code: rejectPlayerNumber}},
		{"empty game", msgSyncRequest, syncMsg{version: ProtocolVersion, nonce: 9, players: 2, inputSize: 3}},
		{"longest game", msgSyncReply, syncMsg{version: ProtocolVersion, nonce: 9, players: 2, inputSize: 3, game: []byte(strings.Repeat("x", maxGameLen))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proof := newMAC(secretKey(nil))
			b := appendSync([]byte("prefix"), tc.typ, &tc.m, proof)
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatal("appendSync overwrote the buffer it appends to")
			}
			b = b[len("prefix"):]
			if want := 4 + 26 + len(tc.m.game) + proofLen + crcLen; len(b) != want {
				t.Errorf("%d bytes, want %d", len(b), want)
			}
			if len(b) > MaxDatagram {
				t.Errorf("%d bytes, over MaxDatagram", len(b))
			}
			h, err := parseHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			want := header{typ: tc.typ}
			if tc.m.secret {
				want.flags = flagSecret
			}
			if h != want {
				t.Errorf("header %+v, want %+v", h, want)
			}
			if b[4] != ProtocolVersion {
				t.Errorf("version at offset 4 is %d: it must stay there in every version", b[4])
			}
			d, ok := checkCRC(b)
			if !ok {
				t.Fatal("the CRC does not check")
			}
			var got syncMsg
			if err := parseSync(d, h, &got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.proof, proof.tag(int(tc.m.player), got.signed)) {
				t.Error("the proof does not verify")
			}
			got.proof, got.signed = nil, nil
			if len(got.game) == 0 {
				got.game = nil // an empty description parses as an empty slice of the datagram
			}
			if !reflect.DeepEqual(got, tc.m) {
				t.Errorf("parsed %+v, want %+v", got, tc.m)
			}
		})
	}
}

func TestParseSyncErrors(t *testing.T) {
	m := syncMsg{version: ProtocolVersion, nonce: 5, player: 1, players: 2, inputSize: 5, seed: 3, game: []byte("abc")}
	full := appendSync(nil, msgSyncRequest, &m, newMAC(secretKey(nil)))
	valid := full[:len(full)-crcLen] // what parseSync sees once the CRC has passed
	h := header{typ: msgSyncRequest}
	// Every truncation fails.
	for n := range len(valid) {
		var got syncMsg
		if err := parseSync(valid[:n], h, &got); err == nil {
			t.Errorf("truncated to %d of %d bytes: parsed %+v", n, len(valid), got)
		}
	}
	const gameLenAt = syncHeaderLen + 25
	tooLong := append([]byte(nil), valid...)
	tooLong[gameLenAt] = maxGameLen + 1
	tooLong = append(tooLong, bytes.Repeat([]byte("y"), maxGameLen+1-3)...)
	for _, tc := range []struct {
		name string
		body []byte
		want error
	}{
		{"empty", nil, errShort},
		{"trailing byte", append(append([]byte(nil), valid...), 0), errTrailing},
		{"game length past the end", append(append([]byte(nil), valid[:gameLenAt]...), 9, 'a'), errShort},
		{"game over the limit", tooLong, errShort},
	} {
		var got syncMsg
		if err := parseSync(tc.body, h, &got); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	// Another version: only the version byte is read, whatever follows (its layout is unknown
	// to us), so the session can still answer with a clear message.
	for _, v := range [][]byte{{ProtocolVersion + 1}, {1, 0xff, 0xff}, {0}, append([]byte{9}, valid[syncHeaderLen+1:]...)} {
		body := append(append([]byte(nil), valid[:syncHeaderLen]...), v...)
		var got syncMsg
		if err := parseSync(body, h, &got); err != nil || !reflect.DeepEqual(got, syncMsg{version: v[0]}) {
			t.Errorf("foreign version %x: %+v, %v; want only the version", body, got, err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	b := appendHeader(nil, msgInput, flagQuality|flagChecksum)
	if !bytes.Equal(b, []byte{wireMagic, 0x33}) {
		t.Errorf("header bytes %x", b)
	}
	h, err := parseHeader(append(b, 1, 2))
	if err != nil || h != (header{typ: msgInput, flags: flagQuality | flagChecksum}) {
		t.Errorf("parsed %+v %v", h, err)
	}
	for _, tc := range []struct {
		b    []byte
		want error
	}{
		{nil, errShort},
		{[]byte{wireMagic}, errShort},
		{[]byte{0xb6, 1, 0, 0}, errMagic},
		{[]byte("GET / HTTP/1.1"), errMagic},
	} {
		if _, err := parseHeader(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("parseHeader(%x): %v, want %v", tc.b, err, tc.want)
		}
	}
}

// --- inputs ----------------------------------------------------------------------------

// inputRun makes count inputs of size bytes: each frame, with probability change, a random
// byte of the previous input takes a random value.
func inputRun(rng *rand.Rand, count, size int, change float64) []byte {
	out := make([]byte, count*size)
	prev := make([]byte, size)
	for i := range count {
		cur := out[i*size : (i+1)*size]
		copy(cur, prev)
		if rng.Float64() < change {
			for range 1 + rng.IntN(size) {
				cur[rng.IntN(size)] = byte(rng.Uint32())
			}
		}
		prev = cur
	}
	return out
}

// decodeAll expands count inputs with decodeInputs and checks it emits them in order.
func decodeAll(t *testing.T, enc, base []byte, count, size int) []byte {
	t.Helper()
	var out []byte
	next := 0
	decodeInputs(enc, base, count, size, make([]byte, size), func(i int, in []byte) {
		if i != next {
			t.Fatalf("emitted input %d, want %d", i, next)
		}
		if len(in) != size {
			t.Fatalf("emitted %d bytes, want %d", len(in), size)
		}
		next++
		out = append(out, in...)
	})
	if next != count {
		t.Fatalf("emitted %d inputs, want %d", next, count)
	}
	return out
}

func TestInputsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	repeat := func(in []byte, n int) []byte { return bytes.Repeat(in, n) }
	for _, tc := range []struct {
		name   string
		size   int
		base   []byte
		inputs []byte
		want   []byte // the exact encoding, when given
	}{
		{"none", 5, make([]byte, 5), nil, []byte{}},
		{"one unchanged", 5, make([]byte, 5), make([]byte, 5), []byte{0x00}},
		{"run of 128", 1, []byte{7}, repeat([]byte{7}, 128), []byte{0x7f}},
		{"run of 129", 1, []byte{7}, repeat([]byte{7}, 129), []byte{0x7f, 0x00}},
		{"run of 300", 3, []byte{1, 2, 3}, repeat([]byte{1, 2, 3}, 300), []byte{0x7f, 0x7f, 0x2b}},
		{"run of 255 (the most a message carries)", 5, make([]byte, 5), make([]byte, 255*5), []byte{0x7f, 0x7e}},
		{"change then run", 5, make([]byte, 5), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0},
			[]byte{0x01, 0x81, 0x01, 0x00}},
		{"change every byte", 5, []byte{1, 2, 3, 4, 5}, []byte{0, 0, 0, 0, 0},
			[]byte{0x9f, 1, 2, 3, 4, 5}},
		{"seven bytes, inline mask", 7, make([]byte, 7), []byte{0, 0, 0, 0, 0, 0, 9},
			[]byte{0xc0, 9}},
		{"eight bytes, mask byte", 8, make([]byte, 8), []byte{0, 0, 0, 0, 0, 0, 0, 9},
			[]byte{0x80, 0x80, 9}},
		{"nine bytes, two mask bytes", 9, make([]byte, 9), []byte{3, 0, 0, 0, 0, 0, 0, 0, 9},
			[]byte{0x80, 0x01, 0x01, 3, 9}},
		{"largest input", MaxInputSize, make([]byte, MaxInputSize), append(make([]byte, MaxInputSize-1), 0xaa),
			[]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xaa}},
		{"mouse moving, size 5", 5, make([]byte, 5), inputRun(rng, 200, 5, 1), nil},
		{"mostly still, size 5", 5, make([]byte, 5), inputRun(rng, 255, 5, 0.05), nil},
		{"random, size 1", 1, []byte{0}, inputRun(rng, 255, 1, 0.5), nil},
		{"random, size 7", 7, make([]byte, 7), inputRun(rng, 100, 7, 0.5), nil},
		{"random, size 8", 8, make([]byte, 8), inputRun(rng, 100, 8, 0.5), nil},
		{"random, size 63", 63, make([]byte, 63), inputRun(rng, 50, 63, 0.7), nil},
		{"random, size 64", 64, bytes.Repeat([]byte{0xff}, 64), inputRun(rng, 50, 64, 0.7), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			count := len(tc.inputs) / tc.size
			enc := appendInputs([]byte{0xee}, tc.base, tc.inputs, tc.size)
			if enc[0] != 0xee {
				t.Fatal("appendInputs overwrote the buffer it appends to")
			}
			enc = enc[1:]
			if tc.want != nil && !bytes.Equal(enc, tc.want) {
				t.Errorf("encoded %x, want %x", enc, tc.want)
			}
			// The codec takes any count; a message carries at most maxInputsPerSend.
			if n, err := countInputs(enc, tc.size); count <= maxInputsPerSend && (err != nil || n != count) {
				t.Errorf("countInputs = %d, %v; want %d", n, err, count)
			} else if count > maxInputsPerSend && err == nil {
				t.Errorf("countInputs = %d, want an error past %d inputs", n, maxInputsPerSend)
			}
			if got := decodeAll(t, enc, tc.base, count, tc.size); !bytes.Equal(got, tc.inputs) {
				t.Errorf("decoded %x, want %x", got, tc.inputs)
			}
			// Never worse than one token plus the changed bytes per input.
			if bound := count * (1 + (tc.size+7)/8 + tc.size); len(enc) > bound {
				t.Errorf("%d inputs took %d bytes, over %d", count, len(enc), bound)
			}
		})
	}
}

// A still mouse costs one byte per 128 frames; a moving one about four bytes a frame.
func TestInputsEncodingIsCompact(t *testing.T) {
	const size = 5
	still := appendInputs(nil, make([]byte, size), make([]byte, 255*size), size)
	if len(still) != 2 {
		t.Errorf("255 still inputs took %d bytes, want 2", len(still))
	}
	moving := make([]byte, 0, 100*size)
	for i := range 100 {
		x := int16(100 + 3*i)
		moving = binary.LittleEndian.AppendUint16(moving, uint16(x))
		moving = binary.LittleEndian.AppendUint16(moving, uint16(x/2))
		moving = append(moving, 0)
	}
	enc := appendInputs(nil, make([]byte, size), moving, size)
	if per := float64(len(enc)) / 100; per > 4.5 {
		t.Errorf("a moving mouse costs %.1f bytes a frame", per)
	}
}

// TestCountInputsErrors: countInputs, which parseInput uses to find how many inputs a
// message carries, refuses every malformed token.
func TestCountInputsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		enc  []byte
		size int
	}{
		{"changed bytes missing", []byte{0x83, 1}, 5},
		{"mask byte missing", []byte{0x80}, 8},
		{"second mask byte missing", []byte{0x80, 1}, 9},
		{"zero mask, short input", []byte{0x80, 0x00}, 5},
		{"zero generic mask", []byte{0x80, 0x00, 0x00}, 9},
		{"inline mask past the input", []byte{0x88, 1}, 3},
		{"generic mask past the input", []byte{0x80, 0x00, 0x02, 1}, 9},
		{"inline mask for a long input", []byte{0x81, 1}, 8},
		{"mask byte past a 5-byte input", []byte{0x80, 0x20, 1}, 5},
		{"a valid run, then a truncated literal", []byte{0x02, 0x83, 1}, 5},
		{"more inputs than one message may carry", bytes.Repeat([]byte{0x7f}, maxInputsPerSend/128+1), 5},
	} {
		if n, err := countInputs(tc.enc, tc.size); err == nil {
			t.Errorf("%s: countInputs(%x, %d) = %d, want an error", tc.name, tc.enc, tc.size, n)
		}
	}
}

// message builds an input message with count inputs from rng.
func message(rng *rand.Rand, start Frame, ack Frame, count, size int) inputMsg {
	base := make([]byte, size)
	inputs := inputRun(rng, count, size, 0.3)
	return inputMsg{start: start, ack: ack, count: count, inputs: appendInputs(nil, base, inputs, size)}
}

func TestInputMessageRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	quality := func(m inputMsg) inputMsg {
		m.ping, m.echo, m.held, m.frame, m.advantage = 123456789, 1<<32-1, 1, 4000, -7
		return m
	}
	checksum := func(m inputMsg) inputMsg {
		m.sumFrame, m.sum = 3960, 0x0123456789abcdef
		return m
	}
	roster := func(m inputMsg, entries ...rosterEntry) inputMsg {
		m.rosterN = copy(m.roster[:], entries)
		return m
	}
	plain := message(rng, 10, 12, 5, 5)
	for _, tc := range []struct {
		name  string
		m     inputMsg
		flags uint8
		size  int
	}{
		{"plain", plain, 0, 5},
		{"no inputs, only an ack", inputMsg{start: 100, ack: 7, inputs: []byte{}}, 0, 5},
		{"nothing yet", inputMsg{start: 0, ack: NullFrame, inputs: []byte{}}, 0, 5},
		{"ack ahead of start", message(rng, 0, 500, 3, 5), 0, 5},
		{"quality", quality(plain), flagQuality, 5},
		{"checksum", checksum(plain), flagChecksum, 5},
		{"both", checksum(quality(plain)), flagQuality | flagChecksum, 5},
		{"both, no inputs", checksum(quality(inputMsg{start: 9, ack: 8, inputs: []byte{}})), flagQuality | flagChecksum, 5},
		{"most inputs", message(rng, 1<<20, 1<<20-3, maxInputsPerSend, 1), flagQuality, 1},
		{"long inputs", message(rng, 77, 70, 20, 9), flagChecksum, 9},
		{"late frames", checksum(quality(message(rng, maxFrameOnWire-300, maxFrameOnWire-1, 10, 2))), flagQuality | flagChecksum, 2},
		{"roster of one", roster(plain, rosterEntry{last: 13}), flagRoster, 5},
		{"roster of two, one gone", roster(plain, rosterEntry{last: 11}, rosterEntry{disc: true, last: 3}), flagRoster, 5},
		{"roster, nothing yet", roster(inputMsg{start: 0, ack: NullFrame, inputs: []byte{}}, rosterEntry{last: NullFrame}, rosterEntry{disc: true, last: NullFrame}), flagRoster, 5},
		{"roster far from the ack", roster(checksum(quality(plain)), rosterEntry{last: 1 << 20}, rosterEntry{disc: true, last: NullFrame}), flagQuality | flagChecksum | flagRoster, 5},
		{"extreme quality", func() inputMsg {
			m := quality(plain)
			m.advantage, m.frame, m.ping, m.held = -(1 << 20), maxFrameOnWire, 1<<32-1, 1<<32-1
			return m
		}(), flagQuality, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := appendInput(nil, &tc.m, tc.flags)
			h, err := parseHeader(b)
			body := b[2:]
			if err != nil {
				t.Fatal(err)
			}
			if h != (header{typ: msgInput, flags: tc.flags}) {
				t.Errorf("header %+v", h)
			}
			var got inputMsg
			if err := parseInput(body, h.flags, tc.size, &got); err != nil {
				t.Fatalf("parseInput(%x): %v", body, err)
			}
			if !reflect.DeepEqual(got, tc.m) {
				t.Errorf("parsed\n%+v, want\n%+v", got, tc.m)
			}
			// The inputs run to the end of the datagram. A truncation inside the fixed part
			// fails; inside the inputs it fails or leaves a prefix of them, never other inputs.
			fixed := len(body) - len(tc.m.inputs)
			for n := range len(body) {
				var m inputMsg
				err := parseInput(body[:n], h.flags, tc.size, &m)
				if n < fixed {
					if err == nil {
						t.Fatalf("truncated to %d of %d bytes (fixed part %d): parsed %+v", n, len(body), fixed, m)
					}
					continue
				}
				if err == nil && (m.count >= tc.m.count && n < len(body) || !bytes.HasPrefix(tc.m.inputs, m.inputs) || m.start != tc.m.start || m.ack != tc.m.ack) {
					t.Fatalf("truncated to %d of %d bytes: parsed %+v, not a prefix of %+v", n, len(body), m, tc.m)
				}
			}
			// One more repeat token is one more input.
			var m inputMsg
			if err := parseInput(append(body[:len(body):len(body)], 0), h.flags, tc.size, &m); tc.m.count < maxInputsPerSend && (err != nil || m.count != tc.m.count+1) {
				t.Errorf("a repeat token more: %d inputs, %v; want %d", m.count, err, tc.m.count+1)
			}
		})
	}
}

func TestParseInputErrors(t *testing.T) {
	uv := binary.AppendUvarint
	v := binary.AppendVarint
	for _, tc := range []struct {
		name  string
		body  []byte
		flags uint8
	}{
		{"empty", nil, 0},
		{"start only", uv(nil, 5), 0},
		{"start over the limit", append(v(uv(nil, maxFrameOnWire+1), 0), 0), 0},
		{"overlong varint", append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0, 0), 0},
		{"ack before NullFrame", append(v(uv(nil, 0), -2), 0), 0},
		{"ack over the limit", append(v(uv(nil, 0), maxFrameOnWire+1), 0), 0},
		{"input bytes missing", append(v(uv(nil, 0), 0), 0x83, 0x01), 0},
		{"more inputs than a sender sends", append(v(uv(nil, 0), 0), 0x7f, 0x7f, 0x7f), 0},
		{"bad mask", append(v(uv(nil, 0), 0), 0x80, 0x00), 0},
		{"advantage over the limit", append(v(uv(nil, 0), 0), append(uv(uv(uv(uv(nil, 1), 1), 1), 1), v(nil, 1<<20+1)...)...), flagQuality},
		{"ping over 32 bits", append(v(uv(nil, 0), 0), append(uv(uv(uv(uv(nil, 1<<32), 1), 1), 1), v(nil, 0)...)...), flagQuality},
		{"checksum short", append(v(uv(nil, 0), 0), append(uv(nil, 60), 1, 2, 3, 4, 5, 6, 7)...), flagChecksum},
		{"roster missing", v(uv(nil, 0), 0), flagRoster},
		{"roster of more than the third players", append(v(uv(nil, 0), 0), 3, 0, 0, 0), flagRoster},
		{"roster entry missing", append(v(uv(nil, 0), 0), 2, 0), flagRoster},
		{"roster frame before NullFrame", append(v(uv(nil, 0), -1), 1, 3<<1), flagRoster},
		{"garbage", []byte("the quick brown fox jumps over the lazy dog"), flagQuality},
	} {
		var m inputMsg
		if err := parseInput(tc.body, tc.flags, 5, &m); err == nil {
			t.Errorf("%s: parsed %x as %+v", tc.name, tc.body, m)
		}
	}
}

// --- fuzzing ---------------------------------------------------------------------------

// FuzzParseInputMsg feeds whole datagrams to the input message parser: nothing may panic,
// and whatever parses re-encodes to a message that parses to the same thing, with inputs
// that decode the same.
func FuzzParseInputMsg(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{1, 5, 7, 8, 9, 64} {
		for _, flags := range []uint8{0, flagQuality, flagChecksum, flagQuality | flagChecksum} {
			m := message(rng, Frame(rng.IntN(1000)), Frame(rng.IntN(1000))-1, rng.IntN(40), size)
			m.ping, m.echo, m.held, m.frame, m.advantage = rng.Uint32(), rng.Uint32(), rng.Uint32(), Frame(rng.IntN(1e6)), int32(rng.IntN(100))-50
			m.sumFrame, m.sum = 60*Frame(rng.IntN(100)), rng.Uint64()
			f.Add(appendInput(nil, &m, flags), uint8(size))
		}
	}
	f.Add([]byte{wireMagic, byte(msgInput), 0, 1, 1, 0x80, 0x00}, uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, sizeByte uint8) {
		size := 1 + int(sizeByte)%MaxInputSize
		h, err := parseHeader(data)
		if err != nil || h.typ != msgInput {
			return
		}
		body := data[2:] // (the tag is checked and cut off before parsing)
		var m inputMsg
		if err := parseInput(body, h.flags, size, &m); err != nil {
			return
		}
		if m.count < 0 || m.count > 255 || m.start < 0 || m.ack < NullFrame {
			t.Fatalf("parsed out-of-range fields: %+v", m)
		}
		if n, err := countInputs(m.inputs, size); err != nil || n != m.count {
			t.Fatalf("countInputs of parsed inputs: %d, %v; want %d", n, err, m.count)
		}
		base := make([]byte, size)
		inputs := decodeAll(t, m.inputs, base, m.count, size)

		// The canonical encoding of the same inputs decodes the same and is no longer.
		canon := appendInputs(nil, base, inputs, size)
		if len(canon) > len(m.inputs) {
			t.Fatalf("re-encoding %x gave the longer %x", m.inputs, canon)
		}
		if again := decodeAll(t, canon, base, m.count, size); !bytes.Equal(again, inputs) {
			t.Fatalf("re-encoded inputs decode to %x, want %x", again, inputs)
		}

		checkInputReencodes(t, data, h, m, size)
	})
}

// checkInputReencodes checks that the input message m, parsed from data, re-encodes and
// parses back to the same fields, no longer.
func checkInputReencodes(t *testing.T, data []byte, h header, m inputMsg, size int) {
	t.Helper()
	// The whole message re-encodes and parses back to the same fields.
	// (A roster rides along too: it was once left out here, and a message with one failed.)
	flags := h.flags & (flagQuality | flagChecksum | flagRoster)
	if flags&flagQuality == 0 {
		m.ping, m.echo, m.held, m.frame, m.advantage = 0, 0, 0, 0, 0
	}
	if flags&flagChecksum == 0 {
		m.sumFrame, m.sum = 0, 0
	}
	re := appendInput(nil, &m, flags)
	h2, err := parseHeader(re)
	body2 := re[2:]
	if err != nil || h2.typ != msgInput || h2.flags != flags {
		t.Fatalf("re-encoded header %+v, %v", h2, err)
	}
	var m2 inputMsg
	if err := parseInput(body2, h2.flags, size, &m2); err != nil {
		t.Fatalf("re-encoded %x does not parse: %v", re, err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Fatalf("re-encoded message parses to\n%+v, want\n%+v", m2, m)
	}
	if len(re) > len(data) {
		t.Fatalf("re-encoding grew the message from %d to %d bytes", len(data), len(re))
	}
}

// FuzzParseSync: no handshake datagram panics the parser, and whatever passes the CRC and
// parses re-encodes to the same bytes (the layout has no optional parts).
func FuzzParseSync(f *testing.F) {
	proof := newMAC(secretKey(nil))
	for _, m := range []syncMsg{
		{version: ProtocolVersion, session: 99, nonce: 1, player: 1, players: 2, inputSize: 5, seed: 7, game: []byte("p2pa-coins mode=classic coins=50")},
		{version: ProtocolVersion, secret: true, players: 4, inputSize: 64, code: rejectGame},
		{version: 1},
	} {
		f.Add(appendSync(nil, msgSyncRequest, &m, proof))
		f.Add(appendSync(nil, msgReject, &m, proof))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHeader(data)
		if err != nil {
			return
		}
		d, ok := checkCRC(data)
		if !ok {
			return
		}
		var m syncMsg
		if err := parseSync(d, h, &m); err != nil {
			return
		}
		if m.version != ProtocolVersion {
			if !reflect.DeepEqual(m, syncMsg{version: m.version}) {
				t.Fatalf("foreign version parsed further: %+v", m)
			}
			return
		}
		if len(m.game) > maxGameLen {
			t.Fatalf("game of %d bytes", len(m.game))
		}
		re := appendSync(nil, h.typ, &m, proof)
		// The reserved bytes, the flags other than flagSecret and the proof are not kept.
		same := func(b []byte) []byte { return b[syncHeaderLen : len(b)-proofLen-crcLen] }
		if !bytes.Equal(same(re), same(data)) || re[0] != data[0] || re[1] != data[1]&^(0xf0&^flagSecret) {
			t.Fatalf("re-encoded %x, want %x", re, data)
		}
	})
}

// FuzzParseStateChunk: no handover chunk (a rejoin's or a resync's) panics the parser, and
// whatever parses encodes again into a body that parses to the same chunk.
func FuzzParseStateChunk(f *testing.F) {
	for _, typ := range []msgType{msgState, msgResync} {
		for _, m := range []stateChunkMsg{
			{frame: 0, size: 3, index: 0, data: []byte{1, 2, 3}},
			{frame: 1234, size: 8 * stateChunk, index: 7, data: make([]byte, stateChunk)},
			{frame: maxFrameOnWire, size: MaxResumeState, index: MaxResumeState / stateChunk},
		} {
			f.Add(appendStateChunk(nil, typ, &m)[2:])
		}
	}
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, typ := range []msgType{msgState, msgResync} {
			var m stateChunkMsg
			if parseStateChunk(body, typ, &m) != nil {
				continue
			}
			if m.frame < 0 || m.frame > maxFrameOnWire || m.index < 0 || m.index > MaxResumeState ||
				m.size < 0 || m.size > MaxResumeState || (typ == msgResync) != (m.size > 0) {
				t.Fatalf("type %d: parsed out of range: %+v", typ, m)
			}
			re := appendStateChunk(nil, typ, &m)
			h, err := parseHeader(re)
			if err != nil || h.typ != typ {
				t.Fatalf("re-encoded header %x: %+v, %v", re, h, err)
			}
			var again stateChunkMsg
			if err := parseStateChunk(re[2:], typ, &again); err != nil {
				t.Fatalf("%x parses as %+v, which encodes as %x, which does not parse: %v", body, m, re, err)
			}
			if again.frame != m.frame || again.size != m.size || again.index != m.index || !bytes.Equal(again.data, m.data) {
				t.Fatalf("%x parses as %+v, re-encoded as %+v", body, m, again)
			}
		}
	})
}

// FuzzParseStateAck: no handover acknowledgement (a rejoin's or a resync's) panics the
// parser, and whatever parses encodes again into a body that parses to the same fields.
func FuzzParseStateAck(f *testing.F) {
	for _, typ := range []msgType{msgStateAck, msgResyncAck} {
		for _, m := range []stateAckMsg{
			{},
			{frame: 600, next: 3, bits: 0b1011},
			{frame: maxFrameOnWire, next: MaxResumeState, bits: 1<<64 - 1},
		} {
			f.Add(appendStateAckMsg(nil, typ, &m)[2:])
		}
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		var m stateAckMsg
		if parseStateAck(body, &m) != nil {
			return
		}
		if m.frame < 0 || m.frame > maxFrameOnWire || m.next < 0 || m.next > MaxResumeState {
			t.Fatalf("parsed out of range: %+v", m)
		}
		for _, typ := range []msgType{msgStateAck, msgResyncAck} {
			re := appendStateAckMsg(nil, typ, &m)
			if h, err := parseHeader(re); err != nil || h.typ != typ {
				t.Fatalf("re-encoded header %x: %+v, %v", re, h, err)
			}
			var again stateAckMsg
			if err := parseStateAck(re[2:], &again); err != nil || again != m {
				t.Fatalf("%x parses as %+v, re-encoded %x as %+v (%v)", body, m, re, again, err)
			}
			if len(re)-2 > len(body) {
				t.Fatalf("re-encoding grew the body from %d to %d bytes", len(body), len(re)-2)
			}
		}
	})
}
