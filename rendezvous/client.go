package rendezvous

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// EventKind says what an Event reports.
type EventKind uint8

const (
	EventJoined EventKind = iota + 1 // Member arrived
	EventLeft                        // Member's connection closed; its seat is free again
	EventSignal                      // From sent Data
)

func (k EventKind) String() string {
	switch k {
	case EventJoined:
		return "joined"
	case EventLeft:
		return "left"
	case EventSignal:
		return "signal"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is something that happened in the room after the welcome.
type Event struct {
	Kind   EventKind
	Member Member // EventJoined, EventLeft: who
	From   string // EventSignal: the sender's member ID
	Data   string // EventSignal: what it sent, as it sent it
}

// eventQueue is how many events wait for the reader of Events before the client stops
// reading the server (and so, eventually, the server drops it as too slow).
const eventQueue = 256

// clientReadLimit bounds one message from the server: a welcome with a dozen members and
// ICE servers, or a signal at MaxSignalData, fits many times.
const clientReadLimit = 256 << 10

// Client is a member of a room: it receives the room's events and signals other members.
// It works the same natively and in js/wasm (the browser's WebSocket).
type Client struct {
	ws      *websocket.Conn
	url     string
	welcome Welcome
	events  chan Event
	done    chan struct{} // closed when the connection has ended and err is set
	err     error
	stop    context.CancelFunc
	once    sync.Once
	closing atomic.Bool // Close was called: the connection's end is no error
}

// Dial connects to the rendezvous server at url (ws://HOST:PORT/ws; http:// and a bare
// host:port URL work too, see WebSocketURL), joins as req asks and returns after the
// welcome. A refusal is an *Error: errors.Is(err, ErrNoRoom), ErrRoomFull, ErrSeatTaken,
// ErrProtocol, ErrRateLimited...; a server that cannot be reached is ErrUnreachable. ctx
// bounds the dial and the wait for the welcome, not the Client's life.
func Dial(ctx context.Context, url string, req JoinRequest) (*Client, error) {
	u, err := WebSocketURL(url)
	if err != nil {
		return nil, err
	}
	if !req.Seat.valid() {
		return nil, fmt.Errorf("join %s: no seat %d", u, int(req.Seat))
	}
	if req.Room != "" {
		if err := checkRoomName(req.Room); err != nil {
			return nil, err
		}
	} else if !req.Create {
		return nil, errors.New("join: no room given (give one, or create one)")
	}
	ws, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, dialError(u, resp, err)
	}
	ws.SetReadLimit(clientReadLimit)
	seat := req.Seat
	b, err := encode(message{T: MsgJoin, V: ProtocolVersion, Room: req.Room, Create: req.Create, Seat: &seat})
	if err != nil {
		_ = ws.CloseNow() // nothing was sent
		return nil, err
	}
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		_ = ws.CloseNow() // the write's error says it
		return nil, &Error{Code: CodeUnreachable, Message: "the rendezvous server at " + u + " closed the connection", Err: err}
	}
	m, err := readServer(ctx, ws)
	if err != nil {
		_ = ws.CloseNow() // the read's error says it
		return nil, fmt.Errorf("join at %s: %w", u, err)
	}
	switch m.T {
	case MsgError:
		_ = ws.CloseNow() // the server closes anyway
		return nil, &Error{Code: m.Code, Message: m.Message}
	case MsgWelcome:
	default:
		_ = ws.CloseNow()
		return nil, fmt.Errorf("join at %s: %w: %s before the welcome", u, errBadMessage, m.T)
	}
	if m.V != ProtocolVersion {
		_ = ws.CloseNow()
		return nil, &Error{Code: CodeProtocol, Message: fmt.Sprintf("the server's rooms speak protocol version %d, this client %d: use the same p2pa version as the server", m.V, ProtocolVersion)}
	}
	c := &Client{
		ws:  ws,
		url: u,
		welcome: Welcome{
			Protocol: m.V, Room: m.Room, ID: m.ID, Seat: *m.Seat, Members: m.Members, ICE: m.ICE,
		},
		events: make(chan Event, eventQueue),
		done:   make(chan struct{}),
	}
	var rctx context.Context
	rctx, c.stop = context.WithCancel(context.Background())
	go c.read(rctx)
	return c, nil
}

// dialError says why no WebSocket could be opened. The server refuses some connections
// before the upgrade, with an HTTP status instead of an error message.
func dialError(u string, resp *http.Response, err error) *Error {
	switch {
	case resp == nil: // no answer at all (or js/wasm, where the browser hides the response)
		return &Error{Code: CodeUnreachable, Message: "cannot reach the rendezvous server at " + u, Err: err}
	case resp.StatusCode == http.StatusTooManyRequests:
		return &Error{Code: CodeRateLimited, Message: "the rendezvous server at " + u + " refused: too many connections from your address"}
	case resp.StatusCode == http.StatusServiceUnavailable:
		return &Error{Code: CodeShutdown, Message: "the rendezvous server at " + u + " is stopping"}
	}
	return &Error{Code: CodeUnreachable, Message: fmt.Sprintf("the server at %s answered HTTP %d, not a p2pa rendezvous", u, resp.StatusCode), Err: err}
}

// readServer reads and decodes one message.
func readServer(ctx context.Context, ws *websocket.Conn) (message, error) {
	typ, b, err := ws.Read(ctx)
	if err != nil {
		if s := websocket.CloseStatus(err); s != -1 {
			return message{}, fmt.Errorf("the server closed the connection (%v)", s)
		}
		return message{}, fmt.Errorf("read from the server: %w", err)
	}
	if typ != websocket.MessageText {
		return message{}, fmt.Errorf("%w: binary message from the server", errBadMessage)
	}
	return decodeServer(b)
}

// read turns the server's messages into events until the connection ends.
func (c *Client) read(ctx context.Context) {
	defer close(c.events)
	for {
		m, err := readServer(ctx, c.ws)
		if err != nil && c.closing.Load() {
			c.end(nil)
			return
		}
		if err != nil {
			c.end(fmt.Errorf("rendezvous %s: %w", c.url, err))
			return
		}
		var ev Event
		switch m.T {
		case MsgJoined:
			ev = Event{Kind: EventJoined, Member: *m.Member}
		case MsgLeft:
			ev = Event{Kind: EventLeft, Member: *m.Member}
		case MsgSignal:
			ev = Event{Kind: EventSignal, From: m.From, Data: m.Data}
		case MsgError:
			c.end(&Error{Code: m.Code, Message: m.Message})
			return
		default:
			c.end(fmt.Errorf("rendezvous %s: %w: %s after the welcome", c.url, errBadMessage, m.T))
			return
		}
		select {
		case c.events <- ev:
		case <-ctx.Done():
			c.end(nil)
			return
		}
	}
}

// end records why the connection ended (the first reason wins) and closes it.
func (c *Client) end(err error) {
	c.once.Do(func() {
		c.err = err
		_ = c.ws.CloseNow() // the reason is err; closing a closed connection says nothing new
		close(c.done)
	})
}

// Welcome is what the server said when this client joined.
func (c *Client) Welcome() Welcome { return c.welcome }

// Events delivers the room's events in order. It is closed when the connection ends; Err
// then says why. Read it promptly: while it is full the client stops reading the server.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (an *Error when the server closed it with one, such as
// ErrExpired or ErrShutdown), nil after Close or while it is up.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Signal sends data (at most MaxSignalData bytes, opaque to the server) to the member
// with ID to. A member that has left meanwhile never gets it; its EventLeft says so.
func (c *Client) Signal(ctx context.Context, to, data string) error {
	if err := checkSignal(to, data); err != nil {
		return fmt.Errorf("signal to %q: %w", to, err)
	}
	b, err := encode(message{T: MsgSignal, To: to, Data: data})
	if err != nil {
		return err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		if e := c.Err(); e != nil {
			return fmt.Errorf("signal to %q: %w", to, e)
		}
		return fmt.Errorf("signal to %q: %w", to, err)
	}
	return nil
}

// Close leaves the room: the others get EventLeft. Events is closed soon after.
func (c *Client) Close() error {
	select {
	case <-c.done:
		return nil // ended already; Err says why
	default:
	}
	c.closing.Store(true)
	err := c.ws.Close(websocket.StatusNormalClosure, "") // the reader sees the server's close frame
	c.stop()
	c.end(nil)
	if err != nil && websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close rendezvous %s: %w", c.url, err)
	}
	return nil
}
