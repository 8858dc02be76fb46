//go:build js || display

// The page's sessions are in the browser build (js) and in the native test build (tag
// display), so that they are unit-tested natively; the native binary leaves them out.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"p2pa/game"
	"p2pa/game/render"
	"p2pa/internal/peer"
	"p2pa/lockstep/codec"
	"p2pa/transport"
)

// A browser page (GOOS=js, main_js.go) plays what its address asks for, through one of
// these sessions; none of them opens a socket. The seam for rooms is joinRoom: until a
// build provides it, a page without local=1 shows what it needs instead of pretending to
// listen.

// joinRoom connects the page to its room (page.Room, or a new one when "") and says where
// it sat down: the Link its match plays over (a transport.Conn over WebRTC data channels
// whose peers have addresses every member derives alike, and player 0's address for a
// joiner). It runs in the background while the page shows "Joining…", and should give up
// when ctx is done (Esc, or the tab closing). nil means this build has no rooms; the
// browser build sets it from room_js.go (transport/rtc + rendezvous, through the page's
// own server).
var joinRoom func(ctx context.Context, page peer.Page, stdout io.Writer) (roomJoin, error)

// roomJoin is where joinRoom seated the page.
type roomJoin struct {
	link   peer.Link
	player int    // the seat taken: page.Player, or the first free one for a link without p=
	room   string // the room's code, as the server spells it
	// invite is what player 0's waiting screen shows the others: the link to send and
	// the command a desktop player runs. Empty for a joiner.
	invite []string
}

// startPage is the session a browser page plays: a screen naming what is wrong with the
// address (addrErr, from peer.ParseQuery), the local match (local=1), a screen saying the
// page needs rooms (none in this build), or the room's match.
func startPage(page peer.Page, addrErr error, stdout io.Writer) session {
	switch {
	case addrErr != nil:
		return &noticeSession{screen: badAddressScreen(addrErr), err: addrErr}
	case page.Local:
		s, err := startLocal(page, stdout)
		if err != nil {
			return &noticeSession{screen: failedScreen("The local match could not start", err), err: err}
		}
		return s
	case joinRoom == nil:
		return &noticeSession{screen: noRoomsScreen(page)}
	}
	return startRoom(page, stdout)
}

// noticeSession is a page that shows one screen and plays nothing.
type noticeSession struct {
	screen render.Screen
	err    error // reported by Close: why there was nothing to play
	quit   bool
}

func (n *noticeSession) Tick(game.Input)    {}
func (n *noticeSession) State() *game.State { return nil }
func (n *noticeSession) Quit()              { n.quit = true }
func (n *noticeSession) Stop(os.Signal)     { n.quit = true }
func (n *noticeSession) Done() bool         { return n.quit }
func (n *noticeSession) Close() error       { return n.err }

func (n *noticeSession) View() view {
	ph := peer.PhaseWaiting
	if n.err != nil {
		ph = peer.PhaseFailed
	}
	return view{Phase: ph, Err: n.err, Notice: &n.screen, Page: true, RTT: -1}
}

func (n *noticeSession) FinalState() (*game.State, error) {
	return nil, errors.New("nothing was played")
}

func badAddressScreen(err error) render.Screen {
	return render.Screen{
		Title:    "This page's address has a bad option",
		Accent:   accentError,
		Progress: -1,
		Lines:    append(wrap(err.Error(), 70), "", "Fix the address and load the page again. The options:"),
		Code:     []string{strings.Join(peer.QueryKeys(), " ")},
		Notes:    []string{"e.g. ?room=K7QF2M&p=1   or   ?local=1&bot=1&frames=1200&seed=7"},
	}
}

func failedScreen(title string, err error) render.Screen {
	return render.Screen{
		Title:    title,
		Accent:   accentError,
		Progress: -1,
		Lines:    wrap(err.Error(), 70),
		Footer:   "Reload the page to try again.",
	}
}

// noRoomsScreen is the page without rooms: it says what the page needs rather than
// pretending to wait for someone who could never reach it.
func noRoomsScreen(page peer.Page) render.Screen {
	sc := render.Screen{
		Title:    "Rooms are not available in this build yet",
		Accent:   accentWarn,
		Progress: -1,
		Lines: []string{
			"In a browser, players meet in a room of a p2pa server:",
			"this page is meant to be opened through",
		},
		Code:   []string{"p2pa -serve ADDR -web DIR"},
		Notes:  []string{"which this build does not have yet.", "", "To see the game here now, both players in this page:"},
		Footer: "Add ?local=1 to the address (&bot=1 lets a bot play your side).",
	}
	if page.Room != "" {
		sc.Lines = append([]string{fmt.Sprintf("This link joins room %s.", page.Room)}, sc.Lines...)
	}
	return sc
}

// wrap breaks s into lines of at most width bytes at spaces, for a panel.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// linkSession is a page's match over a Link: a matchSession whose waiting screens say
// where the page is (a room, or this page) instead of a socket's address, and whose end
// screens offer a reload rather than a command.
type linkSession struct {
	*matchSession
	where  string   // "room K7QF2M", "this page"
	invite []string // player 0's: the link and the command to give the others
}

func (l *linkSession) View() view {
	v := l.matchSession.View()
	v.Page = true
	if v.Phase == peer.PhaseInterrupted && l.matchSession.Done() {
		// The match reached its end (frames=) while the other player, done first, had
		// gone quiet: a page stays open on its last screen, which should say the game is
		// over, not that the connection is interrupted.
		v.Phase = peer.PhaseDone
	}
	if v.Phase == peer.PhaseWaiting || v.Phase == peer.PhaseSynchronizing {
		sc := render.Screen{Title: "Waiting for the other player", Accent: accentWait, Progress: -1,
			Lines: []string{fmt.Sprintf("You are player %d, in %s.", l.Match.Status().Player, l.where)}}
		if len(l.invite) > 0 && v.Phase == peer.PhaseWaiting {
			sc.Lines = append(sc.Lines, "", "Send the other player this link:")
			sc.Code = l.invite[:1]
			if len(l.invite) > 1 {
				sc.Notes = append([]string{"or, on a desktop with p2pa, have them run:"}, l.invite[1:]...)
			}
		}
		if v.Phase == peer.PhaseSynchronizing {
			sc.Title, sc.Progress = "Connecting: handshake", min(1, max(0, v.Progress))
		}
		v.Notice = &sc
	}
	return v
}

// watchSession is a page watching a room's match (spectate=1): the window's spectator,
// whose screens are a page's.
type watchSession struct {
	spectatorSession
}

// ResultLine is the line Close printed (the players' line at the frame watched to, with no
// rollbacks or round trip of its own), for the page's #result; "" before the match.
func (w watchSession) ResultLine() string {
	st := w.State()
	if st == nil {
		return ""
	}
	return peer.FormatResult(int64(st.Frame()), codec.StateChecksum(st.SaveState(nil)), 0, 0)
}

func (w watchSession) View() view {
	v := w.spectatorSession.View()
	v.Page = true
	if v.Phase == peer.PhaseWaiting {
		v.Notice = &render.Screen{Title: "Waiting for the match", Accent: accentWait, Progress: -1,
			Lines: []string{fmt.Sprintf("Watching %s: the match shows here once player 0 is reached.", w.host)}}
	}
	return v
}

// localSession is local=1: the page's player (the mouse, or its bot with bot=1) against a
// bot, two matches over the in-process emulator, ticked together. It is honest about what
// it is: no network is crossed; it shows the game, the window's screens and the result
// line in a browser before rooms exist.
//
// Its clock is virtual and moves 1/60 s per tick: both sides live in one page, so a page
// that stalls (a loaded machine, software WebGL, a background tab) stalls both alike, and
// must not look like a peer gone quiet: on the real clock a 5 s stall dropped the bot, which
// rejoined, and the checksum then depended on when. On ticks, a match of bots ends on the
// same checksum every time, the one the same options give natively.
type localSession struct {
	linkSession
	other *peer.Match // the bot's side; its lines are not printed (one result line)
	clock *transport.VirtualClock
}

// localAddrs are the two ends on the emulator; any addresses do, none is ever dialled.
var localAddrs = [2]netip.AddrPort{
	netip.MustParseAddrPort("10.0.0.1:7000"),
	netip.MustParseAddrPort("10.0.0.2:7000"),
}

func startLocal(page peer.Page, stdout io.Writer) (session, error) {
	clock := transport.NewVirtualClock(0)
	network := transport.NewNetwork(clock, 1) // no loss or reordering is set: the seed is unused
	var conns [2]transport.Conn
	for p, a := range localAddrs {
		c, err := network.Listen(a)
		if err != nil {
			return nil, fmt.Errorf("local match: %w", err)
		}
		conns[p] = c
	}
	link := func(p int) peer.Link {
		l := peer.Link{Conn: conns[p], Name: "this page (local match)", Clock: clock}
		if p != 0 {
			l.Host = localAddrs[0]
		}
		return l
	}
	own := page.Options
	m, err := peer.StartLink(own, link(own.Player), stdout)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("local match: %w", err), conns[0].Close(), conns[1].Close())
	}
	bot := own
	bot.Player, bot.Bot = 1-own.Player, true
	other, err := peer.StartLink(bot, link(bot.Player), io.Discard)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("local match: %w", err), m.Close(), conns[bot.Player].Close())
	}
	return &localSession{linkSession: linkSession{matchSession: &matchSession{Match: m, pausedFor: -1}, where: "this page, against a bot"}, other: other, clock: clock}, nil
}

// Tick plays both sides' tick, then moves the clock on by one.
func (l *localSession) Tick(in game.Input) {
	l.matchSession.Tick(in)
	l.other.Tick(game.Input{})
	l.clock.Advance(time.Second / tps)
}

func (l *localSession) Quit() {
	l.matchSession.Quit()
	l.other.Quit()
}

func (l *localSession) Stop(sig os.Signal) {
	l.matchSession.Stop(sig)
	l.other.Stop(sig)
}

// Done waits for both sides, so the bot's side has its goodbye too.
func (l *localSession) Done() bool { return l.matchSession.Done() && l.other.Done() }

func (l *localSession) Close() error {
	err := l.matchSession.Close()
	if oerr := l.other.Close(); oerr != nil {
		err = errors.Join(err, fmt.Errorf("the bot's side: %w", oerr))
	}
	return err
}

// roomSession is a page joining its room: joinRoom runs in the background, so the page
// keeps drawing "Joining…"; once it gives a Link, the session becomes that match (or, with
// spectate=1, the watching of it).
type roomSession struct {
	page   peer.Page
	stdout io.Writer
	cancel context.CancelFunc
	result chan roomResult
	match  session // nil until joined: a *linkSession, or a watchSession
	err    error
	quit   bool

	// The window's receiver goroutine asks Readable without the window's lock, so what it
	// reads is guarded here: joined is closed once the match exists, which wakes the
	// receiver to wait on the match's own arrivals (readable) from then on.
	mu       sync.Mutex
	joined   chan struct{}
	readable <-chan struct{}
}

type roomResult struct {
	join roomJoin
	err  error
}

func startRoom(page peer.Page, stdout io.Writer) session {
	ctx, cancel := context.WithCancel(context.Background())
	r := &roomSession{page: page, stdout: stdout, cancel: cancel, result: make(chan roomResult, 1), joined: make(chan struct{})}
	go func() {
		j, err := joinRoom(ctx, page, stdout)
		r.result <- roomResult{j, err}
	}()
	return r
}

func (r *roomSession) Tick(in game.Input) {
	if r.match != nil {
		r.match.Tick(in)
		return
	}
	if r.err != nil || r.quit {
		return
	}
	select {
	case res := <-r.result:
		if res.err != nil {
			r.err = fmt.Errorf("joining the room: %w", res.err)
			return
		}
		var readable <-chan struct{}
		link := res.join.link
		if r.page.Watch {
			w, err := peer.StartWatchLink(r.page.Options, link, r.stdout)
			if err != nil {
				r.err = errors.Join(fmt.Errorf("starting to watch: %w", err), link.Conn.Close())
				return
			}
			// A spectator reads its arrivals in Tick (it has no Receive): readable stays
			// nil, so the window's receiver does not wake for what it would not take.
			r.match = watchSession{spectatorSession{w, link.Name}}
		} else {
			opts := r.page.Options
			opts.Player = res.join.player
			m, err := peer.StartLink(opts, link, r.stdout)
			if err != nil {
				r.err = errors.Join(fmt.Errorf("starting the match: %w", err), link.Conn.Close())
				return
			}
			r.match = &linkSession{matchSession: &matchSession{Match: m, pausedFor: -1}, where: link.Name, invite: res.join.invite}
			readable = m.Readable()
		}
		r.mu.Lock()
		r.readable = readable
		close(r.joined)
		r.mu.Unlock()
	default:
	}
}

// Readable lets the window hand the room's datagrams over as they arrive, not once a
// tick (a reply held for a tick would count in the round trip): the match's arrivals once
// joined, and until then the moment of joining.
func (r *roomSession) Readable() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.joined:
		return r.readable
	default:
		return r.joined
	}
}

// Receive hands what arrived to the match (the window calls it under its lock, as Tick);
// a spectator reads its arrivals in Tick.
func (r *roomSession) Receive() {
	if rc, ok := r.match.(receiver); ok {
		rc.Receive()
	}
}

func (r *roomSession) State() *game.State {
	if r.match != nil {
		return r.match.State()
	}
	return nil
}

func (r *roomSession) View() view {
	if r.match != nil {
		return r.match.View()
	}
	sc := render.Screen{Title: "Creating a room…", Accent: accentWait, Progress: -1,
		Lines: []string{"Asking the server for a room to play in."}}
	if r.page.Room != "" {
		sc.Title = "Joining room " + r.page.Room + "…"
		sc.Lines = []string{"Finding the other players through the server."}
	}
	v := view{Phase: peer.PhaseWaiting, Notice: &sc, Page: true, RTT: -1}
	if r.err != nil {
		fs := failedScreen("Could not join the room", r.err)
		v.Phase, v.Err, v.Notice = peer.PhaseFailed, r.err, &fs
	}
	return v
}

func (r *roomSession) Quit() {
	if r.match != nil {
		r.match.Quit()
		return
	}
	r.quit = true
	r.cancel()
}

func (r *roomSession) Stop(sig os.Signal) {
	if r.match != nil {
		r.match.Stop(sig)
		return
	}
	r.Quit()
}

func (r *roomSession) Done() bool {
	if r.match != nil {
		return r.match.Done()
	}
	return r.quit || r.err != nil
}

func (r *roomSession) Close() error {
	r.cancel()
	if r.match != nil {
		return r.match.Close()
	}
	return r.err
}

func (r *roomSession) FinalState() (*game.State, error) {
	if r.match != nil {
		return r.match.FinalState()
	}
	return nil, errors.New("no match was played")
}

// ResultLine is the match's, once joined (the window asks only when there is a state).
func (r *roomSession) ResultLine() string {
	if rl, ok := r.match.(resultLiner); ok {
		return rl.ResultLine()
	}
	return ""
}
