package rendezvous

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// seeds are messages of every type, both directions, for the fuzz targets.
var seeds = []string{
	`{"t":"join","v":1,"room":"K7QF2MA","seat":1}`,
	`{"t":"join","v":1,"create":true,"seat":"spectator"}`,
	`{"t":"signal","to":"2","data":"v=0\r\no=- 1 2 IN IP4 127.0.0.1"}`,
	`{"t":"welcome","v":1,"room":"R","id":"2","seat":1,"members":[{"id":"1","seat":0}],"ice":[{"urls":["turn:h:3478"],"username":"1:u","credential":"c"}]}`,
	`{"t":"joined","member":{"id":"3","seat":"spectator"}}`,
	`{"t":"left","member":{"id":"3","seat":2}}`,
	`{"t":"signal","from":"1","data":"candidate"}`,
	`{"t":"error","code":"room-full","message":"room R is full"}`,
	`{"t":"error","code":"from-the-future","message":"?"}`,
	`{"t":"join","v":1,"room":"a b","seat":0}`,
	`{"t":"join","seat":9}`,
	`[1,2]`, `null`, `{"t":7}`, `{}{}`,
}

// fuzzDecoder checks a decoder never panics, and that what it accepts survives a round trip
// through the encoder unchanged (no field is read one way and written another).
func fuzzDecoder(f *testing.F, decode func([]byte) (message, error)) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			return
		}
		if m.Code == codeUnknown {
			return // an unknown code reads, but is never written
		}
		out, err := encode(m)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode %+v: %v", b, m, err)
		}
		again, err := decode(out)
		if err != nil {
			t.Fatalf("accepted %q but not its re-encoding %q: %v", b, out, err)
		}
		if d := cmp.Diff(m, again, cmpopts.EquateEmpty()); d != "" { // [] and absent read alike
			t.Fatalf("%q changed through a round trip (-first +second):\n%s", b, d)
		}
	})
}

func FuzzDecodeClient(f *testing.F) { fuzzDecoder(f, decodeClient) }
func FuzzDecodeServer(f *testing.F) { fuzzDecoder(f, decodeServer) }

func FuzzSeat(f *testing.F) {
	for _, s := range []string{`0`, `3`, `"spectator"`, `-1`, `4`, `1.0`, `"0"`, `00`, `+1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Seat
		if err := json.Unmarshal(b, &s); err != nil {
			return
		}
		if !s.valid() {
			t.Fatalf("%q read as seat %d", b, s)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var again Seat
		if err := json.Unmarshal(out, &again); err != nil || again != s {
			t.Fatalf("%q: %d, then %q: %d, %v", b, s, out, again, err)
		}
	})
}

func FuzzCheckICEURL(f *testing.F) {
	for _, s := range []string{"stun:h", "turn:[::1]:3478?transport=tcp", "turns:h:5349", "x:y", "stun:", "turn:h?transport=sctp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		turn, err := CheckICEURL(s)
		if err == nil && turn != (strings.HasPrefix(s, "turn:") || strings.HasPrefix(s, "turns:")) {
			t.Fatalf("%q: turn=%v", s, turn)
		}
	})
}

func FuzzWebSocketURL(f *testing.F) {
	for _, s := range []string{"ws://h:1/ws", "http://h:8080", "https://h/", "h:1", "ftp://h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := WebSocketURL(s)
		if err != nil {
			return
		}
		if again, err := WebSocketURL(u); err != nil || again != u {
			t.Fatalf("%q → %q → %q, %v", s, u, again, err)
		}
	})
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{MsgJoin.String(), "join"}, {MsgError.String(), "error"}, {MsgType(42).String(), "MsgType(42)"},
		{CodeSeatTaken.String(), "seat-taken"}, {CodeUnreachable.String(), "unreachable"}, {codeUnknown.String(), "unknown"},
		{ErrorCode(99).String(), "ErrorCode(99)"},
		{EventJoined.String(), "joined"}, {EventSignal.String(), "signal"}, {EventKind(9).String(), "EventKind(9)"},
		{Seat(2).String(), "player 2"}, {Spectator.String(), "spectator"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for c := CodeBadMessage; c <= CodeUnreachable; c++ {
		b, err := c.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back ErrorCode
		if err := back.UnmarshalText(b); err != nil || back != c {
			t.Errorf("%v: %q read back as %v, %v", c, b, back, err)
		}
	}
	if _, err := MsgType(0).MarshalText(); err == nil {
		t.Error("the invalid message type was written")
	}
}

func TestCheckICEURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		turn bool
		ok   bool
	}{
		{"stun:stun.l.google.com:19302", false, true},
		{"stun:198.51.100.1", false, true},
		{"stuns:h:5349", false, true},
		{"turn:198.51.100.1:3478?transport=udp", true, true},
		{"turn:[2001:db8::1]:3478", true, true},
		{"turns:relay.example.org:443?transport=tcp", true, true},
		{"turn:h:3478?transport=sctp", true, false},
		{"stun:h?transport=udp", false, false},
		{"http://h", false, false},
		{"stun:", false, false},
		{"stun:h:0", false, false},
		{"stun:h:99999", false, false},
		{"turn:user@h", true, false},
		{"stun.example.org", false, false},
	} {
		turn, err := CheckICEURL(tc.url)
		if (err == nil) != tc.ok || (tc.ok && turn != tc.turn) {
			t.Errorf("%q: turn=%v err=%v, want turn=%v ok=%v", tc.url, turn, err, tc.turn, tc.ok)
		}
	}
}

func TestWebSocketURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ws://h:8080/ws", "ws://h:8080/ws"},
		{"http://h:8080", "ws://h:8080/ws"},
		{"https://rooms.example.org/", "wss://rooms.example.org/ws"},
		{"wss://h/p2pa/ws", "wss://h/p2pa/ws"},
		{"h:8080", ""},
		{"ws://", ""},
	} {
		got, err := WebSocketURL(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckRoomName(t *testing.T) {
	for name, ok := range map[string]bool{
		"K7QF2MA": true, "alice-bob_2.0": true, strings.Repeat("a", MaxRoomName): true,
		"": false, "a b": false, "é": false, "a/b": false, strings.Repeat("a", MaxRoomName+1): false,
	} {
		if err := CheckRoomName(name); (err == nil) != ok {
			t.Errorf("%q: %v", name, err)
		}
	}
}

// TestTURNCredentials pins the TURN REST scheme against a value computed by hand:
// base64(HMAC-SHA1("secret", "1800000000:R.1")).
func TestTURNCredentials(t *testing.T) {
	user, pass := TURNCredentials("secret", "R.1", time.Unix(1800000000, 0))
	if user != "1800000000:R.1" {
		t.Errorf("username %q", user)
	}
	if pass != "00zCY/qX/FJxsKA4Ip76aoc1LiU=" {
		t.Errorf("password %q", pass)
	}
}
