package rendezvous

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Limits bound what one client, one room and the whole server may use. A zero field takes
// its default (DefaultLimits).
type Limits struct {
	Players          int           // player seats per room, 1..MaxSeats
	Spectators       int           // spectators per room
	MessageBytes     int           // the largest message a client may send; a larger one closes its connection
	RoomsPerMinute   int           // rooms one client address may create a minute
	JoinsPerMinute   int           // joins one client address may make a minute
	SignalsPerMinute int           // signals one member may send a minute (a burst of as many, then that rate)
	ConnsPerAddr     int           // connections one client address may hold open at once
	Rooms            int           // rooms the server holds at once
	EmptyRoomTTL     time.Duration // a room nobody is in is removed after this (a restarted lone player finds it meanwhile)
	IdleRoomTTL      time.Duration // a room where nobody joined, left or signalled for this long is closed
	JoinTimeout      time.Duration // a connection must send its join within this
	PingInterval     time.Duration // keep-alive: a ping this often; no pong within it closes the connection
	SendQueue        int           // messages queued for one member; a member that falls this far behind is dropped
}

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	Players:        MaxSeats,
	Spectators:     8,
	MessageBytes:   MaxSignalData + 1024, // a full signal and its envelope
	RoomsPerMinute: 10,
	JoinsPerMinute: 60,
	// A newcomer trickles a dozen candidates or so to each of up to 11 others at once.
	SignalsPerMinute: 600,
	ConnsPerAddr:     32,
	Rooms:            10000,
	EmptyRoomTTL:     2 * time.Minute,
	IdleRoomTTL:      6 * time.Hour,
	JoinTimeout:      10 * time.Second,
	PingInterval:     15 * time.Second,
	SendQueue:        64,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	pickD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	pick(&l.Players, d.Players)
	pick(&l.Spectators, d.Spectators)
	pick(&l.MessageBytes, d.MessageBytes)
	pick(&l.RoomsPerMinute, d.RoomsPerMinute)
	pick(&l.JoinsPerMinute, d.JoinsPerMinute)
	pick(&l.SignalsPerMinute, d.SignalsPerMinute)
	pick(&l.ConnsPerAddr, d.ConnsPerAddr)
	pick(&l.Rooms, d.Rooms)
	pick(&l.SendQueue, d.SendQueue)
	pickD(&l.EmptyRoomTTL, d.EmptyRoomTTL)
	pickD(&l.IdleRoomTTL, d.IdleRoomTTL)
	pickD(&l.JoinTimeout, d.JoinTimeout)
	pickD(&l.PingInterval, d.PingInterval)
	return l
}

func (l Limits) check() error {
	switch {
	case l.Players < 1 || l.Players > MaxSeats:
		return fmt.Errorf("players per room %d: must be 1..%d", l.Players, MaxSeats)
	case l.Spectators < 0, l.MessageBytes < 0, l.RoomsPerMinute < 0, l.JoinsPerMinute < 0, l.SignalsPerMinute < 0, l.ConnsPerAddr < 0, l.Rooms < 0, l.SendQueue < 0:
		return errors.New("negative limit")
	case l.EmptyRoomTTL < 0, l.IdleRoomTTL < 0, l.JoinTimeout < 0, l.PingInterval < 0:
		return errors.New("negative duration limit")
	case l.MessageBytes < 1024:
		return fmt.Errorf("message size limit %d: under 1024 bytes not even a join fits with room to spare", l.MessageBytes)
	}
	return nil
}

// DefaultCredentialTTL is how long TURN credentials handed out in a welcome stay valid. A
// TURN client refreshes its allocation with the same credentials during the match, so they
// must outlast the longest match; a player who rejoins gets new ones.
const DefaultCredentialTTL = 12 * time.Hour

// ServerConfig configures a Server.
type ServerConfig struct {
	// ICE is handed to every member in its welcome. A TURN entry (turn: or turns: URLs)
	// without a Username gets per-member TURN REST credentials under TURNSecret.
	ICE []ICEServer
	// TURNSecret is the secret shared with the TURN servers in ICE (coturn's
	// static-auth-secret, or the embedded relay's).
	TURNSecret string
	// CredentialTTL is how long those credentials last (0: DefaultCredentialTTL).
	CredentialTTL time.Duration
	Limits        Limits
	// Logger gets one line per room event (created, joined, left, expired) and per refused
	// client. Nil: no logging.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now); tests inject one to expire rooms.
	Now func() time.Time
	// ClientAddr says which address a request comes from, for the per-address limits.
	// Nil: the connection's remote address. Behind a reverse proxy, read its header here.
	ClientAddr func(*http.Request) netip.Addr
	// OriginPatterns lists the other origins whose browser pages may connect (see
	// websocket.AcceptOptions); a page from the server's own origin always may.
	OriginPatterns []string
}

// Server pairs peers by room and relays their signals. It is an http.Handler: the WebSocket
// at /ws, "ok" at /healthz, 404 elsewhere (mount it beside other handlers as needed).
type Server struct {
	cfg    ServerConfig
	lim    Limits
	now    func() time.Time
	log    *slog.Logger
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	rooms  map[string]*room
	addrs  map[netip.Addr]*addrState
	conns  map[*conn]struct{}
}

type room struct {
	name       string
	members    []*conn // oldest first
	nextID     int
	lastActive time.Time // last join, leave or signal
	emptySince time.Time // when the last member left; zero while anyone is in
}

// addrState is what one client address has used: open connections and two token buckets.
type addrState struct {
	conns        int
	rooms, joins bucket
}

// bucket is a token bucket refilled at perMinute tokens a minute up to perMinute.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(now time.Time, perMinute int) bool {
	if b.last.IsZero() {
		b.tokens = float64(perMinute)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(perMinute), b.tokens+d.Minutes()*float64(perMinute))
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) full(now time.Time, perMinute int) bool {
	return b.last.IsZero() || b.tokens+now.Sub(b.last).Minutes()*float64(perMinute) >= float64(perMinute)
}

// NewServer checks cfg and starts the server's sweeper (room expiry); Close stops it.
func NewServer(cfg ServerConfig) (*Server, error) {
	lim := cfg.Limits.withDefaults()
	if err := lim.check(); err != nil {
		return nil, fmt.Errorf("rendezvous: %w", err)
	}
	if cfg.CredentialTTL == 0 {
		cfg.CredentialTTL = DefaultCredentialTTL
	}
	if cfg.CredentialTTL < 0 {
		return nil, fmt.Errorf("rendezvous: credential lifetime %v: must be positive", cfg.CredentialTTL)
	}
	for _, ice := range cfg.ICE {
		if len(ice.URLs) == 0 {
			return nil, errors.New("rendezvous: an ICE server without URLs")
		}
		for _, u := range ice.URLs {
			turn, err := CheckICEURL(u)
			if err != nil {
				return nil, fmt.Errorf("rendezvous: %w", err)
			}
			if turn && ice.Username == "" && cfg.TURNSecret == "" {
				return nil, fmt.Errorf("rendezvous: TURN server %s: no credentials and no TURN secret to make them", u)
			}
		}
	}
	s := &Server{
		cfg:   cfg,
		lim:   lim,
		now:   cfg.Now,
		log:   cfg.Logger,
		rooms: map[string]*room{},
		addrs: map[netip.Addr]*addrState{},
		conns: map[*conn]struct{}{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.sweeper()
	return s, nil
}

// Close refuses new connections, tells every member the server is stopping, closes their
// connections and waits for the server's goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.fail(&Error{Code: CodeShutdown, Message: "the rendezvous server is stopping"})
	}
	s.mu.Unlock()
	s.cancel() // the sweeper
	s.wg.Wait()
	return nil
}

// ServeHTTP serves /ws (the rooms' WebSocket) and /healthz (a plain "ok" for monitors).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ws":
		s.serveWS(w, r)
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n") // a client that hung up needs no answer
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) clientAddr(r *http.Request) netip.Addr {
	if s.cfg.ClientAddr != nil {
		return s.cfg.ClientAddr(r)
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{} // all unparsable addresses share one set of limits
	}
	return ap.Addr().Unmap()
}

// conn is one WebSocket: before its join a newcomer, after it a member of a room.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	addr   netip.Addr
	lim    *addrState    // s.addrs[addr], kept while this connection counts in it
	out    chan []byte   // to the writer
	quit   chan struct{} // closed by fail: the writer sends final and closes
	once   sync.Once
	final  []byte // the error message to send last, if any
	status websocket.StatusCode
	abrupt bool // close without a word (drop)

	// Set on join, under s.mu.
	room    *room
	id      string
	seat    Seat
	signals bucket // under s.mu
}

// fail ends the connection: the writer sends e (if not nil) as the last message and closes.
func (c *conn) fail(e *Error) {
	c.once.Do(func() {
		c.status = websocket.StatusNormalClosure
		if e != nil {
			c.status = websocket.StatusPolicyViolation
			if e.Code == CodeShutdown {
				c.status = websocket.StatusGoingAway
			}
			b, err := encode(message{T: MsgError, Code: e.Code, Message: e.Message})
			if err == nil {
				c.final = b
			}
		}
		close(c.quit)
	})
}

// drop ends a connection that no longer reads (no pong, a failed write, a full queue):
// no last message and no closing handshake, which would only wait for it.
func (c *conn) drop() {
	c.once.Do(func() {
		c.abrupt = true
		close(c.quit)
	})
}

// send queues b without blocking; a member too slow to take its messages is dropped rather
// than holding up the room.
func (c *conn) send(b []byte) {
	select {
	case c.out <- b:
	default:
		c.drop()
	}
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	addr := s.clientAddr(r)
	s.mu.Lock()
	closed := s.closed
	a := s.addrs[addr]
	if a == nil {
		a = &addrState{}
		s.addrs[addr] = a
	}
	over := a.conns >= s.lim.ConnsPerAddr
	if !closed && !over {
		a.conns++
	}
	s.mu.Unlock()
	switch {
	case closed:
		http.Error(w, "the rendezvous server is stopping", http.StatusServiceUnavailable)
		return
	case over:
		s.log.Info("refused", "addr", addr, "why", "too many connections from this address")
		http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
		return
	}
	defer func() {
		s.mu.Lock()
		a.conns--
		s.mu.Unlock()
	}()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		return // Accept has answered the request with the reason
	}
	// One byte over the limit reaches us, so an oversized message gets a clear error
	// instead of the library's bare close.
	ws.SetReadLimit(int64(s.lim.MessageBytes) + 1)
	c := &conn{s: s, ws: ws, addr: addr, lim: a, out: make(chan []byte, s.lim.SendQueue), quit: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.CloseNow() // the server stopped while this one was upgrading; nothing to tell
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writer()
	}()
	joinTimer := time.AfterFunc(s.lim.JoinTimeout, func() {
		c.fail(&Error{Code: CodeBadMessage, Message: fmt.Sprintf("no join within %v", s.lim.JoinTimeout)})
	})
	c.reader(joinTimer)
	joinTimer.Stop()
	c.fail(nil) // the client closed: nothing to tell it (a no-op if it failed already)
	<-writerDone
	s.leave(c)
}

// reader reads the connection's messages until it fails or closes.
func (c *conn) reader(joinTimer *time.Timer) {
	s := c.s
	joined := false
	for {
		// Not s.ctx: on Close the reader must outlive the writer's last message.
		typ, rd, err := c.ws.Reader(context.Background())
		if err != nil {
			return // closed, by the client or by fail
		}
		b, err := io.ReadAll(io.LimitReader(rd, int64(s.lim.MessageBytes)+1))
		if err != nil {
			return
		}
		if len(b) > s.lim.MessageBytes {
			c.fail(&Error{Code: CodeBadMessage, Message: fmt.Sprintf("message over %d bytes", s.lim.MessageBytes)})
			return
		}
		if typ != websocket.MessageText {
			c.fail(&Error{Code: CodeBadMessage, Message: "binary message: the server speaks JSON text"})
			return
		}
		m, err := decodeClient(b)
		if err != nil {
			c.fail(&Error{Code: CodeBadMessage, Message: err.Error()})
			return
		}
		switch {
		case !joined && m.T != MsgJoin:
			c.fail(&Error{Code: CodeBadMessage, Message: fmt.Sprintf("%s before join", m.T)})
			return
		case joined && m.T == MsgJoin:
			c.fail(&Error{Code: CodeBadMessage, Message: "a second join on one connection"})
			return
		case m.T == MsgJoin:
			joinTimer.Stop()
			if e := s.join(c, m); e != nil {
				s.log.Info("refused", "addr", c.addr, "room", CanonicalRoom(m.Room), "why", e.Code.String())
				c.fail(e)
				return
			}
			joined = true
		case m.T == MsgSignal:
			if e := s.signal(c, m); e != nil {
				s.log.Info("refused", "addr", c.addr, "room", c.room.name, "id", c.id, "why", e.Code.String())
				c.fail(e)
				return
			}
		}
	}
}

// writer sends queued messages and keep-alive pings until the connection fails, then the
// final error message, then closes.
func (c *conn) writer() {
	s := c.s
	ping := time.NewTicker(s.lim.PingInterval)
	defer ping.Stop()
	pongs := make(chan error, 1)
	pinging := false
	for {
		select {
		case b := <-c.out:
			if err := c.write(b); err != nil {
				c.drop()
			}
		case <-ping.C:
			if pinging {
				continue // the last one is still waiting for its pong
			}
			pinging = true
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), s.lim.PingInterval)
				defer cancel()
				pongs <- c.ws.Ping(ctx)
			}()
		case err := <-pongs:
			pinging = false
			if err != nil {
				c.drop() // no pong: the peer is gone or not reading
			}
		case <-c.quit:
			if c.abrupt {
				_ = c.ws.CloseNow() // the peer is not listening: nothing to tell it
				if pinging {
					<-pongs
				}
				return
			}
			if c.final != nil {
				_ = c.write(c.final) // best effort: the peer may be gone already
			}
			// Close waits (a bounded time) for the client's close frame; the reader returns
			// once the connection is closed either way.
			_ = c.ws.Close(c.status, "")
			if pinging {
				<-pongs
			}
			return
		}
	}
}

func (c *conn) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.s.lim.PingInterval)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("write to %v: %w", c.addr, err)
	}
	return nil
}

// join seats c in the room m asks for and sends the welcome, or says why not.
func (s *Server) join(c *conn, m message) *Error {
	now := s.now()
	if m.V != ProtocolVersion {
		return &Error{Code: CodeProtocol, Message: fmt.Sprintf("protocol version %d, the server speaks %d: use the same p2pa version as the server", m.V, ProtocolVersion)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := c.lim
	if !a.joins.take(now, s.lim.JoinsPerMinute) {
		return &Error{Code: CodeRateLimited, Message: fmt.Sprintf("too many joins from your address (at most %d a minute)", s.lim.JoinsPerMinute)}
	}
	seat := *m.Seat
	name := CanonicalRoom(m.Room)
	if seat.Player() && int(seat) >= s.lim.Players {
		return &Error{Code: CodeRoomFull, Message: fmt.Sprintf("room %s is full: it has %d player seats (0..%d)", name, s.lim.Players, s.lim.Players-1)}
	}
	rm := s.rooms[name]
	if rm == nil {
		if !m.Create {
			return &Error{Code: CodeNoRoom, Message: fmt.Sprintf("room %s does not exist on the server", name)}
		}
		if len(s.rooms) >= s.lim.Rooms {
			return &Error{Code: CodeServerFull, Message: "the server holds as many rooms as it may; try later"}
		}
		if !a.rooms.take(now, s.lim.RoomsPerMinute) {
			return &Error{Code: CodeRateLimited, Message: fmt.Sprintf("too many rooms created from your address (at most %d a minute)", s.lim.RoomsPerMinute)}
		}
		if name == "" {
			var err error
			if name, err = s.freshCode(); err != nil {
				return &Error{Code: CodeServerFull, Message: "no room code could be made: " + err.Error()}
			}
		}
		rm = &room{name: name, nextID: 1, lastActive: now, emptySince: now}
		s.rooms[name] = rm
		s.log.Info("room created", "room", name, "addr", c.addr)
	}
	if seat.Player() {
		for _, o := range rm.members {
			if o.seat == seat {
				return &Error{Code: CodeSeatTaken, Message: fmt.Sprintf("%s's seat in room %s is taken by a connected player", seat, name)}
			}
		}
	} else {
		n := 0
		for _, o := range rm.members {
			if !o.seat.Player() {
				n++
			}
		}
		if n >= s.lim.Spectators {
			return &Error{Code: CodeRoomFull, Message: fmt.Sprintf("room %s is full: it has %d spectators already", name, n)}
		}
	}
	c.room, c.id, c.seat = rm, strconv.Itoa(rm.nextID), seat
	rm.nextID++
	w := message{T: MsgWelcome, V: ProtocolVersion, Room: name, ID: c.id, Seat: &c.seat, ICE: s.iceFor(name, c.id, now)}
	for _, o := range rm.members {
		w.Members = append(w.Members, Member{ID: o.id, Seat: o.seat})
	}
	b, err := encode(w)
	if err != nil {
		return &Error{Code: CodeBadMessage, Message: err.Error()}
	}
	// Logged before anyone is told, so the log is never behind what members see.
	s.log.Info("joined", "room", name, "id", c.id, "seat", seat.String(), "addr", c.addr)
	c.send(b)
	if b, err = encode(message{T: MsgJoined, Member: &Member{ID: c.id, Seat: c.seat}}); err == nil {
		for _, o := range rm.members {
			o.send(b)
		}
	}
	rm.members = append(rm.members, c)
	rm.lastActive, rm.emptySince = now, time.Time{}
	return nil
}

// freshCode makes up an unused room code: 7 characters of Crockford's base32 (35 bits,
// no I, L, O or U to misread), so nobody finds a room by guessing.
func (s *Server) freshCode() (string, error) {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	for range 10 {
		var b [7]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("random room code: %w", err)
		}
		for i := range b {
			b[i] = alphabet[b[i]&31]
		}
		if s.rooms[string(b[:])] == nil {
			return string(b[:]), nil
		}
	}
	return "", errors.New("ten random room codes in a row were taken")
}

// iceFor is cfg.ICE with fresh credentials for this member on the TURN entries that need them.
func (s *Server) iceFor(room, id string, now time.Time) []ICEServer {
	out := make([]ICEServer, 0, len(s.cfg.ICE))
	for _, ice := range s.cfg.ICE {
		ice.URLs = slices.Clone(ice.URLs)
		if ice.Username == "" && s.cfg.TURNSecret != "" && slices.ContainsFunc(ice.URLs, isTURN) {
			ice.Username, ice.Credential = TURNCredentials(s.cfg.TURNSecret, room+"."+id, now.Add(s.cfg.CredentialTTL))
		}
		out = append(out, ice)
	}
	return out
}

func isTURN(u string) bool {
	turn, err := CheckICEURL(u)
	return err == nil && turn
}

// signal relays m to the member it names. A signal to a member that has left is dropped, as
// a datagram to nobody: the sender learns of the departure from the left notice.
func (s *Server) signal(c *conn, m message) *Error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.signals.take(now, s.lim.SignalsPerMinute) {
		return &Error{Code: CodeRateLimited, Message: fmt.Sprintf("too many signals (at most %d a minute)", s.lim.SignalsPerMinute)}
	}
	rm := c.room
	rm.lastActive = now
	for _, o := range rm.members {
		if o.id == m.To && o != c {
			if b, err := encode(message{T: MsgSignal, From: c.id, Data: m.Data}); err == nil {
				o.send(b)
			}
			return nil
		}
	}
	return nil
}

// leave removes c from its room (if it had joined) and tells the others.
func (s *Server) leave(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	rm := c.room
	if rm == nil {
		return
	}
	i := slices.Index(rm.members, c)
	if i < 0 {
		return // the room expired and dropped it already
	}
	rm.members = slices.Delete(rm.members, i, i+1)
	now := s.now()
	rm.lastActive = now
	if len(rm.members) == 0 {
		rm.emptySince = now
	}
	// Logged before anyone is told, so the log is never behind what members see.
	s.log.Info("left", "room", rm.name, "id", c.id, "seat", c.seat.String(), "addr", c.addr)
	if b, err := encode(message{T: MsgLeft, Member: &Member{ID: c.id, Seat: c.seat}}); err == nil {
		for _, o := range rm.members {
			o.send(b)
		}
	}
}

// sweeper expires rooms until Close.
func (s *Server) sweeper() {
	defer s.wg.Done()
	// Often enough that a room outlives its limit by half of it at most.
	t := time.NewTicker(max(min(s.lim.EmptyRoomTTL, s.lim.IdleRoomTTL, time.Minute)/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.sweep()
		case <-s.ctx.Done():
			return
		}
	}
}

// sweep removes rooms empty for EmptyRoomTTL, closes rooms idle for IdleRoomTTL and forgets
// client addresses that have nothing left to limit.
func (s *Server) sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, rm := range s.rooms {
		switch {
		case len(rm.members) == 0 && now.Sub(rm.emptySince) >= s.lim.EmptyRoomTTL:
			delete(s.rooms, name)
			s.log.Info("room expired", "room", name, "why", "empty")
		case len(rm.members) > 0 && now.Sub(rm.lastActive) >= s.lim.IdleRoomTTL:
			s.log.Info("room expired", "room", name, "why", "idle")
			for _, o := range rm.members {
				o.fail(&Error{Code: CodeExpired, Message: fmt.Sprintf("room %s was idle for %v and is closed", name, s.lim.IdleRoomTTL)})
			}
			rm.members = nil
			delete(s.rooms, name)
		}
	}
	for addr, a := range s.addrs {
		if a.conns == 0 && a.rooms.full(now, s.lim.RoomsPerMinute) && a.joins.full(now, s.lim.JoinsPerMinute) {
			delete(s.addrs, addr)
		}
	}
}
