package lockstep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The wire format, protocol version 2. Every datagram starts with
//
//	magic (1 byte, 0xB7) | type (low 4 bits) and flags (high 4 bits)
//
// and ends in an integrity check; nothing between the two, not even the type or the
// version, is believed before the check passes. The type only chooses which check to run:
// a flipped type bit makes the check fail. Multi-byte integers are little-endian or
// unsigned varints; signed values are zigzag varints.
//
// Handshake messages (sync request, sync reply, reject):
//
//	magic | type, flags | 2 reserved bytes (0) | version | session nonce (8) | nonce (4) |
//	player | players | input size | seed (8) | reject code | game length | game |
//	[resume block (flag 0x40)] | proof (8) | CRC-32C (4)
//
// The resume block (see resumePoint) is sent by a session that resumes a match in progress:
// match id (8) | frame (4) | state length (4) | state checksum (8). Handshakes without it
// are laid out exactly as before, so the block did not need a new protocol version.
//
// The version stays at offset 4 in every version (version 1 had its sender tag in the
// reserved bytes), and the CRC-32C (Castagnoli) over everything before it stays at the
// end, so a peer of any later version can still check a datagram's integrity and then
// read "peer runs protocol N" from it — but only from a datagram that passed the check.
// Flag 0x10 on a handshake says the sender was given a secret (Config.Secret).
//
// Input and goodbye messages:
//
//	magic | type, flags | body | tag (8)
//
// An input message's body is start (uvarint) | ack-start (varint) | quality block (flag
// 0x10) | checksum block (0x20) | roster (0x40) | encoded inputs to the end. The roster is
// sent in every input message of a 3-4 player match (never with two players): a count
// byte, then for each player other than the sender and the receiver, in player order, a
// uvarint of zigzag(last-ack)<<1 | disconnected, last being the last frame of that
// player's real input the sender holds or, once disconnected, settled on.
//
// # Integrity and authentication
//
// Each session picks a random 64-bit session nonce and sends it in every handshake
// message. The root key is HMAC-SHA256 keyed by a fixed label over Config.Secret (a fixed
// public key without a secret). The proof in a handshake message is HMAC-SHA256 under the
// root key over the message up to the proof, truncated to 8 bytes: it shows the sender knows
// the secret without sending it. It covers the session nonce and the request nonce, which
// a reply echoes: a handshake only completes on replies to our own fresh nonces, so
// replaying old handshake datagrams cannot complete one without the secret. A handshake
// whose CRC passes but whose proof fails is answered with a reject ("the secrets differ")
// and ends our handshake.
//
// For each pair of players the match key is HMAC-SHA256 under the root key over a label and
// both session nonces, the lower player number's first. Input and goodbye datagrams end in
// HMAC-SHA256 under that key over the sender's player number and the datagram, truncated
// to 8 bytes. A datagram whose tag does not verify is dropped (Stats.Dropped.Unauthenticated)
// before any field of it is read. The sender's number is tagged but not sent, so a datagram
// reflected back to its sender fails; the session nonce replaces version 1's 2-byte sender
// tag, which input messages no longer carry (a leftover process on the peer's address has
// another session nonce, so another key, and its datagrams fail the tag).
//
// Strength: a forger who does not know the match key passes one tag with probability
// 2^-64 per try, far beyond what a flood could try in a match. The tag protects against
// corruption and truncation (which the 32-bit CRC also catches in handshakes, all errors of
// up to 3 bits in a datagram of this size), leftover processes of an earlier match, replays
// of datagrams from another match (other nonces, other key), and senders that did not see
// the handshake. Replays within the same match pass the tag and are handled by the
// freshness rules (acks, frames and clock readings only move forward: Stats.Dropped.Stale).
// It does not protect against a man in the middle during a handshake without a secret (the
// nonces travel in the clear, so one who rewrites the handshake can derive the key), it
// does not hide anything (nothing is encrypted), and it does not stop a flood from using
// up bandwidth or CPU. A reject's proof is not checked (a peer with another secret cannot
// make a valid one, and must still be able to say so): a reject is believed only during
// our handshake, from a peer's address, after its CRC passed. A newcomer asking for a seat
// whose player is known at another address (or any seat of a running match) is answered
// with a "match full" reject and changes nothing here.
//
// ProtocolVersion and MaxDatagram are with the other limits, in config.go.
const (
	wireMagic  = 0xB7
	maxGameLen = 200
	// syncHeaderLen is where a handshake message's version sits.
	syncHeaderLen = 4
)

type msgType uint8

const (
	msgSyncRequest  msgType = 1
	msgSyncReply    msgType = 2
	msgInput        msgType = 3
	msgBye          msgType = 4
	msgReject       msgType = 5
	msgIntro        msgType = 6  // player 0 introduces the others (intro.go)
	msgWatch        msgType = 7  // player 0 to a spectator: confirmed inputs (spectator.go)
	msgWatchAck     msgType = 8  // a spectator to player 0: the frames it holds
	msgState        msgType = 9  // a survivor to a rejoiner: one chunk of the saved state (rejoin.go)
	msgStateAck     msgType = 10 // a rejoiner to the others: the chunks it holds (rejoin.go)
	msgResync       msgType = 11 // a donor to a peer with a wrong state: one chunk of the right one (resync.go)
	msgResyncAck    msgType = 12 // that peer to the donor: the chunks it holds (resync.go)
	msgWatchPlayers msgType = 13 // a feeding player to a spectator: the other players' addresses (spectator.go)
	msgWatchState   msgType = 14 // a feeding player to a spectator: the state it is offered (spectator.go)
)

// Flags on input messages: which optional blocks follow the inputs.
const (
	flagQuality  = 0x10
	flagChecksum = 0x20
	flagRoster   = 0x40
)

// flagFeederLeaves on a feeding player's goodbye to a spectator: the match is not over,
// it goes on without the sender, and the spectator turns to the lowest-numbered player
// still in it (spectator.go). A spectator that does not know the flag takes the goodbye as
// the end of the match, which it was for its feeder. flagFreshBase on rows to a spectator
// (msgWatch): the first row is coded against the zero row, not the row before it.
const (
	flagFreshBase    = 0x10
	flagFeederLeaves = 0x20
)

// flagSecret on a handshake message: the sender was given a secret. flagWatch: the message
// is between a spectator and player 0 (spectator.go). flagResume: the sender resumes a
// match in progress, and the resume block follows the game (rejoin.go). flagSeedGiven: the
// seed field holds the seed the sender was given, whatever its player number, so a
// rejoiner given another one is refused.
const (
	flagSecret    = 0x10
	flagWatch     = 0x20
	flagResume    = 0x40
	flagSeedGiven = 0x80
)

// rejectCode says why a handshake was refused.
type rejectCode uint8

const (
	rejectVersion rejectCode = iota + 1
	rejectPlayers
	rejectInputSize
	rejectGame
	rejectPlayerNumber
	rejectSecret  // the handshake's proof of the secret failed
	rejectFull    // every seat is taken by another address
	rejectWatch   // a spectator: no room (or this player takes none)
	rejectSeed    // a rejoiner given another seed than the match in progress
	rejectMatch   // a session resuming another match
	rejectResumed // sent by older versions to a spectator of a leg that resumed a match
)

var rejectNames = [...]string{"none", "version", "players", "input size", "game", "player number", "secret", "match full", "no room for spectators", "seed", "another match", "resumed match"}

func (c rejectCode) String() string {
	if int(c) < len(rejectNames) {
		return rejectNames[c]
	}
	return fmt.Sprintf("reject code %d", uint8(c))
}

var (
	errShort     = errors.New("truncated")
	errMagic     = errors.New("not a p2pa datagram")
	errTrailing  = errors.New("trailing bytes")
	errBadVarint = errors.New("bad varint")
)

// header is the part every message shares.
type header struct {
	typ   msgType
	flags uint8
}

// syncMsg is a sync request, a sync reply or a reject.
type syncMsg struct {
	version   uint8
	secret    bool   // flagSecret
	watch     bool   // flagWatch
	session   uint64 // the sender's session nonce
	nonce     uint32 // request: fresh; reply: echo of the request's
	player    uint8
	players   uint8
	inputSize uint8
	seed      uint64
	code      rejectCode // reject only
	game      []byte     // aliases the datagram when parsed: compared, not kept
	seedGiven bool       // flagSeedGiven
	resume    resumeInfo // flagResume: what the sender resumes from (rejoin.go)
	proof     []byte     // aliases the datagram; signed is what it covers
	signed    []byte
}

// inputMsg carries the sender's unacknowledged inputs, its acknowledgement of ours, and
// optionally a quality report and a checksum report.
type inputMsg struct {
	start  Frame // frame of the first input carried
	count  int
	ack    Frame  // last frame of the receiver's inputs the sender has (NullFrame: none)
	inputs []byte // encoded inputs, decoded by the receiver against its own copy of start-1

	// quality (flagQuality)
	ping      uint32 // sender's clock, microseconds
	echo      uint32 // the last ping received from the receiver (0: none yet)
	held      uint32 // microseconds between receiving that ping and sending this echo
	frame     Frame  // sender's current frame
	advantage int32  // sender's frame advantage over the receiver, frames

	// checksum (flagChecksum)
	sumFrame Frame
	sum      uint64

	// roster (flagRoster): the sender's view of every player other than itself and the
	// receiver, in player order (departure.go)
	rosterN int
	roster  [MaxPlayers]rosterEntry
}

// rosterEntry is one sender's view of one player: connected or not, and the last frame of
// its real input the sender holds (connected) or settled on (disconnected).
type rosterEntry struct {
	disc bool
	last Frame
}

func appendHeader(b []byte, typ msgType, flags uint8) []byte {
	return append(b, wireMagic, byte(typ)|flags)
}

// parseHeader reads the magic and the type. The type is not to be believed before the
// integrity check it selects has passed.
func parseHeader(b []byte) (header, error) {
	if len(b) < 2 {
		return header{}, errShort
	}
	if b[0] != wireMagic {
		return header{}, errMagic
	}
	return header{typ: msgType(b[1] & 0x0f), flags: b[1] & 0xf0}, nil
}

// appendSync appends a handshake message, its proof under proof (the root key) and its CRC.
func appendSync(b []byte, typ msgType, m *syncMsg, proof *mac) []byte {
	start := len(b)
	var flags uint8
	if m.secret {
		flags = flagSecret
	}
	if m.watch {
		flags |= flagWatch
	}
	if m.resume.set {
		flags |= flagResume
	}
	if m.seedGiven {
		flags |= flagSeedGiven
	}
	b = appendHeader(b, typ, flags)
	b = append(b, 0, 0, m.version)
	b = binary.LittleEndian.AppendUint64(b, m.session)
	b = binary.LittleEndian.AppendUint32(b, m.nonce)
	b = append(b, m.player, m.players, m.inputSize)
	b = binary.LittleEndian.AppendUint64(b, m.seed)
	b = append(b, byte(m.code), byte(len(m.game)))
	b = append(b, m.game...)
	if m.resume.set {
		b = appendResume(b, &m.resume)
	}
	b = proof.appendTag(b, start, int(m.player))
	return appendCRC(b, start)
}

// parseSync decodes a handshake datagram whose CRC has been checked and removed. Only the
// version is read when it differs from ours: the rest of a foreign version's layout is
// unknown.
func parseSync(d []byte, h header, m *syncMsg) error {
	if len(d) < syncHeaderLen+1 {
		return errShort
	}
	b := d[syncHeaderLen:]
	m.version = b[0]
	if m.version != ProtocolVersion {
		return nil
	}
	if len(b) < 1+8+4+3+8+2+proofLen {
		return errShort
	}
	m.secret = h.flags&flagSecret != 0
	m.watch = h.flags&flagWatch != 0
	m.seedGiven = h.flags&flagSeedGiven != 0
	m.session = binary.LittleEndian.Uint64(b[1:])
	m.nonce = binary.LittleEndian.Uint32(b[9:])
	m.player, m.players, m.inputSize = b[13], b[14], b[15]
	m.seed = binary.LittleEndian.Uint64(b[16:])
	m.code = rejectCode(b[24])
	n := int(b[25])
	rest := b[26:]
	extra := 0
	if h.flags&flagResume != 0 {
		extra = resumeLen
	}
	if n > maxGameLen || len(rest) < n+extra+proofLen {
		return errShort
	}
	if len(rest) > n+extra+proofLen {
		return errTrailing
	}
	m.game = rest[:n]
	m.resume = resumeInfo{}
	if extra > 0 {
		if err := parseResume(rest[n:n+extra], &m.resume); err != nil {
			return err
		}
	}
	m.proof = rest[n+extra:]
	m.signed = d[:len(d)-proofLen]
	return nil
}

// appendInput appends an input message without its tag.
func appendInput(b []byte, m *inputMsg, flags uint8) []byte {
	b = appendHeader(b, msgInput, flags)
	b = binary.AppendUvarint(b, uint64(m.start))
	b = binary.AppendVarint(b, int64(m.ack)-int64(m.start))
	if flags&flagQuality != 0 {
		b = binary.AppendUvarint(b, uint64(m.ping))
		b = binary.AppendUvarint(b, uint64(m.echo))
		b = binary.AppendUvarint(b, uint64(m.held))
		b = binary.AppendUvarint(b, uint64(m.frame))
		b = binary.AppendVarint(b, int64(m.advantage))
	}
	if flags&flagChecksum != 0 {
		b = binary.AppendUvarint(b, uint64(m.sumFrame))
		b = binary.LittleEndian.AppendUint64(b, m.sum)
	}
	if flags&flagRoster != 0 {
		// Each entry's frame relative to the ack (they are close), zigzag-coded, and the
		// disconnected bit below it: one byte per player in play.
		b = append(b, byte(m.rosterN))
		for _, e := range m.roster[:m.rosterN] {
			d := int64(e.last) - int64(m.ack)
			v := uint64(d<<1^d>>63) << 1
			if e.disc {
				v |= 1
			}
			b = binary.AppendUvarint(b, v)
		}
	}
	// The inputs come last and run to the end of the message: their count is implied,
	// which saves a byte on every message of a match.
	return append(b, m.inputs...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint(limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > limit {
		r.err = errBadVarint
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(limit int64) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 || v > limit || v < -limit {
		r.err = errBadVarint
		return 0
	}
	r.b = r.b[n:]
	return v
}

const maxFrameOnWire = 1<<31 - 2

// parseInput decodes an input message body. The inputs stay encoded (m.inputs aliases b);
// decodeInputs expands them, because that needs the receiver's copy of the base input.
// Their count is found by walking them, which needs the input size.
func parseInput(b []byte, flags uint8, inputSize int, m *inputMsg) error {
	r := reader{b: b}
	m.start = Frame(r.uvarint(maxFrameOnWire))
	m.ack = Frame(int64(m.start) + r.varint(maxFrameOnWire))
	if flags&flagQuality != 0 {
		m.ping = uint32(r.uvarint(1<<32 - 1))
		m.echo = uint32(r.uvarint(1<<32 - 1))
		m.held = uint32(r.uvarint(1<<32 - 1))
		m.frame = Frame(r.uvarint(maxFrameOnWire))
		m.advantage = int32(r.varint(1 << 20))
	}
	if flags&flagChecksum != 0 {
		m.sumFrame = Frame(r.uvarint(maxFrameOnWire))
		if r.err == nil && len(r.b) < 8 {
			r.err = errShort
		}
		if r.err == nil {
			m.sum = binary.LittleEndian.Uint64(r.b)
			r.b = r.b[8:]
		}
	}
	m.rosterN = 0
	if flags&flagRoster != 0 {
		if r.err == nil && len(r.b) < 1 {
			r.err = errShort
		}
		if r.err == nil {
			n := int(r.b[0])
			r.b = r.b[1:]
			if n > MaxPlayers-2 {
				return fmt.Errorf("roster of %d players", n)
			}
			for i := range n {
				v := r.uvarint(1 << 34)
				z := v >> 1
				d := int64(z>>1) ^ -int64(z&1)
				f := int64(m.ack) + d
				if f < int64(NullFrame) || f > maxFrameOnWire {
					return fmt.Errorf("roster frame %d", f)
				}
				m.roster[i] = rosterEntry{disc: v&1 != 0, last: Frame(f)}
			}
			m.rosterN = n
		}
	}
	if r.err != nil {
		return r.err
	}
	if m.ack < NullFrame {
		return fmt.Errorf("ack frame %d", m.ack)
	}
	count, err := countInputs(r.b, inputSize)
	if err != nil {
		return err
	}
	m.count, m.inputs = count, r.b
	return nil
}

// countInputs walks encoded inputs to the end of b and returns how many there are. A
// sender never puts more than maxInputsPerSend in one message; more is refused, so a small
// datagram of repeat tokens cannot make the receiver expand thousands of inputs.
func countInputs(b []byte, size int) (int, error) {
	count := 0
	it := inputTokens{b: b, size: size}
	for it.next() {
		count += it.inputs
		if count > maxInputsPerSend {
			return 0, fmt.Errorf("more than %d inputs in one message", maxInputsPerSend)
		}
	}
	if it.err != nil {
		return 0, it.err
	}
	return count, nil
}

// inputTokens walks the tokens of encoded inputs (see appendInputs), the one walk that
// counting (countInputs), capping (capInputs) and decoding (decodeInputs) share. A token is
// a repeat (a byte below 0x80: the previous input, t+1 times) or a change (a mask, in the
// token or in the bytes after it, then one byte to XOR for each bit of the mask).
type inputTokens struct {
	b    []byte
	size int
	end  int   // where the next token starts
	err  error // why the walk stopped early: a bad mask, or b cut short
	// the current token
	inputs int    // how many inputs it stands for
	mask   uint64 // a change's mask; 0 for a repeat
	xor    []byte // a change's bytes, one for each bit of mask
}

// next moves to the next token; false at the end of b or at a malformed token (err).
func (it *inputTokens) next() bool {
	if it.err != nil || it.end >= len(it.b) {
		return false
	}
	t := it.b[it.end]
	it.end++
	if t < 0x80 {
		it.inputs, it.mask, it.xor = int(t)+1, 0, nil
		return true
	}
	mask, changed, consumed, err := maskOf(t, it.b[it.end:], it.size)
	if err != nil {
		it.err = err
		return false
	}
	start := it.end + consumed
	if start+changed > len(it.b) {
		it.err = errShort
		return false
	}
	it.inputs, it.mask, it.xor = 1, mask, it.b[start:start+changed]
	it.end = start + changed
	return true
}

// Inputs are encoded as tokens, each against the input before it:
//
//	0x00..0x7f        the previous input again, token+1 times
//	0x80 mask... xor  a changed input: ceil(size/8) mask bytes (bit i: byte i changed), then
//	                  the changed bytes XOR the previous input's
//	0x81..0xff        the same for inputs of at most 7 bytes, the mask in the token's low bits
//
// A still mouse costs one byte per 128 frames; a moving one about four bytes a frame.

// appendInputs encodes inputs (count*size bytes) against base and returns the buffer.
func appendInputs(b, base, inputs []byte, size int) []byte {
	prev := base
	run := 0
	flush := func() {
		for run > 0 {
			n := min(run, 128)
			b = append(b, byte(n-1))
			run -= n
		}
	}
	for off := 0; off+size <= len(inputs); off += size {
		cur := inputs[off : off+size]
		var mask uint64
		for i := range size {
			if cur[i] != prev[i] {
				mask |= 1 << i
			}
		}
		if mask == 0 {
			run++
			prev = cur
			continue
		}
		flush()
		if size <= 7 {
			b = append(b, 0x80|byte(mask))
		} else {
			b = append(b, 0x80)
			for i := 0; i < size; i += 8 {
				b = append(b, byte(mask>>i))
			}
		}
		for i := range size {
			if mask&(1<<i) != 0 {
				b = append(b, cur[i]^prev[i])
			}
		}
		prev = cur
	}
	flush()
	return b
}

// maskOf reads a change token's mask and returns it, how many bytes changed and how many
// mask bytes followed the token.
func maskOf(t byte, b []byte, size int) (mask uint64, changed, consumed int, err error) {
	if t != 0x80 {
		if size > 7 {
			return 0, 0, 0, errors.New("inline mask for a long input")
		}
		mask = uint64(t & 0x7f)
	} else {
		consumed = (size + 7) / 8
		if len(b) < consumed {
			return 0, 0, 0, errShort
		}
		for i := range consumed {
			mask |= uint64(b[i]) << (8 * i)
		}
	}
	if mask == 0 || mask>>size != 0 {
		return 0, 0, 0, errors.New("bad input mask")
	}
	changed = bits.OnesCount64(mask)
	return mask, changed, consumed, nil
}

// decodeInputs expands count inputs from enc (already walked and counted by countInputs, in
// parseInput) against base, calling emit for each in order. emit's slice is valid only during the call.
func decodeInputs(enc, base []byte, count, size int, scratch []byte, emit func(i int, in []byte)) {
	prev := scratch[:size]
	copy(prev, base)
	idx := 0
	for it := (inputTokens{b: enc, size: size}); idx < count && it.next(); {
		if it.mask == 0 {
			for range it.inputs {
				emit(idx, prev)
				idx++
			}
			continue
		}
		j := 0
		for k := range size {
			if it.mask&(1<<k) != 0 {
				prev[k] ^= it.xor[j]
				j++
			}
		}
		emit(idx, prev)
		idx++
	}
}

// stateChunkMsg is one chunk of a state handed over to a rejoiner (msgState) or to a peer
// being resynced (msgResync): the state's frame, in a resync its size (the rejoiner learned
// it in the handshake), the chunk's index, and its bytes (stateChunk of them, fewer in the
// last chunk).
type stateChunkMsg struct {
	frame Frame
	size  int // msgResync only
	index int
	data  []byte
}

// appendStateChunk appends a msgState or msgResync datagram without its tag.
func appendStateChunk(b []byte, typ msgType, m *stateChunkMsg) []byte {
	b = appendHeader(b, typ, 0)
	b = binary.AppendUvarint(b, uint64(m.frame))
	if typ == msgResync {
		b = binary.AppendUvarint(b, uint64(m.size))
	}
	b = binary.AppendUvarint(b, uint64(m.index))
	return append(b, m.data...)
}

// parseStateChunk parses the body of a msgState or msgResync datagram (after the header,
// its tag cut off). m.data aliases body; whether its length fits the index is the
// receiver's check.
func parseStateChunk(body []byte, typ msgType, m *stateChunkMsg) error {
	r := reader{b: body}
	m.frame = Frame(r.uvarint(maxFrameOnWire))
	if typ == msgResync {
		m.size = int(r.uvarint(MaxResumeState))
		if r.err == nil && m.size == 0 {
			return errors.New("resync state of 0 bytes")
		}
	}
	m.index = int(r.uvarint(MaxResumeState))
	m.data = r.b
	return r.err
}

// stateAckMsg is a rejoiner's acknowledgement of the chunks it holds (msgStateAck), which
// is also its request for the rest: every chunk before next, and chunk next+1+i for every
// bit i set in bits.
type stateAckMsg struct {
	frame Frame
	next  int
	bits  uint64
}

// appendStateAckMsg appends a msgStateAck or msgResyncAck datagram without its tag.
func appendStateAckMsg(b []byte, typ msgType, m *stateAckMsg) []byte {
	b = appendHeader(b, typ, 0)
	b = binary.AppendUvarint(b, uint64(m.frame))
	b = binary.AppendUvarint(b, uint64(m.next))
	return binary.AppendUvarint(b, m.bits)
}

// parseStateAck parses the body of a msgStateAck or msgResyncAck datagram (after the
// header, its tag cut off): both are laid out alike.
func parseStateAck(body []byte, m *stateAckMsg) error {
	r := reader{b: body}
	m.frame = Frame(r.uvarint(maxFrameOnWire))
	m.next = int(r.uvarint(MaxResumeState))
	m.bits = r.uvarint(1<<64 - 1)
	if r.err == nil && len(r.b) != 0 {
		return errTrailing
	}
	return r.err
}
