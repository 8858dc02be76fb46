package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/lockstep/codec"
	"p2pa/netplay"
	"p2pa/transport"
)

// Watch is a spectator's side of a match (p2pa -spectate HOST:PORT): it watches the match
// whose player 0 is at HOST:PORT. Player 0 sends it every confirmed input from frame 0 (a
// late spectator fast-forwards through them), so it never predicts or rolls back; it then
// follows a few frames behind. With -frames N it stops at frame N and prints the same
// result line as the players; without, it runs until player 0 leaves, and says so. Call
// Tick 60 times a second (RunSpectate does, headless; the window does from its loop).
type Watch struct {
	opts Options
	out  io.Writer
	conn transport.Conn
	// readable signals arrivals on conn; nil (never ready) when it cannot.
	readable <-chan struct{}
	notes    <-chan LinkNote // the link's news, if it has any
	clock    transport.Clock
	sp       *netplay.Spectator
	state    *game.State
	buf      []byte
	ended    error // why player 0 is gone, once it is
	err      error // a failure: the handshake, or a game we cannot make
	quit     bool
	sig      os.Signal
}

// StartWatch opens the socket and starts the spectator's handshake with player 0.
func StartWatch(o Options, out io.Writer) (*Watch, error) {
	if noSockets() {
		return nil, ErrNoSockets
	}
	host, err := transport.ResolvePeer(o.Spectate)
	if err != nil {
		return nil, &UsageError{fmt.Errorf("-spectate: %w", err)}
	}
	udp, err := transport.ListenUDP(o.Listen)
	if err != nil {
		return nil, &UsageError{err}
	}
	w := &Watch{opts: o, out: out, conn: udp, readable: udp.Readable(), clock: transport.NewRealClock(), buf: make([]byte, transport.MaxDatagram)}
	if o.Netsim != "" {
		w.conn = transport.NewImpaired(udp, w.clock, o.NetsimCfg, randomUint64())
	}
	if err := w.start(host); err != nil {
		udp.Close()
		return nil, &UsageError{err}
	}
	fmt.Fprintf(out, "p2pa: spectator, listening on %s; watching the match of player 0 at %s\n", udp.LocalAddr(), host)
	return w, nil
}

// StartWatchLink starts watching over link (a room's, JoinRoom), whose Host is player 0.
func StartWatchLink(o Options, link Link, out io.Writer) (*Watch, error) {
	if link.Conn == nil || !link.Host.IsValid() {
		return nil, errors.New("watch: the link names no player 0 to watch")
	}
	w := &Watch{opts: o, out: out, conn: link.Conn, clock: link.Clock, notes: link.Notes, buf: make([]byte, transport.MaxDatagram)}
	if w.clock == nil {
		w.clock = transport.NewRealClock()
	}
	if rc, ok := link.Conn.(interface{ Readable() <-chan struct{} }); ok {
		w.readable = rc.Readable()
	}
	if err := w.start(link.Host); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "p2pa: spectator in %s; watching the match of player 0\n", link.Name)
	return w, nil
}

// start makes the spectator's runner (netplay.Spectator, the loop every front end runs),
// which greets player 0 at host.
func (w *Watch) start(host netip.AddrPort) error {
	frames := lockstep.Frame(max(w.opts.Frames, 0))
	sp, err := netplay.NewSpectator(netplay.SpectatorConfig{
		Session: lockstep.Config{
			Secret: w.opts.Secret, Nonce: randomUint64(),
			InterruptTimeout: w.opts.Interrupt, DisconnectTimeout: w.opts.Disconnect,
		},
		Host: host, Conn: w.conn, Clock: w.clock, FinishAt: frames,
		NewGame: w.newGame, OnEvent: w.onEvent,
	})
	w.sp = sp
	return err
}

// newGame makes the coin game player 0 described, and says what is being watched.
func (w *Watch) newGame(m netplay.Watched) (lockstep.Game, error) {
	st, err := spectatorGame(m)
	if err != nil {
		return nil, err
	}
	w.state = st
	fmt.Fprintf(w.out, "p2pa: watching a %d-player %s match, seed %d\n", m.Players, st.Mode(), m.Seed)
	return st, nil
}

// onEvent prints what ends watching, as it happens.
func (w *Watch) onEvent(e lockstep.Event) {
	switch e.Kind {
	case lockstep.EventPeerLeft:
		if errors.Is(e.Err, lockstep.ErrLegEnded) {
			// Player 0 is there and the match goes on, from a state we cannot be
			// handed yet: our last frame is one the match had.
			fmt.Fprintf(w.out, "p2pa: a player rejoined and the match went on from frame %d, which spectators cannot follow yet; watching ends there\n", e.Frame)
			w.ended = fmt.Errorf("the match went on from frame %d after a player rejoined, and spectators cannot follow it yet", e.Frame)
			return
		}
		// Player 0's goodbye ends the match whether it quit or reached its -frames, and
		// it does not say which: a match that reached our -frames simply ended there.
		if w.opts.Frames > 0 && int(e.Frame) >= w.opts.Frames {
			fmt.Fprintf(w.out, "p2pa: the match ended at frame %d\n", e.Frame)
		} else {
			fmt.Fprintf(w.out, "p2pa: player 0 ended the match at frame %d\n", e.Frame)
		}
		w.ended = fmt.Errorf("player 0 ended the match at frame %d", e.Frame)
	case lockstep.EventDisconnected:
		fmt.Fprintf(w.out, "p2pa: player 0 stopped answering; the match is over for us at frame %d\n", e.Frame)
		w.ended = fmt.Errorf("player 0 stopped answering at frame %d", e.Frame)
	}
}

// RunSpectate is p2pa -spectate HOST:PORT -headless.
func RunSpectate(o Options, out io.Writer) error {
	var w *Watch
	var err error
	if o.Server != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		var link Link
		link, err = JoinRoom(ctx, o, out)
		stop()
		if err != nil {
			return err
		}
		if w, err = StartWatchLink(o, link, out); err != nil {
			return errors.Join(err, link.Conn.Close())
		}
	} else if w, err = StartWatch(o, out); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	ticker := time.NewTicker(lockstep.DefaultFrameDuration)
	defer ticker.Stop()
	for !w.Done() {
		w.Tick()
		select {
		case <-ticker.C:
		case <-w.readable:
		case s := <-sig:
			w.Stop(s)
		}
	}
	return w.Close()
}

// readNotes prints the link's news (a room's: how player 0 was reached); an error ends
// watching.
func (w *Watch) readNotes() {
	for {
		select {
		case n := <-w.notes:
			if n.Line != "" {
				fmt.Fprintln(w.out, n.Line)
			}
			if n.Err != nil && w.err == nil {
				w.err = n.Err
			}
		default:
			return
		}
	}
}

// Tick reads what arrived, runs the game forward on the inputs held, and sends
// (netplay.Spectator.Tick); a failure ends watching.
func (w *Watch) Tick() {
	if w.Done() {
		return
	}
	w.readNotes()
	if w.err != nil {
		return
	}
	w.sp.Tick()
	if res := w.sp.Result(); w.sp.Done() && res.Reason == netplay.EndFailed {
		w.err = res.Err
	}
}

func (w *Watch) atEnd() bool {
	return w.sp.Done() && w.sp.Result().Reason == netplay.EndFinished
}

// Done reports whether watching is over: -frames reached, player 0 gone and every frame it
// sent run, a failure, or Quit.
func (w *Watch) Done() bool {
	return w.quit || w.err != nil || w.sp.Done()
}

// Quit stops watching; Stop does on a signal.
func (w *Watch) Quit()              { w.quit = true }
func (w *Watch) Stop(sig os.Signal) { w.quit, w.sig = true, sig }

// State is the game as of the latest frame run; nil before the handshake.
func (w *Watch) State() *game.State { return w.state }

// Running reports whether the handshake is done; Ended whether player 0 is gone.
func (w *Watch) Running() bool { return w.sp.Session().Running() }
func (w *Watch) Ended() bool   { return w.ended != nil }

// Err is the failure that ended watching, if any.
func (w *Watch) Err() error { return w.err }

// Readable signals datagram arrivals.
func (w *Watch) Readable() <-chan struct{} { return w.readable }

// Close releases the socket and prints the result line (the players' line at the same
// frame). It returns why watching ended early, if it did.
func (w *Watch) Close() error {
	if err := w.conn.Close(); err != nil {
		// Before the result line, which stays the last.
		fmt.Fprintf(w.out, "p2pa: closing the connection: %v\n", err)
	}
	if w.err != nil {
		return w.err
	}
	if w.state == nil {
		if w.ended != nil {
			return w.ended
		}
		return errors.New("stopped before the match started")
	}
	fmt.Fprintln(w.out, FormatResult(int64(w.state.Frame()), codec.StateChecksum(w.state.SaveState(nil)), 0, 0))
	switch {
	case w.atEnd():
		return nil
	case w.sig != nil:
		return &Interrupted{Signal: w.sig, Frame: int64(w.state.Frame())}
	case w.ended != nil && w.opts.Frames > 0:
		return fmt.Errorf("the match ended at frame %d, before -frames %d: %v", w.state.Frame(), w.opts.Frames, w.ended)
	}
	return nil
}

// spectatorGame makes the game the match plays, from what player 0's handshake said.
func spectatorGame(sp netplay.Watched) (*game.State, error) {
	var mode string
	var coins int
	if _, err := fmt.Sscanf(sp.Game, "p2pa-coins mode=%s coins=%d", &mode, &coins); err != nil {
		return nil, fmt.Errorf("player 0 plays %q, not a coin game this spectator knows", sp.Game)
	}
	m, err := game.ParseMode(mode)
	if err != nil {
		return nil, fmt.Errorf("player 0 plays %q: %w", sp.Game, err)
	}
	if sp.InputSize != game.InputSize {
		return nil, fmt.Errorf("player 0 sends %d-byte inputs, the coin game has %d", sp.InputSize, game.InputSize)
	}
	return game.New(game.Config{Mode: m, Coins: coins, Players: sp.Players, Seed: sp.Seed})
}
