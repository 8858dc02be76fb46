package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"p2pa/lockstep"
	"p2pa/rendezvous"
	"p2pa/transport/rtc"
)

// Playing through a room (-server URL -room CODE). The rendezvous server pairs the members
// of a room and carries their connection offers; every pair of players then opens a link of
// its own (transport/rtc: ICE, straight through the NATs when a hole can be punched, through
// the server's relay when not), and the match runs over those links exactly as over UDP.
//
// Every member addresses a player by its seat, not by its connection: the link of player K
// is rtc.AddrOf("p" + K) on every machine. So a player that crashes and runs its command
// again comes back at the address it had, as a UDP player restarted on its -listen port
// does, and the engine's rejoin works unchanged; a spectator, which nobody addresses first,
// is known by its connection ("s" + its member ID).
//
// Who links to whom: every pair of members but two spectators: a player to the other
// players and to every spectator, a spectator to every player. A spectator is fed by
// player 0, but when player 0 leaves or goes silent it turns to the lowest-numbered player
// still in the match, at the seat address player 0 told it (lockstep/spectator.go): that
// player must be reachable already, since a link takes a second or more to open and the
// spectator gives up on a silent one after -disconnect. A full room (4 players, 8 spectators) is 11 links per player at most,
// within what the server's per-member signal rate and the relay's per-member allocations
// are sized for (rendezvous.DefaultLimits, relay.DefaultUserAllocations).
//
// Who offers: a member that arrives connects to those already there that it links to; the
// others wait for its offer. The server keeps order per connection, so a member's arrival
// is always known before its first signal.

// Room waits and limits.
const (
	// roomDialTimeout bounds one attempt to reach the server and be welcomed.
	roomDialTimeout = 10 * time.Second
	// roomOpenWait is how long a joiner waits for player 0 to open the room (players may
	// start in any order), and a restarted player for its old connection to be noticed
	// gone (its seat is taken until then), before either becomes an error.
	roomOpenWait = 15 * time.Second
	// roomRetry is the pause between those attempts.
	roomRetry = 500 * time.Millisecond
	// roomSignalTimeout bounds one signal's write to the server.
	roomSignalTimeout = 5 * time.Second
)

// LinkNote is news from a Link that the match reports: a line to print (how a player was
// reached), and, when Err is set, why the match cannot go on.
type LinkNote struct {
	Line   string
	Player int    // the player the note is about; -1 for none
	Path   string // "direct" or "relay HOST:PORT" once reached
	Err    error
}

// roomLink is the room's side of a match: the rendezvous client and the links.
type roomLink struct {
	cli    *rendezvous.Client
	conn   *rtc.Conn
	server string
	log    *slog.Logger
	seat   rendezvous.Seat
	relay  string // the TURN server handed out, "" when none
	notes  chan LinkNote
	closed chan struct{}

	mu      sync.Mutex
	members map[string]rendezvous.Member // by rtc ID
	ids     map[string]string            // member ID → rtc ID
	reached map[string]string            // rtc IDs whose link opened at least once → LinkNote.Path last said
	closing bool
}

// rtcID is how every member names member m's link: by seat for a player, by connection for
// a spectator.
func rtcID(m rendezvous.Member) string {
	if m.Seat.Player() {
		return fmt.Sprintf("p%d", int(m.Seat))
	}
	return "s" + m.ID
}

// wants reports whether a member in seat me, arriving, opens a link to one in seat them:
// every pair but two spectators, since any player may come to feed a spectator.
func wants(me, them rendezvous.Seat) bool {
	return me.Player() || them.Player()
}

// JoinRoom meets the others in room o.Room on server o.Server (player 0 opens it; with no
// -room it gets a random code) and returns the Link the match plays over; the match reports
// the link's notes (LinkNote) as they come. Lines about the room go to out.
func JoinRoom(ctx context.Context, o Options, out io.Writer) (Link, error) {
	j, err := JoinSeat(ctx, o, out)
	return j.Link, err
}

// JoinSeat is JoinRoom, saying also the room's code: a browser page that opened a new room
// shows its link.
func JoinSeat(ctx context.Context, o Options, out io.Writer) (Joined, error) {
	link, room, err := joinRoom(ctx, o, out, true)
	if err != nil {
		return Joined{}, err
	}
	return Joined{Link: link, Player: o.Player, Room: room}, nil
}

// Joined is where JoinSeat or JoinFreeSeat seated us.
type Joined struct {
	Link   Link
	Player int    // the seat taken
	Room   string // the room's code, as the server spells it
}

// JoinFreeSeat joins room o.Room in the first free player seat, 1 up to the last the match
// can have (o.Players-1 when -players was given, else lockstep's most), as a browser page
// opened on a room's link does: whoever opens the link takes the next seat. Unlike
// JoinRoom it does not wait on a taken seat (that wait is for a restarted player whose old
// connection still holds its own seat, which a newcomer has not); it tries the next one.
func JoinFreeSeat(ctx context.Context, o Options, out io.Writer) (Joined, error) {
	if o.Room == "" {
		return Joined{}, errors.New("joining a free seat needs a room to join")
	}
	last := lockstep.MaxPlayers - 1
	if o.PlayersSet {
		last = o.Players - 1
	}
	var taken error
	for seat := 1; seat <= last; seat++ {
		o.Player = seat
		link, room, err := joinRoom(ctx, o, out, false)
		if err == nil {
			return Joined{Link: link, Player: seat, Room: room}, nil
		}
		if !errors.Is(err, rendezvous.ErrSeatTaken) {
			return Joined{}, err
		}
		taken = err
	}
	return Joined{}, fmt.Errorf("room %s has no free seat (players 1 to %d are all taken): %w", rendezvous.CanonicalRoom(o.Room), last, taken)
}

// joinRoom is JoinRoom, which also returns the room's code; waitTaken says whether a taken
// seat is waited on (see dialRoom) or an error at once.
func joinRoom(ctx context.Context, o Options, out io.Writer, waitTaken bool) (Link, string, error) {
	seat := rendezvous.Seat(o.Player)
	if o.Spectate != "" {
		seat = rendezvous.Spectator
	}
	req := rendezvous.JoinRequest{Room: o.Room, Create: seat == 0, Seat: seat}
	cli, err := dialRoom(ctx, o, req, out, waitTaken)
	if err != nil {
		return Link{}, "", err
	}
	w := cli.Welcome()
	r := &roomLink{
		cli: cli, server: o.Server, seat: seat, log: slog.New(slog.DiscardHandler),
		notes: make(chan LinkNote, 16), closed: make(chan struct{}),
		members: map[string]rendezvous.Member{}, ids: map[string]string{}, reached: map[string]string{},
	}
	ice := make([]rtc.ICEServer, 0, len(w.ICE))
	for _, s := range w.ICE {
		ice = append(ice, rtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
		for _, u := range s.URLs {
			if r.relay == "" && (strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:")) {
				r.relay = relayHost(u)
			}
		}
	}
	if l := newLogger(o.Verbose); l != nil {
		r.log = l
	}
	self := rendezvous.Member{ID: w.ID, Seat: w.Seat}
	conn, err := rtc.New(rtc.Config{Member: rtcID(self), ICEServers: ice, Signaler: r, OnEvent: r.onLink})
	if err != nil {
		return Link{}, "", errors.Join(fmt.Errorf("room %s: %w", w.Room, err), cli.Close())
	}
	r.conn = conn
	switch seat {
	case 0:
		fmt.Fprintf(out, "p2pa: room %s; the others run: p2pa -p 1 -server %s -room %s\n", w.Room, o.Server, w.Room)
	case rendezvous.Spectator:
		fmt.Fprintf(out, "p2pa: in room %s as a spectator\n", w.Room)
	default:
		fmt.Fprintf(out, "p2pa: in room %s as player %d\n", w.Room, o.Player)
	}
	var first []string
	r.mu.Lock()
	for _, m := range w.Members {
		r.add(m)
		if wants(seat, m.Seat) {
			first = append(first, rtcID(m))
		}
	}
	r.mu.Unlock()
	go r.pump()
	for _, id := range first {
		if err := conn.Connect(id); err != nil {
			return Link{}, "", errors.Join(fmt.Errorf("room %s: connecting to %s: %w", w.Room, id, err), r.Close())
		}
	}
	link := Link{Conn: r, Name: "room " + w.Room, Notes: r.notes}
	if seat != 0 {
		link.Host = rtc.AddrOf("p0")
	}
	return link, w.Room, nil
}

// dialRoom joins the room, waiting up to roomOpenWait while the room is not open yet or
// (waitTaken) our seat is still held by a connection of ours that died.
func dialRoom(ctx context.Context, o Options, req rendezvous.JoinRequest, out io.Writer, waitTaken bool) (*rendezvous.Client, error) {
	name := rendezvous.CanonicalRoom(req.Room) // as the server spells it
	deadline := time.Now().Add(roomOpenWait)
	said := false
	for {
		dctx, cancel := context.WithTimeout(ctx, roomDialTimeout)
		cli, err := rendezvous.Dial(dctx, o.Server, req)
		cancel()
		if err == nil {
			return cli, nil
		}
		waiting := ""
		switch {
		case errors.Is(err, rendezvous.ErrNoRoom):
			waiting = fmt.Sprintf("room %s is not open yet; waiting for player 0 to open it", name)
		case errors.Is(err, rendezvous.ErrSeatTaken) && waitTaken:
			waiting = fmt.Sprintf("player %d's seat in room %s is taken; waiting in case it is our own earlier connection", o.Player, name)
		}
		if waiting == "" || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, roomError(o, name, err)
		}
		if !said {
			fmt.Fprintf(out, "p2pa: %s\n", waiting)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, roomError(o, name, ctx.Err())
		case <-time.After(roomRetry):
		}
	}
}

// roomError says in one line why the room could not be joined, and what to do.
func roomError(o Options, room string, err error) error {
	switch {
	case errors.Is(err, rendezvous.ErrUnreachable):
		return fmt.Errorf("cannot reach the server %s: %w", o.Server, err)
	case errors.Is(err, rendezvous.ErrNoRoom):
		return fmt.Errorf("room %s does not exist on %s (player 0 opens it: p2pa -p 0 -server %s -room %s)", room, o.Server, o.Server, room)
	case errors.Is(err, rendezvous.ErrSeatTaken):
		// Still rendezvous.ErrSeatTaken underneath: JoinFreeSeat moves on to the next seat.
		return &seatTaken{fmt.Sprintf("player %d's seat in room %s is taken by another player: pick another -p", o.Player, room), err}
	case errors.Is(err, rendezvous.ErrRoomFull):
		return fmt.Errorf("room %s is full: %w", room, err)
	case errors.Is(err, rendezvous.ErrProtocol):
		return fmt.Errorf("the server %s speaks another version of p2pa's room protocol: %w", o.Server, err)
	}
	return fmt.Errorf("room %s on %s: %w", room, o.Server, err)
}

// seatTaken is roomError's line for a taken seat, which unwraps to the server's refusal.
type seatTaken struct {
	line string
	err  error
}

func (e *seatTaken) Error() string { return e.line }
func (e *seatTaken) Unwrap() error { return e.err }

// relayHost is the host:port of a turn: URL ("turn:198.51.100.1:3478?transport=udp").
func relayHost(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "turns:"), "turn:")
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return u
}

// add records member m; the caller holds r.mu.
func (r *roomLink) add(m rendezvous.Member) {
	id := rtcID(m)
	r.members[id] = m
	r.ids[m.ID] = id
}

// Signal carries a signal of the links to the member at rtc ID to (rtc.Signaler).
func (r *roomLink) Signal(to, data string) error {
	r.mu.Lock()
	m, ok := r.members[to]
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("no member %s in the room", to)
	}
	ctx, cancel := context.WithTimeout(context.Background(), roomSignalTimeout)
	defer cancel()
	return r.cli.Signal(ctx, m.ID, data)
}

// pump hands the room's events to the links until the connection to the server ends.
func (r *roomLink) pump() {
	for ev := range r.cli.Events() {
		switch ev.Kind {
		case rendezvous.EventJoined:
			r.mu.Lock()
			r.add(ev.Member)
			r.mu.Unlock()
			r.log.Debug("room: joined", "member", ev.Member.ID, "seat", ev.Member.Seat)
		case rendezvous.EventLeft:
			id := rtcID(ev.Member)
			r.mu.Lock()
			// A player's seat may already belong to its restarted process: only forget
			// the link if it is still this member's.
			current := r.members[id].ID == ev.Member.ID
			if current {
				delete(r.members, id)
				delete(r.reached, id)
			}
			delete(r.ids, ev.Member.ID)
			r.mu.Unlock()
			if current {
				r.conn.Forget(id)
			}
			r.log.Debug("room: left", "member", ev.Member.ID, "seat", ev.Member.Seat)
		case rendezvous.EventSignal:
			r.mu.Lock()
			id, ok := r.ids[ev.From]
			r.mu.Unlock()
			if !ok {
				r.log.Debug("room: a signal from nobody we know", "member", ev.From)
				continue
			}
			if err := r.conn.HandleSignal(id, ev.Data); err != nil {
				if errors.Is(err, rtc.ErrSignalVersion) {
					r.note(LinkNote{Player: -1, Line: fmt.Sprintf("p2pa: %s runs another version of p2pa (%v)", seatName(r.members[id].Seat), err)})
				}
				r.log.Debug("room: a signal refused", "from", id, "err", err)
			}
		}
	}
	r.mu.Lock()
	closing := r.closing
	r.mu.Unlock()
	if !closing {
		// The links do not need the server once open: the match goes on.
		r.note(LinkNote{Player: -1, Line: fmt.Sprintf("p2pa: lost the server %s (%v); the match goes on, but nobody can join or rejoin", r.server, r.cli.Err())})
	}
}

// onLink turns the links' events into notes: how each player was reached, again when ICE
// moves an open link between the relay and a direct path (the last line about a player is
// the path its datagrams take now), or that one cannot be.
func (r *roomLink) onLink(e rtc.Event) {
	n := LinkNote{Path: "direct"}
	how := "directly"
	if e.Info.Path == rtc.PathRelayed {
		n.Path = "relay " + e.Info.Relay
		how = "through the relay at " + e.Info.Relay
	}
	r.mu.Lock()
	m, present := r.members[e.Member]
	last, before := r.reached[e.Member]
	if e.State == rtc.LinkOpen {
		r.reached[e.Member] = n.Path
	}
	closing := r.closing
	r.mu.Unlock()
	if closing || !present {
		return
	}
	player := -1
	if m.Seat.Player() {
		player = int(m.Seat)
	}
	switch e.State {
	case rtc.LinkOpen:
		if e.PathChanged && before && last == n.Path {
			// A path not known when the link opened (said "directly") now known to be
			// direct: the line would say the same again.
			return
		}
		n.Player = player
		n.Line = fmt.Sprintf("p2pa: reached %s %s", seatName(m.Seat), how)
		r.note(n)
	case rtc.LinkFailed:
		if before || player < 0 {
			// A path that worked and went away is the engine's business (a player that
			// stopped answering drops, and may rejoin); a spectator is not the match.
			r.log.Debug("room: link failed", "member", e.Member, "err", e.Err)
			return
		}
		why := fmt.Sprintf("no path, not even through the relay at %s", r.relay)
		if r.relay == "" {
			why = "no direct path through the NATs, and the server offers no relay"
		}
		if !errors.Is(e.Err, rtc.ErrNoPath) {
			why = e.Err.Error()
		}
		if r.seat == rendezvous.Spectator && player != 0 {
			// A spectator starts with player 0; another player is only whom it may turn
			// to if its feeder leaves, so watching goes on without this one.
			r.note(LinkNote{Player: player, Line: fmt.Sprintf("p2pa: could not reach player %d: %s; watching goes on, but cannot turn to player %d if the player feeding us leaves", player, why, player)})
			return
		}
		r.note(LinkNote{Player: player, Err: fmt.Errorf("could not reach player %d: %s", player, why)})
	}
}

func seatName(s rendezvous.Seat) string {
	if s.Player() {
		return fmt.Sprintf("player %d", int(s))
	}
	return "a spectator"
}

// note hands n to the match; notes beyond what it has not read yet are dropped but for
// errors, which wait (the match reads notes every tick).
func (r *roomLink) note(n LinkNote) {
	if n.Err != nil {
		select {
		case r.notes <- n:
		case <-r.closed:
		}
		return
	}
	select {
	case r.notes <- n:
	default:
		r.log.Debug("room: a note dropped", "line", n.Line)
	}
}

// The transport.Conn of the match: the links.

func (r *roomLink) LocalAddr() netip.AddrPort                { return r.conn.LocalAddr() }
func (r *roomLink) WriteTo(b []byte, a netip.AddrPort) error { return r.conn.WriteTo(b, a) }
func (r *roomLink) ReadFrom(b []byte) (int, netip.AddrPort, bool) {
	return r.conn.ReadFrom(b)
}
func (r *roomLink) Readable() <-chan struct{} { return r.conn.Readable() }

// Close ends the links (telling the others) and leaves the room.
func (r *roomLink) Close() error {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return nil
	}
	r.closing = true
	r.mu.Unlock()
	close(r.closed)
	return errors.Join(r.conn.Close(), r.cli.Close())
}
