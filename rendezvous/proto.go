package rendezvous

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ProtocolVersion is the version of the messages below. A client and a server of different
// versions refuse each other with CodeProtocol instead of misreading fields; bump it on any
// change an older peer would misread (new optional fields do not need a bump).
const ProtocolVersion = 1

// MaxSignalData is the largest Data a signal may carry: a session description with every
// candidate fits several times over, and a bound keeps one member from flooding another
// through the server.
const MaxSignalData = 16 << 10

// MaxRoomName is the longest room name a client may claim.
const MaxRoomName = 64

// MsgType is the "t" field of every message.
type MsgType uint8

const (
	msgInvalid MsgType = iota
	MsgJoin            // client → server, the first message: which room, which seat
	MsgWelcome         // server → client: the answer to a join
	MsgJoined          // server → client: another member arrived
	MsgLeft            // server → client: a member's connection closed
	MsgSignal          // both ways: opaque data for one member of the room
	MsgError           // server → client, the last message before the server closes
)

var msgNames = [...]string{
	msgInvalid: "invalid",
	MsgJoin:    "join",
	MsgWelcome: "welcome",
	MsgJoined:  "joined",
	MsgLeft:    "left",
	MsgSignal:  "signal",
	MsgError:   "error",
}

func (t MsgType) String() string {
	if int(t) < len(msgNames) {
		return msgNames[t]
	}
	return "MsgType(" + strconv.Itoa(int(t)) + ")"
}

// MarshalText writes the type's name; an invalid type is an error so that no message with
// an unreadable type leaves.
func (t MsgType) MarshalText() ([]byte, error) {
	if t == msgInvalid || int(t) >= len(msgNames) {
		return nil, fmt.Errorf("no message type %d", uint8(t))
	}
	return []byte(msgNames[t]), nil
}

// UnmarshalText reads a type's name.
func (t *MsgType) UnmarshalText(b []byte) error {
	for i, n := range msgNames {
		if i != int(msgInvalid) && n == string(b) {
			*t = MsgType(i)
			return nil
		}
	}
	return fmt.Errorf("unknown message type %q", truncate(string(b), 32))
}

// Seat is where a member sits: a player number 0..3, or Spectator.
type Seat int8

// Spectator is the seat of a member that watches.
const Spectator Seat = -1

// MaxSeats is the number of player seats a room can have (the engine's largest match).
const MaxSeats = 4

// Player reports whether s is a player's seat rather than a spectator's.
func (s Seat) Player() bool { return s >= 0 }

func (s Seat) String() string {
	if s == Spectator {
		return "spectator"
	}
	return "player " + strconv.Itoa(int(s))
}

func (s Seat) valid() bool { return s == Spectator || (s >= 0 && s < MaxSeats) }

// MarshalJSON writes a player's seat as its number and a spectator's as "spectator".
func (s Seat) MarshalJSON() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("no seat %d", int(s))
	}
	if s == Spectator {
		return []byte(`"spectator"`), nil
	}
	return []byte(strconv.Itoa(int(s))), nil
}

// UnmarshalJSON reads 0..3 or "spectator".
func (s *Seat) UnmarshalJSON(b []byte) error {
	if string(b) == `"spectator"` {
		*s = Spectator
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 || n >= MaxSeats {
		return fmt.Errorf("seat %s: want 0..%d or \"spectator\"", truncate(string(b), 16), MaxSeats-1)
	}
	*s = Seat(n)
	return nil
}

// Member is one connection in a room. A process that reconnects (a restarted player) is a
// new member with a new ID: IDs are never reused within a room.
type Member struct {
	ID   string `json:"id"`
	Seat Seat   `json:"seat"`
}

// ICEServer is one STUN or TURN server for the members' ICE agents, in the shape of
// WebRTC's RTCIceServer. For TURN, Username and Credential are short-lived (the TURN REST
// scheme) and were made for this member.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// JoinRequest is what a client asks for.
type JoinRequest struct {
	// Room is the room's name or code. Empty with Create: the server makes up a random code
	// (Welcome.Room tells it).
	Room string
	// Create: make the room if it does not exist (claim a name, or a fresh random code when
	// Room is empty); without it the room must exist already.
	Create bool
	// Seat is the player seat 0..3 to take, or Spectator.
	Seat Seat
}

// Welcome is the server's answer to a join.
type Welcome struct {
	Protocol int         // the room's protocol version, ProtocolVersion
	Room     string      // the room's canonical name (upper case) or the code made up for it
	ID       string      // this member's ID in the room
	Seat     Seat        // this member's seat
	Members  []Member    // the other members present, oldest first
	ICE      []ICEServer // the ICE servers to use, with credentials for this member
}

// message is every message on the wire: one JSON object whose "t" says which fields
// matter. One struct keeps the decoder a single validating function per direction.
type message struct {
	T       MsgType     `json:"t"`
	V       int         `json:"v,omitempty"`
	Room    string      `json:"room,omitempty"`
	Create  bool        `json:"create,omitempty"`
	Seat    *Seat       `json:"seat,omitempty"`
	ID      string      `json:"id,omitempty"`
	Members []Member    `json:"members,omitempty"`
	Member  *Member     `json:"member,omitempty"`
	ICE     []ICEServer `json:"ice,omitempty"`
	To      string      `json:"to,omitempty"`
	From    string      `json:"from,omitempty"`
	Data    string      `json:"data,omitempty"`
	Code    ErrorCode   `json:"code,omitempty"`
	Message string      `json:"message,omitempty"`
}

// errBadMessage is wrapped by every decoding error.
var errBadMessage = errors.New("bad message")

func decode(b []byte) (message, error) {
	var m message
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		return m, fmt.Errorf("%w: %v", errBadMessage, err)
	}
	if d.More() {
		return m, fmt.Errorf("%w: more than one JSON value", errBadMessage)
	}
	if m.T == msgInvalid {
		return m, fmt.Errorf("%w: no \"t\"", errBadMessage)
	}
	return m, nil
}

// decodeClient reads a message a client sent: a join (only as the first message; the
// caller checks) or a signal. Every field the server relies on is checked here.
func decodeClient(b []byte) (message, error) {
	m, err := decode(b)
	if err != nil {
		return m, err
	}
	switch m.T {
	case MsgJoin:
		if m.V == 0 {
			return m, fmt.Errorf("%w: join without a protocol version \"v\"", errBadMessage)
		}
		if m.Seat == nil {
			return m, fmt.Errorf("%w: join without a \"seat\"", errBadMessage)
		}
		if m.Room != "" {
			if err := checkRoomName(m.Room); err != nil {
				return m, fmt.Errorf("%w: %v", errBadMessage, err)
			}
		} else if !m.Create {
			return m, fmt.Errorf("%w: join names no room (and does not create one)", errBadMessage)
		}
	case MsgSignal:
		if err := checkSignal(m.To, m.Data); err != nil {
			return m, err
		}
	default:
		return m, fmt.Errorf("%w: a client does not send %q", errBadMessage, m.T)
	}
	return m, nil
}

// decodeServer reads a message the server sent.
func decodeServer(b []byte) (message, error) {
	m, err := decode(b)
	if err != nil {
		return m, err
	}
	switch m.T {
	case MsgWelcome:
		if m.ID == "" || m.Room == "" || m.Seat == nil {
			return m, fmt.Errorf("%w: welcome without id, room or seat", errBadMessage)
		}
		for _, x := range m.Members {
			if x.ID == "" {
				return m, fmt.Errorf("%w: welcome lists a member without id", errBadMessage)
			}
		}
	case MsgJoined, MsgLeft:
		if m.Member == nil || m.Member.ID == "" {
			return m, fmt.Errorf("%w: %s without a member", errBadMessage, m.T)
		}
	case MsgSignal:
		if err := checkSignal(m.From, m.Data); err != nil {
			return m, err
		}
	case MsgError:
		if m.Code == codeInvalid {
			return m, fmt.Errorf("%w: error without a code", errBadMessage)
		}
	default:
		return m, fmt.Errorf("%w: a server does not send %q", errBadMessage, m.T)
	}
	return m, nil
}

func checkSignal(peer, data string) error {
	switch {
	case peer == "":
		return fmt.Errorf("%w: signal names no member", errBadMessage)
	case len(peer) > 64:
		return fmt.Errorf("%w: signal names a member id of %d bytes", errBadMessage, len(peer))
	case len(data) > MaxSignalData:
		return fmt.Errorf("%w: signal data of %d bytes, over %d", errBadMessage, len(data), MaxSignalData)
	}
	return nil
}

// CanonicalRoom is the form the server files a room under: names are case-insensitive so a
// code read aloud or typed in lower case finds its room.
func CanonicalRoom(name string) string { return strings.ToUpper(name) }

// CheckRoomName reports whether name can name a room: 1..MaxRoomName letters, digits, '-',
// '_' or '.'. Flags check -room with it so a typo fails before any connection.
func CheckRoomName(name string) error { return checkRoomName(name) }

func checkRoomName(name string) error {
	if name == "" || len(name) > MaxRoomName {
		return fmt.Errorf("room name %q: want 1..%d characters", truncate(name, MaxRoomName), MaxRoomName)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("room name %q: only letters, digits, '-', '_' and '.'", truncate(name, MaxRoomName))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func encode(m message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s message: %w", m.T, err)
	}
	return b, nil
}
