package rendezvous

import (
	"fmt"
	"strconv"
)

// ErrorCode says why the server refused or closed a connection, in an error message's
// "code" field. CodeUnreachable is the client's own: the server could not be reached.
type ErrorCode uint8

const (
	codeInvalid     ErrorCode = iota
	CodeBadMessage            // malformed, oversized or out-of-place message
	CodeProtocol              // the client speaks another ProtocolVersion
	CodeNoRoom                // the room does not exist (and the join did not create it)
	CodeRoomFull              // no seat of that kind left (spectators, or a seat beyond the room's players)
	CodeSeatTaken             // the player seat is held by a live connection
	CodeRateLimited           // too many rooms or joins from this address in the last minute
	CodeServerFull            // the server holds as many rooms or connections as it may
	CodeExpired               // the room was idle too long and was closed
	CodeShutdown              // the server is stopping
	CodeUnreachable           // client side: no WebSocket to the server could be opened
)

var codeNames = [...]string{
	codeInvalid:     "invalid",
	CodeBadMessage:  "bad-message",
	CodeProtocol:    "protocol",
	CodeNoRoom:      "no-room",
	CodeRoomFull:    "room-full",
	CodeSeatTaken:   "seat-taken",
	CodeRateLimited: "rate-limited",
	CodeServerFull:  "server-full",
	CodeExpired:     "expired",
	CodeShutdown:    "shutdown",
	CodeUnreachable: "unreachable",
}

func (c ErrorCode) String() string {
	if c == codeUnknown {
		return "unknown"
	}
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText writes the code's name.
func (c ErrorCode) MarshalText() ([]byte, error) {
	if c == codeInvalid || int(c) >= len(codeNames) {
		return nil, fmt.Errorf("no error code %d", uint8(c))
	}
	return []byte(codeNames[c]), nil
}

// UnmarshalText reads a code's name. An unknown name (from a newer server) is not an error:
// it becomes codeUnknown, so the server's message still reaches the user.
func (c *ErrorCode) UnmarshalText(b []byte) error {
	for i, n := range codeNames {
		if i != int(codeInvalid) && n == string(b) {
			*c = ErrorCode(i)
			return nil
		}
	}
	*c = codeUnknown
	return nil
}

// codeUnknown is a code this client does not know; the server's message still says why.
const codeUnknown ErrorCode = 255

// Error is a refusal by the server (or CodeUnreachable, by the client). errors.Is matches
// it against the Err* values by code:
//
//	if errors.Is(err, rendezvous.ErrRoomFull) { ... }
type Error struct {
	Code    ErrorCode
	Message string // one line for the user, e.g. "room K7QF2MA is full (4 players, 8 spectators)"
	Err     error  // the cause, for CodeUnreachable
}

func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Err != nil:
		return e.Message + ": " + e.Err.Error()
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Code.String() + ": " + e.Err.Error()
	}
	return e.Code.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The values errors.Is compares against, one per code.
var (
	ErrBadMessage  = &Error{Code: CodeBadMessage}
	ErrProtocol    = &Error{Code: CodeProtocol}
	ErrNoRoom      = &Error{Code: CodeNoRoom}
	ErrRoomFull    = &Error{Code: CodeRoomFull}
	ErrSeatTaken   = &Error{Code: CodeSeatTaken}
	ErrRateLimited = &Error{Code: CodeRateLimited}
	ErrServerFull  = &Error{Code: CodeServerFull}
	ErrExpired     = &Error{Code: CodeExpired}
	ErrShutdown    = &Error{Code: CodeShutdown}
	ErrUnreachable = &Error{Code: CodeUnreachable}
)
