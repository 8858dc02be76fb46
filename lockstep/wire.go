package lockstep

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The wire format. Every datagram starts with
//
//	magic (1 byte, 0xB7) | type (low 4 bits) and flags (high 4 bits) | sender tag (2 bytes, LE)
//
// Handshake messages (sync request, sync reply, reject) follow with the protocol version,
// which stays at this offset in every version so that peers of different versions can still
// tell each other apart. Multi-byte integers are little-endian or unsigned varints; signed
// values are zigzag varints.
const (
	ProtocolVersion = 1
	wireMagic       = 0xB7
	// MaxDatagram is the largest datagram the session sends or accepts: small enough for any
	// IPv4 path without fragmentation (576-byte minimum reassembly size minus IP and UDP
	// headers). transport.MaxDatagram (1500), the receive buffer, is larger on purpose.
	MaxDatagram = 508
	maxGameLen  = 200
)

type msgType uint8

const (
	msgSyncRequest msgType = 1
	msgSyncReply   msgType = 2
	msgInput       msgType = 3
	msgBye         msgType = 4
	msgReject      msgType = 5
)

// Flags on input messages: which optional blocks follow the inputs.
const (
	flagQuality  = 0x10
	flagChecksum = 0x20
)

// rejectCode says why a handshake was refused.
type rejectCode uint8

const (
	rejectVersion rejectCode = iota + 1
	rejectPlayers
	rejectInputSize
	rejectGame
	rejectPlayerNumber
)

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
	tag   uint16
}

// syncMsg is a sync request, a sync reply or a reject.
type syncMsg struct {
	version   uint8
	nonce     uint32 // request: fresh; reply: echo of the request's
	player    uint8
	players   uint8
	inputSize uint8
	seed      uint64
	code      rejectCode // reject only
	game      []byte     // aliases the datagram when parsed: compared, not kept
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
}

func appendHeader(b []byte, typ msgType, flags uint8, tag uint16) []byte {
	return append(b, wireMagic, byte(typ)|flags, byte(tag), byte(tag>>8))
}

func parseHeader(b []byte) (header, []byte, error) {
	if len(b) < 4 {
		return header{}, nil, errShort
	}
	if b[0] != wireMagic {
		return header{}, nil, errMagic
	}
	h := header{typ: msgType(b[1] & 0x0f), flags: b[1] & 0xf0, tag: uint16(b[2]) | uint16(b[3])<<8}
	return h, b[4:], nil
}

func appendSync(b []byte, typ msgType, tag uint16, m *syncMsg) []byte {
	b = appendHeader(b, typ, 0, tag)
	b = append(b, m.version)
	b = binary.LittleEndian.AppendUint32(b, m.nonce)
	b = append(b, m.player, m.players, m.inputSize)
	b = binary.LittleEndian.AppendUint64(b, m.seed)
	b = append(b, byte(m.code), byte(len(m.game)))
	return append(b, m.game...)
}

// parseSync decodes the body of a handshake message. Only the version is read when it
// differs from ours: the rest of a foreign version's layout is unknown.
func parseSync(b []byte, m *syncMsg) error {
	if len(b) < 1 {
		return errShort
	}
	m.version = b[0]
	if m.version != ProtocolVersion {
		return nil
	}
	if len(b) < 1+4+3+8+2 {
		return errShort
	}
	m.nonce = binary.LittleEndian.Uint32(b[1:])
	m.player, m.players, m.inputSize = b[5], b[6], b[7]
	m.seed = binary.LittleEndian.Uint64(b[8:])
	m.code = rejectCode(b[16])
	n := int(b[17])
	rest := b[18:]
	if n > maxGameLen || len(rest) < n {
		return errShort
	}
	if len(rest) > n {
		return errTrailing
	}
	m.game = rest[:n]
	return nil
}

func appendInput(b []byte, tag uint16, m *inputMsg, flags uint8) []byte {
	b = appendHeader(b, msgInput, flags, tag)
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
	// The inputs come last and run to the end of the datagram: their count is implied,
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
	count, i := 0, 0
	for i < len(b) {
		t := b[i]
		i++
		if t < 0x80 {
			count += int(t) + 1
		} else {
			changed, consumed, err := maskOf(t, b[i:], size)
			if err != nil {
				return 0, err
			}
			i += consumed + changed
			if i > len(b) {
				return 0, errShort
			}
			count++
		}
		if count > maxInputsPerSend {
			return 0, fmt.Errorf("more than %d inputs in one message", maxInputsPerSend)
		}
	}
	return count, nil
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

// maskOf reads a literal token's mask and returns how many bytes changed and how many mask
// bytes followed the token.
func maskOf(t byte, b []byte, size int) (changed, consumed int, err error) {
	var mask uint64
	if t != 0x80 {
		if size > 7 {
			return 0, 0, errors.New("inline mask for a long input")
		}
		mask = uint64(t & 0x7f)
	} else {
		consumed = (size + 7) / 8
		if len(b) < consumed {
			return 0, 0, errShort
		}
		for i := range consumed {
			mask |= uint64(b[i]) << (8 * i)
		}
	}
	if mask == 0 || mask>>size != 0 {
		return 0, 0, errors.New("bad input mask")
	}
	for ; mask != 0; mask &= mask - 1 {
		changed++
	}
	return changed, consumed, nil
}

// decodeInputs expands count inputs from enc (already walked and counted by countInputs, in
// parseInput) against base, calling emit for each in order. emit's slice is valid only during the call.
func decodeInputs(enc, base []byte, count, size int, scratch []byte, emit func(i int, in []byte)) {
	prev := scratch[:size]
	copy(prev, base)
	idx, i := 0, 0
	for idx < count && i < len(enc) {
		t := enc[i]
		i++
		if t < 0x80 {
			for range int(t) + 1 {
				emit(idx, prev)
				idx++
			}
			continue
		}
		var mask uint64
		if t != 0x80 {
			mask = uint64(t & 0x7f)
		} else {
			for k := 0; k < (size+7)/8; k++ {
				mask |= uint64(enc[i]) << (8 * k)
				i++
			}
		}
		for k := range size {
			if mask&(1<<k) != 0 {
				prev[k] ^= enc[i]
				i++
			}
		}
		emit(idx, prev)
		idx++
	}
}
