package rendezvous

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// wait bounds every wait for something the server must do: generous, since a test only
// fails on it when the thing never happens.
const wait = 20 * time.Second

// clock is a settable time for Limits' per-minute buckets and room expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuf collects the server's log lines.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

type testServer struct {
	*Server
	url   string
	clock *clock
	log   *logBuf
}

// addrHeader lets a test connection pretend to come from another address (ClientAddr).
const addrHeader = "X-Test-Addr"

func newTestServer(t *testing.T, cfg ServerConfig) *testServer {
	t.Helper()
	ts := &testServer{clock: &clock{t: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}, log: &logBuf{}}
	if cfg.Now == nil {
		cfg.Now = ts.clock.Now
	}
	cfg.Logger = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // lines comparable across runs
			}
			return a
		},
	}))
	cfg.ClientAddr = func(r *http.Request) netip.Addr {
		if a, err := netip.ParseAddr(r.Header.Get(addrHeader)); err == nil {
			return a
		}
		return netip.MustParseAddr("192.0.2.1")
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		hs.Close()
	})
	ts.Server, ts.url = s, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws"
	return ts
}

func join(t *testing.T, url string, req JoinRequest) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, err := Dial(ctx, url, req)
	if err != nil {
		t.Fatalf("join %+v: %v", req, err)
	}
	t.Cleanup(func() { _ = c.Close() }) // a test that closed it already checked the error
	return c
}

func joinErr(t *testing.T, url string, req JoinRequest) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, err := Dial(ctx, url, req)
	if err == nil {
		_ = c.Close()
		t.Fatalf("join %+v: welcomed as %+v", req, c.Welcome())
	}
	return err
}

func next(t *testing.T, c *Client) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("events closed: %v", c.Err())
		}
		return ev
	case <-time.After(wait):
		t.Fatalf("no event within %v", wait)
	}
	return Event{}
}

// rawDial opens a WebSocket without the client, to send what a client never would.
func rawDial(t *testing.T, url string, from string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	h := http.Header{}
	if from != "" {
		h.Set(addrHeader, from)
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws
}

// readRaw reads the server's next message, or fails the test.
func readRaw(t *testing.T, ws *websocket.Conn) message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	m, err := readServer(ctx, ws)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

// closed reports whether the server closes ws (rather than sending anything more).
func expectClosed(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	typ, b, err := ws.Read(ctx)
	if err == nil {
		t.Fatalf("after the error the server sent %v %q", typ, b)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the server did not close the connection")
	}
}

func TestRoomRoundTrip(t *testing.T) {
	ts := newTestServer(t, ServerConfig{
		ICE:        []ICEServer{{URLs: []string{"stun:stun.example.org"}}, {URLs: []string{"turn:turn.example.org:3478?transport=udp"}}},
		TURNSecret: "s3cret",
	})
	p0 := join(t, ts.url, JoinRequest{Create: true, Seat: 0})
	w0 := p0.Welcome()
	if len(w0.Room) != 7 || CheckRoomName(w0.Room) != nil {
		t.Errorf("room code %q: want 7 base32 characters", w0.Room)
	}
	exp := ts.clock.Now().Add(DefaultCredentialTTL)
	user, pass := TURNCredentials("s3cret", w0.Room+".1", exp)
	want := Welcome{Protocol: ProtocolVersion, Room: w0.Room, ID: "1", Seat: 0, ICE: []ICEServer{
		{URLs: []string{"stun:stun.example.org"}},
		{URLs: []string{"turn:turn.example.org:3478?transport=udp"}, Username: user, Credential: pass},
	}}
	if d := cmp.Diff(want, w0); d != "" {
		t.Errorf("player 0's welcome (-want +got):\n%s", d)
	}

	// A code typed in lower case finds the room.
	p1 := join(t, ts.url, JoinRequest{Room: strings.ToLower(w0.Room), Seat: 1})
	if d := cmp.Diff([]Member{{ID: "1", Seat: 0}}, p1.Welcome().Members); d != "" {
		t.Errorf("player 1's welcome members (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Event{Kind: EventJoined, Member: Member{ID: "2", Seat: 1}}, next(t, p0)); d != "" {
		t.Errorf("player 0's event (-want +got):\n%s", d)
	}

	ctx := t.Context()
	offer := strings.Repeat("v=0 offer ", 1000)
	if err := p1.Signal(ctx, "1", offer); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Event{Kind: EventSignal, From: "2", Data: offer}, next(t, p0)); d != "" {
		t.Errorf("player 0 got (-want +got):\n%s", d)
	}
	if err := p0.Signal(ctx, "2", "answer"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Event{Kind: EventSignal, From: "1", Data: "answer"}, next(t, p1)); d != "" {
		t.Errorf("player 1 got (-want +got):\n%s", d)
	}
	// A signal to nobody is dropped; a signal over the limit never leaves.
	if err := p0.Signal(ctx, "99", "x"); err != nil {
		t.Fatal(err)
	}
	if err := p0.Signal(ctx, "2", strings.Repeat("x", MaxSignalData+1)); err == nil {
		t.Error("an oversized signal was sent")
	}

	// A late spectator sees both players; both see it.
	sp := join(t, ts.url, JoinRequest{Room: w0.Room, Seat: Spectator})
	if d := cmp.Diff([]Member{{ID: "1", Seat: 0}, {ID: "2", Seat: 1}}, sp.Welcome().Members); d != "" {
		t.Errorf("spectator's welcome members (-want +got):\n%s", d)
	}
	for _, c := range []*Client{p0, p1} {
		if d := cmp.Diff(Event{Kind: EventJoined, Member: Member{ID: "3", Seat: Spectator}}, next(t, c)); d != "" {
			t.Errorf("event (-want +got):\n%s", d)
		}
	}

	if err := p1.Close(); err != nil {
		t.Fatal(err)
	}
	if p1.Err() != nil {
		t.Errorf("after Close: %v", p1.Err())
	}
	for _, c := range []*Client{p0, sp} {
		if d := cmp.Diff(Event{Kind: EventLeft, Member: Member{ID: "2", Seat: 1}}, next(t, c)); d != "" {
			t.Errorf("event (-want +got):\n%s", d)
		}
	}
	wantLog := []string{
		`level=INFO msg="room created" room=` + w0.Room + ` addr=192.0.2.1`,
		`level=INFO msg=joined room=` + w0.Room + ` id=1 seat="player 0" addr=192.0.2.1`,
		`level=INFO msg=joined room=` + w0.Room + ` id=2 seat="player 1" addr=192.0.2.1`,
		`level=INFO msg=joined room=` + w0.Room + ` id=3 seat=spectator addr=192.0.2.1`,
		`level=INFO msg=left room=` + w0.Room + ` id=2 seat="player 1" addr=192.0.2.1`,
	}
	if d := cmp.Diff(wantLog, ts.log.lines()); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}

func TestJoinRefused(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{Players: 2, Spectators: 1}})
	join(t, ts.url, JoinRequest{Room: "match-1", Create: true, Seat: 0})
	join(t, ts.url, JoinRequest{Room: "match-1", Seat: Spectator})
	for _, tc := range []struct {
		name string
		req  JoinRequest
		want *Error
		text string
	}{
		{"no room", JoinRequest{Room: "nope", Seat: 1}, ErrNoRoom, "room NOPE does not exist"},
		{"seat taken", JoinRequest{Room: "match-1", Seat: 0}, ErrSeatTaken, "player 0's seat in room MATCH-1 is taken"},
		// Claiming an existing room joins it, so a restarted player 0 comes back.
		{"seat taken, claiming", JoinRequest{Room: "match-1", Create: true, Seat: 0}, ErrSeatTaken, "taken"},
		{"no such seat", JoinRequest{Room: "match-1", Seat: 2}, ErrRoomFull, "room MATCH-1 is full: it has 2 player seats"},
		{"spectators full", JoinRequest{Room: "match-1", Seat: Spectator}, ErrRoomFull, "1 spectators already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := joinErr(t, ts.url, tc.req)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v, want %v saying %q", err, tc.want.Code, tc.text)
			}
		})
	}
}

func TestBadMessages(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{MessageBytes: 2048}})
	okJoin := `{"t":"join","v":1,"room":"r","create":true,"seat":"spectator"}`
	for i, tc := range []struct {
		name   string
		joined bool // send okJoin first
		send   string
		binary bool
		code   ErrorCode
		text   string
	}{
		{"not JSON", false, "hello", false, CodeBadMessage, "bad message"},
		{"two values", false, okJoin + okJoin, false, CodeBadMessage, "more than one"},
		{"no type", false, `{"v":1}`, false, CodeBadMessage, `no "t"`},
		{"unknown type", false, `{"t":"hug"}`, false, CodeBadMessage, "unknown message type"},
		{"server's type", false, `{"t":"welcome"}`, false, CodeBadMessage, "a client does not send"},
		{"signal before join", false, `{"t":"signal","to":"1","data":"x"}`, false, CodeBadMessage, "signal before join"},
		{"no version", false, `{"t":"join","room":"r","seat":0}`, false, CodeBadMessage, "protocol version"},
		{"other version", false, `{"t":"join","v":99,"room":"r","seat":0}`, false, CodeProtocol, "protocol version 99, the server speaks 1"},
		{"no seat", false, `{"t":"join","v":1,"room":"r"}`, false, CodeBadMessage, "seat"},
		{"bad seat", false, `{"t":"join","v":1,"room":"r","seat":4}`, false, CodeBadMessage, "seat 4"},
		{"bad seat type", false, `{"t":"join","v":1,"room":"r","seat":"judge"}`, false, CodeBadMessage, "seat"},
		{"bad room name", false, `{"t":"join","v":1,"room":"a b","seat":0}`, false, CodeBadMessage, "room name"},
		{"no room", false, `{"t":"join","v":1,"seat":0}`, false, CodeBadMessage, "names no room"},
		{"binary", false, okJoin, true, CodeBadMessage, "binary"},
		{"oversized", false, `{"t":"join","v":1,"room":"` + strings.Repeat("a", 4096) + `","seat":0}`, false, CodeBadMessage, "over 2048 bytes"},
		{"second join", true, okJoin, false, CodeBadMessage, "second join"},
		{"signal without target", true, `{"t":"signal","data":"x"}`, false, CodeBadMessage, "names no member"},
		{"oversized after join", true, strings.Repeat(" ", 3000), false, CodeBadMessage, "over 2048 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := rawDial(t, ts.url, "")
			ctx := t.Context()
			if tc.joined {
				// A room of its own: a member of an earlier case that the server is still
				// closing would otherwise be announced as leaving, before the error.
				own := strings.Replace(okJoin, `"room":"r"`, fmt.Sprintf(`"room":"r%d"`, i), 1)
				if err := ws.Write(ctx, websocket.MessageText, []byte(own)); err != nil {
					t.Fatal(err)
				}
				if m := readRaw(t, ws); m.T != MsgWelcome {
					t.Fatalf("got %+v, want a welcome", m)
				}
			}
			typ := websocket.MessageText
			if tc.binary {
				typ = websocket.MessageBinary
			}
			if err := ws.Write(ctx, typ, []byte(tc.send)); err != nil {
				t.Fatal(err)
			}
			m := readRaw(t, ws)
			if m.T != MsgError || m.Code != tc.code || !strings.Contains(m.Message, tc.text) {
				t.Errorf("got %+v, want a %v error saying %q", m, tc.code, tc.text)
			}
			expectClosed(t, ws)
		})
	}
}

// TestMalformedClientsLeaveOthersAlone floods the server with junk and oversized messages
// from one address while two players in another room keep signalling.
func TestMalformedClientsLeaveOthersAlone(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{ConnsPerAddr: 100}})
	p0 := join(t, ts.url, JoinRequest{Room: "calm", Create: true, Seat: 0})
	p1 := join(t, ts.url, JoinRequest{Room: "calm", Seat: 1})
	next(t, p0) // p1 joined
	junk := []string{"{", `{"t":"join","v":1,"room":"r","seat":0}` + strings.Repeat(" ", 40000), "\x00\xff", `{"t":"signal","to":"1","data":"in the calm room?"}`}
	for i := range 40 {
		ws := rawDial(t, ts.url, "203.0.113.9")
		if err := ws.Write(t.Context(), websocket.MessageText, []byte(junk[i%len(junk)])); err != nil {
			t.Fatal(err)
		}
		if m := readRaw(t, ws); m.T != MsgError {
			t.Fatalf("junk %d: got %+v, want an error", i, m)
		}
		expectClosed(t, ws)
		if err := p1.Signal(t.Context(), "1", "still here"); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(Event{Kind: EventSignal, From: "2", Data: "still here"}, next(t, p0)); d != "" {
			t.Fatalf("after junk %d (-want +got):\n%s", i, d)
		}
	}
	if p0.Err() != nil || p1.Err() != nil {
		t.Errorf("players' connections ended: %v, %v", p0.Err(), p1.Err())
	}
}

// TestSeatFreedByDisconnect: a player whose connection closed (a crash, a restart) leaves
// its seat free for the next process to take.
func TestSeatFreedByDisconnect(t *testing.T) {
	ts := newTestServer(t, ServerConfig{})
	p0 := join(t, ts.url, JoinRequest{Room: "r", Create: true, Seat: 0})
	p1 := join(t, ts.url, JoinRequest{Room: "r", Seat: 1})
	next(t, p0)
	if err := joinErr(t, ts.url, JoinRequest{Room: "r", Seat: 1}); !errors.Is(err, ErrSeatTaken) {
		t.Fatalf("second player 1: %v, want seat taken", err)
	}
	// Dropped without a goodbye, as a killed process's connection is.
	if err := p1.ws.CloseNow(); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, p0); ev.Kind != EventLeft || ev.Member.ID != "2" {
		t.Fatalf("got %+v, want player 1 left", ev)
	}
	again := join(t, ts.url, JoinRequest{Room: "r", Seat: 1})
	if w := again.Welcome(); w.ID != "3" || w.Seat != 1 {
		t.Errorf("rejoined as %+v, want a new id in seat 1", w)
	}
	if ev := next(t, p0); ev.Kind != EventJoined || ev.Member != (Member{ID: "3", Seat: 1}) {
		t.Errorf("got %+v, want the new player 1", ev)
	}
}

func TestRateLimits(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{RoomsPerMinute: 3, JoinsPerMinute: 5, Spectators: 50}})
	req := func(from string, r JoinRequest) error {
		ws := rawDial(t, ts.url, from)
		seat := r.Seat
		b, err := encode(message{T: MsgJoin, V: ProtocolVersion, Room: r.Room, Create: r.Create, Seat: &seat})
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.Write(t.Context(), websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		m := readRaw(t, ws)
		if m.T == MsgError {
			return &Error{Code: m.Code, Message: m.Message}
		}
		return nil
	}
	// Rooms: 3 a minute from one address, whoever else creates them.
	for i := range 3 {
		if err := req("198.51.100.1", JoinRequest{Create: true, Seat: 0}); err != nil {
			t.Fatalf("room %d: %v", i, err)
		}
	}
	if err := req("198.51.100.1", JoinRequest{Create: true, Seat: 0}); !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "rooms") {
		t.Errorf("fourth room: %v, want rate limited", err)
	}
	if err := req("198.51.100.2", JoinRequest{Room: "other", Create: true, Seat: 0}); err != nil {
		t.Errorf("another address: %v", err)
	}
	// Joins: 5 a minute (the 4 above count).
	if err := req("198.51.100.1", JoinRequest{Room: "other", Seat: Spectator}); err != nil {
		t.Errorf("fifth join: %v", err)
	}
	if err := req("198.51.100.1", JoinRequest{Room: "other", Seat: Spectator}); !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "joins") {
		t.Errorf("sixth join: %v, want rate limited", err)
	}
	// A minute later the buckets are full again.
	ts.clock.Add(time.Minute)
	if err := req("198.51.100.1", JoinRequest{Room: "other", Seat: Spectator}); err != nil {
		t.Errorf("a minute later: %v", err)
	}
}

// TestSignalFlood: a member that signals faster than the limit is closed; the member it
// flooded stays.
func TestSignalFlood(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{SignalsPerMinute: 10}})
	p0 := join(t, ts.url, JoinRequest{Room: "r", Create: true, Seat: 0})
	p1 := join(t, ts.url, JoinRequest{Room: "r", Seat: 1})
	next(t, p0)
	for i := range 11 {
		if err := p1.Signal(t.Context(), "1", "candidate"); err != nil {
			t.Fatalf("signal %d: %v", i, err)
		}
	}
	<-p1.Done()
	if !errors.Is(p1.Err(), ErrRateLimited) {
		t.Errorf("flooder: %v, want rate limited", p1.Err())
	}
	for i := range 10 {
		if ev := next(t, p0); ev.Kind != EventSignal {
			t.Fatalf("event %d: %+v, want a signal", i, ev)
		}
	}
	if ev := next(t, p0); ev.Kind != EventLeft {
		t.Errorf("got %+v, want the flooder to leave", ev)
	}
	if p0.Err() != nil {
		t.Errorf("flooded member: %v", p0.Err())
	}
}

// TestConnectionsPerAddress: one address holding many open connections is refused more
// before the upgrade, and others are not.
func TestConnectionsPerAddress(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{ConnsPerAddr: 3}})
	for range 3 {
		rawDial(t, ts.url, "198.51.100.7")
	}
	h := http.Header{}
	h.Set(addrHeader, "198.51.100.7")
	_, resp, err := websocket.Dial(t.Context(), ts.url, &websocket.DialOptions{HTTPHeader: h})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("fourth connection: %v, %v, want HTTP 429", err, resp)
	}
	if err := dialError(ts.url, resp, err); !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "too many connections") {
		t.Errorf("the client says %v", err)
	}
	join(t, ts.url, JoinRequest{Create: true, Seat: 0})
}

// TestKeepAlive: a connection that stops answering the server's pings (a vanished
// machine) is dropped and its seat freed, however long the match runs.
func TestKeepAlive(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{PingInterval: 20 * time.Millisecond}})
	ws := rawDial(t, ts.url, "")
	if err := ws.Write(t.Context(), websocket.MessageText, []byte(`{"t":"join","v":1,"room":"r","create":true,"seat":0}`)); err != nil {
		t.Fatal(err)
	}
	if m := readRaw(t, ws); m.T != MsgWelcome {
		t.Fatalf("got %+v", m)
	}
	// Not reading any more, it answers no ping.
	waitFor(t, func() bool { return ts.members("R") == 0 })
	join(t, ts.url, JoinRequest{Room: "r", Seat: 0})
}

// TestNoSeatNoRoom: a join refused for its seat creates no room.
func TestNoSeatNoRoom(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{Players: 2}})
	if err := joinErr(t, ts.url, JoinRequest{Room: "r", Create: true, Seat: 3}); !errors.Is(err, ErrRoomFull) {
		t.Errorf("seat 3 of 2: %v", err)
	}
	if n := ts.members("R"); n != -1 {
		t.Errorf("a room was made: %d members", n)
	}
}

func TestRoomExpiry(t *testing.T) {
	lim := Limits{EmptyRoomTTL: 2 * time.Minute, IdleRoomTTL: time.Hour}
	ts := newTestServer(t, ServerConfig{Limits: lim})

	// An empty room stays for EmptyRoomTTL, so a restarted lone player finds it.
	p0 := join(t, ts.url, JoinRequest{Room: "lonely", Create: true, Seat: 0})
	if err := p0.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.members("LONELY") == 0 })
	ts.clock.Add(lim.EmptyRoomTTL - time.Second)
	ts.sweep()
	p0 = join(t, ts.url, JoinRequest{Room: "lonely", Seat: 0})
	if err := p0.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.members("LONELY") == 0 })
	ts.clock.Add(lim.EmptyRoomTTL)
	ts.sweep()
	if err := joinErr(t, ts.url, JoinRequest{Room: "lonely", Seat: 0}); !errors.Is(err, ErrNoRoom) {
		t.Errorf("after expiry: %v, want no room", err)
	}

	// A room where nothing happens for IdleRoomTTL is closed, its members told.
	a := join(t, ts.url, JoinRequest{Room: "idle", Create: true, Seat: 0})
	b := join(t, ts.url, JoinRequest{Room: "idle", Seat: 1})
	next(t, a)
	busy := join(t, ts.url, JoinRequest{Room: "busy", Create: true, Seat: 0})
	ts.clock.Add(lim.IdleRoomTTL / 2)
	if err := busy.Signal(t.Context(), "1", "keeps the room busy"); err != nil { // to itself: dropped, but activity
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.lastActive("BUSY").Equal(ts.clock.Now()) })
	ts.clock.Add(lim.IdleRoomTTL / 2)
	ts.sweep()
	for _, c := range []*Client{a, b} {
		select {
		case <-c.Done():
		case <-time.After(wait):
			t.Fatal("an idle room's member is still connected")
		}
		if !errors.Is(c.Err(), ErrExpired) {
			t.Errorf("idle room's member: %v, want expired", c.Err())
		}
	}
	if busy.Err() != nil {
		t.Errorf("busy room: %v", busy.Err())
	}
	var expired []string
	for _, l := range ts.log.lines() {
		if strings.Contains(l, "expired") {
			expired = append(expired, l)
		}
	}
	want := []string{`level=INFO msg="room expired" room=LONELY why=empty`, `level=INFO msg="room expired" room=IDLE why=idle`}
	if d := cmp.Diff(want, expired); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}

func (s *Server) members(room string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rm := s.rooms[room]; rm != nil {
		return len(rm.members)
	}
	return -1
}

func (s *Server) lastActive(room string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rm := s.rooms[room]; rm != nil {
		return rm.lastActive
	}
	return time.Time{}
}

// waitFor polls cond until it holds (the server acts on another goroutine).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestServerClose(t *testing.T) {
	ts := newTestServer(t, ServerConfig{})
	c := join(t, ts.url, JoinRequest{Create: true, Seat: 0})
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrShutdown) {
		t.Errorf("got %v, want shutdown", c.Err())
	}
	if err := joinErr(t, ts.url, JoinRequest{Create: true, Seat: 0}); !errors.Is(err, ErrShutdown) || !strings.Contains(err.Error(), "is stopping") {
		t.Errorf("after Close: %v, want shutdown", err)
	}
}

func TestDialErrors(t *testing.T) {
	// A port nobody listens on: take one, then free it.
	hs := httptest.NewServer(http.NotFoundHandler())
	notFound := hs.URL
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	t.Cleanup(hs.Close)
	for _, tc := range []struct {
		url  string
		want error
		text string
	}{
		{closed.URL, ErrUnreachable, "cannot reach the rendezvous server at ws://"},
		{notFound, ErrUnreachable, "answered HTTP 404, not a p2pa rendezvous"},
	} {
		err := joinErr(t, tc.url, JoinRequest{Create: true, Seat: 0})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.text)
		}
	}
	for _, bad := range []string{"ftp://x", "ws://", "::"} {
		if _, err := Dial(t.Context(), bad, JoinRequest{Create: true}); err == nil {
			t.Errorf("Dial %q: no error", bad)
		}
	}
	if _, err := Dial(t.Context(), "ws://127.0.0.1:1", JoinRequest{Seat: 0}); err == nil || !strings.Contains(err.Error(), "no room") {
		t.Errorf("no room: %v", err)
	}
}

func TestHealthz(t *testing.T) {
	ts := newTestServer(t, ServerConfig{})
	resp, err := http.Get(strings.Replace(strings.TrimSuffix(ts.url, "/ws"), "ws", "http", 1) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %v", resp.Status)
	}
}

// TestJoinTimeout: a connection that never joins is told why and closed.
func TestJoinTimeout(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{JoinTimeout: 10 * time.Millisecond}})
	ws := rawDial(t, ts.url, "")
	if m := readRaw(t, ws); m.T != MsgError || m.Code != CodeBadMessage || !strings.Contains(m.Message, "no join within 10ms") {
		t.Errorf("got %+v", m)
	}
	expectClosed(t, ws)
}

// TestSlowMemberDropped: a member that stops reading is dropped once its queue is full;
// the member signalling it is not held up.
func TestSlowMemberDropped(t *testing.T) {
	ts := newTestServer(t, ServerConfig{Limits: Limits{SendQueue: 2, SignalsPerMinute: 1 << 30}})
	p0 := join(t, ts.url, JoinRequest{Room: "r", Create: true, Seat: 0})
	ws := rawDial(t, ts.url, "")
	if err := ws.Write(t.Context(), websocket.MessageText, []byte(`{"t":"join","v":1,"room":"r","seat":1}`)); err != nil {
		t.Fatal(err)
	}
	if m := readRaw(t, ws); m.T != MsgWelcome {
		t.Fatalf("got %+v", m)
	}
	if ev := next(t, p0); ev.Kind != EventJoined {
		t.Fatalf("got %+v", ev)
	}
	// Player 1 reads nothing more: the socket buffers fill, then its queue, then it goes.
	data := strings.Repeat("c", MaxSignalData)
	deadline := time.Now().Add(wait)
	for {
		if err := p0.Signal(t.Context(), "2", data); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-p0.Events():
			if ev.Kind != EventLeft || ev.Member.ID != "2" {
				t.Fatalf("got %+v, want player 1 to leave", ev)
			}
			if p0.Err() != nil {
				t.Errorf("the sender's connection ended: %v", p0.Err())
			}
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the member that reads nothing was never dropped")
		}
	}
}
