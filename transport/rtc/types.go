package rtc

import (
	"crypto/sha256"
	"net/netip"
	"strconv"
	"time"
)

// LinkKind is how the datagrams of one pair of members travel.
type LinkKind uint8

const (
	// LinkAuto, only in Config: ICE-only with a member that can do it (a native one), a data
	// channel otherwise.
	LinkAuto LinkKind = iota
	// LinkICE carries each engine datagram as one UDP datagram over the ICE connection
	// (pion/ice), without DTLS or SCTP: the UDP wire, through NATs. Native builds only.
	LinkICE
	// LinkDataChannel carries each engine datagram as one message on a WebRTC data channel
	// (unordered, no retransmission) over DTLS and SCTP: what a browser can do.
	LinkDataChannel
)

func (k LinkKind) String() string {
	switch k {
	case LinkAuto:
		return "auto"
	case LinkICE:
		return "ice"
	case LinkDataChannel:
		return "datachannel"
	}
	return "LinkKind(" + strconv.Itoa(int(k)) + ")"
}

func parseLinkKind(s string) (LinkKind, bool) {
	for k := LinkAuto; k <= LinkDataChannel; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// LinkState is where a link to one member stands.
type LinkState uint8

const (
	// LinkConnecting: signals are being exchanged and ICE checks run.
	LinkConnecting LinkState = iota
	// LinkOpen: datagrams flow.
	LinkOpen
	// LinkFailed: no path was found in time, or an open link lost its path (ICE failed).
	LinkFailed
	// LinkClosed: the member ended the link (its Close, or a refusal).
	LinkClosed
)

func (s LinkState) String() string {
	switch s {
	case LinkConnecting:
		return "connecting"
	case LinkOpen:
		return "open"
	case LinkFailed:
		return "failed"
	case LinkClosed:
		return "closed"
	}
	return "LinkState(" + strconv.Itoa(int(s)) + ")"
}

// CandidateType is the ICE candidate type at one end of the selected path (RFC 8445 §5.1.1).
type CandidateType uint8

const (
	CandidateUnknown CandidateType = iota // not known (not open yet, or the browser did not say)
	CandidateHost                         // an address of the machine itself
	CandidateSrflx                        // server reflexive: the NAT's mapping, learned from STUN
	CandidatePrflx                        // peer reflexive: a mapping learned from a peer's check
	CandidateRelay                        // an address on a TURN server that relays
)

func (c CandidateType) String() string {
	switch c {
	case CandidateUnknown:
		return "unknown"
	case CandidateHost:
		return "host"
	case CandidateSrflx:
		return "srflx"
	case CandidatePrflx:
		return "prflx"
	case CandidateRelay:
		return "relay"
	}
	return "CandidateType(" + strconv.Itoa(int(c)) + ")"
}

func parseCandidateType(s string) CandidateType {
	for c := CandidateHost; c <= CandidateRelay; c++ {
		if c.String() == s {
			return c
		}
	}
	return CandidateUnknown
}

// Path says whether an open link goes straight between the two members or through a relay.
type Path uint8

const (
	PathUnknown Path = iota // not open, or not known
	PathDirect              // host, srflx or prflx at both ends: a hole was punched or none was needed
	PathRelayed             // a relay candidate at either end: a TURN server forwards every datagram
)

func (p Path) String() string {
	switch p {
	case PathUnknown:
		return "unknown"
	case PathDirect:
		return "direct"
	case PathRelayed:
		return "relayed"
	}
	return "Path(" + strconv.Itoa(int(p)) + ")"
}

// LinkInfo describes the link to one member.
type LinkInfo struct {
	Member string
	Addr   netip.AddrPort // AddrOf(Member)
	Kind   LinkKind       // LinkICE or LinkDataChannel (the one being tried while connecting)
	State  LinkState
	// Path and the candidate types are known once the link is open. They follow the
	// selected pair while the link is open: ICE may move it (a relayed pair nominated
	// first, the direct one once its checks succeed; see Event.PathChanged).
	Path          Path
	Local, Remote CandidateType
	// Relay is the TURN server's host:port when Path is PathRelayed: the configured server
	// whose address the relay candidate carries, or the relayed address itself when no
	// configured server matches (the other member's relay).
	Relay string
	// Offerer is true when this side opened the link (Connect).
	Offerer bool
	// Opened is how long the link took from its first signal to open.
	Opened time.Duration
	// Err says why a failed or closed link ended.
	Err error
}

// Event tells that a link opened, failed or was closed by the other member, or that an
// open link's path changed.
type Event struct {
	Member string
	State  LinkState // LinkOpen, LinkFailed or LinkClosed
	Info   LinkInfo
	// PathChanged marks a LinkOpen event about a link that was already open: ICE moved it
	// to another pair, and Info.Path or Info.Relay differs from what the previous event
	// of the link said (relayed, then direct once the hole is punched; or the other way
	// when the direct pair stops working and a browser moves back to the relay). A
	// caller that only counts links opening skips these.
	PathChanged bool
	// Err says why a link failed or closed; it wraps ErrNoPath when ICE found no path.
	Err error
}

// Port is the port of every synthetic address.
const Port = 7000

// AddrOf is the address the Conn of every member gives the member with this id: fd (a
// unique local IPv6 prefix, RFC 4193, never routed) then 15 bytes of SHA-256 of the id. Every
// member derives the same address for the same id, so lockstep's peer tables, handshakes and
// introductions work unchanged; a restarted member comes back with a new id and so a new
// address, as a restarted UDP peer comes back on a new port.
func AddrOf(member string) netip.AddrPort {
	h := sha256.Sum256([]byte("p2pa/rtc member\x00" + member))
	var a [16]byte
	a[0] = 0xfd
	copy(a[1:], h[:15])
	return netip.AddrPortFrom(netip.AddrFrom16(a), Port)
}
