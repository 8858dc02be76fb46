// Integrity and authentication of datagrams: the CRC-32C that ends every handshake
// datagram, the secret proof inside it, and the per-match keys whose truncated HMAC-SHA256
// tag ends every input and goodbye datagram. The construction and what it is worth are
// described with the wire format in wire.go.

package lockstep

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"hash/crc32"
)

const (
	crcLen   = 4 // CRC-32C at the end of a handshake datagram
	proofLen = 8 // truncated HMAC proving the secret, before the CRC
	tagLen   = 8 // truncated HMAC ending an input or goodbye datagram
)

// Labels that separate the uses of HMAC-SHA256, so that no output of one use is ever a
// valid output of another.
const (
	labelSecret = "p2pa lockstep v2 secret"
	labelMatch  = "p2pa lockstep v2 match"
)

// secretKey derives the key that proves the secret in handshakes and roots the per-match
// keys. An empty secret gives a fixed, public key: the handshake then proves nothing, but
// the per-match keys still bind every datagram to this match.
func secretKey(secret []byte) []byte {
	m := hmac.New(sha256.New, []byte(labelSecret))
	m.Write(secret)
	return m.Sum(nil)
}

// matchKey derives the key of the pair of players whose session nonces are lo (the lower
// player number's) and hi.
func matchKey(root []byte, lo, hi uint64) []byte {
	m := hmac.New(sha256.New, root)
	var b [len(labelMatch) + 16]byte
	copy(b[:], labelMatch)
	binary.LittleEndian.PutUint64(b[len(labelMatch):], lo)
	binary.LittleEndian.PutUint64(b[len(labelMatch)+8:], hi)
	m.Write(b[:])
	return m.Sum(nil)
}

// mac is a reusable keyed tag: Reset, Write and Sum into a fixed buffer, so computing one
// allocates nothing.
type mac struct {
	h   hash.Hash
	sum [sha256.Size]byte
	pre [1]byte
}

func newMAC(key []byte) *mac { return &mac{h: hmac.New(sha256.New, key)} }

// tag computes the truncated tag of data as sent by player sender. The sender's number is
// part of what is tagged (not of the datagram), so a datagram reflected back to its sender
// does not verify.
func (m *mac) tag(sender int, data []byte) []byte {
	m.h.Reset()
	m.pre[0] = byte(sender)
	m.h.Write(m.pre[:])
	m.h.Write(data)
	return m.h.Sum(m.sum[:0])[:tagLen]
}

// appendTag appends the tag of b[start:] (one datagram being built) to b.
func (m *mac) appendTag(b []byte, start, sender int) []byte {
	return append(b, m.tag(sender, b[start:])...)
}

// verify reports whether d ends in a valid tag from sender, and returns d without it.
func (m *mac) verify(sender int, d []byte) ([]byte, bool) {
	if len(d) < tagLen {
		return nil, false
	}
	body, got := d[:len(d)-tagLen], d[len(d)-tagLen:]
	return body, hmac.Equal(m.tag(sender, body), got)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendCRC appends the CRC-32C of b[start:] to b.
func appendCRC(b []byte, start int) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// checkCRC reports whether d ends in its own CRC-32C, and returns d without it.
func checkCRC(d []byte) ([]byte, bool) {
	if len(d) < crcLen {
		return nil, false
	}
	body := d[:len(d)-crcLen]
	return body, crc32.Checksum(body, castagnoli) == binary.LittleEndian.Uint32(d[len(d)-crcLen:])
}
