package netplay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"p2pa/lockstep"
	"p2pa/lockstep/codec"
	"p2pa/transport"
)

// SpectatorConfig configures a Spectator: what it needs to watch the match whose player 0
// is at Host. The match's shape (players, input size, game, seed) is not configured: player
// 0's handshake tells it, and NewGame is given it.
type SpectatorConfig struct {
	// Session carries the secret, the nonce (zero: a random one, as New) and the timeouts.
	Session lockstep.Config
	// Host is player 0's address, which feeds the spectators.
	Host netip.AddrPort
	// Conn carries the datagrams; with Readable, Run hands them over as they arrive.
	Conn transport.Conn
	// Clock is the time the spectator's session sees.
	Clock transport.Clock
	// NewGame makes the game of the match player 0 described. Required.
	NewGame func(Watched) (lockstep.Game, error)
	// FinishAt, if positive, ends watching once this frame is played: the Result then
	// names the same frame and checksum as the players' at FinishAt.
	FinishAt lockstep.Frame
	// OnEvent, if set, is told each of the spectator session's events as it happens.
	OnEvent func(lockstep.Event)
}

// Watched is the match a spectator watches, as player 0's handshake describes it.
type Watched struct {
	Players   int
	InputSize int
	Game      string // lockstep.Config.Game of the players
	Seed      uint64
}

// Spectator runs a spectator's side of a match: the loop around a lockstep.Spectator, a
// Conn and a Clock, as Runner is for a player. Player 0 sends it every confirmed input
// from frame 0 (a late spectator fast-forwards through them), so it never predicts or
// rolls back. Drive it as a Runner: Run on a real clock, or Poll and Tick.
type Spectator struct {
	cfg    SpectatorConfig
	sp     *lockstep.Spectator
	game   lockstep.Game
	buf    []byte
	done   bool
	result Result
	// leaving is why player 0 is gone (EndPeerLeft, EndPeerDisconnected), once it is;
	// watching ends when the frames it sent are played. leftErr is what it said.
	leaving EndReason
	leftErr error
	// played counts the frames the game has run: Step hands out several at once when it
	// fast-forwards, and FinishAt may stop in the middle of them.
	played lockstep.Frame
}

// NewSpectator checks cfg, fills a zero nonce, and starts the handshake with player 0 (the
// first datagram goes out on the first Tick or Poll).
func NewSpectator(cfg SpectatorConfig) (*Spectator, error) {
	switch {
	case cfg.Conn == nil:
		return nil, errors.New("netplay: spectator: no Conn")
	case cfg.Clock == nil:
		return nil, errors.New("netplay: spectator: no Clock")
	case cfg.NewGame == nil:
		return nil, errors.New("netplay: spectator: no NewGame")
	case !cfg.Host.IsValid():
		return nil, errors.New("netplay: spectator: no Host (player 0's address)")
	}
	if cfg.Session.Nonce == 0 {
		n, err := randomUint64()
		if err != nil {
			return nil, fmt.Errorf("netplay: spectator: the session nonce: %w", err)
		}
		cfg.Session.Nonce = n
	}
	sp, err := lockstep.NewSpectator(cfg.Session, cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("netplay: spectator: %w", err)
	}
	return &Spectator{cfg: cfg, sp: sp, buf: make([]byte, transport.MaxDatagram)}, nil
}

// Run watches until the match ends for this spectator (FinishAt, player 0 gone, a
// failure) or ctx is cancelled (EndQuit), on a real clock: datagrams are handed over as
// they arrive when the Conn is Readable, and the game advances every frame period.
func (s *Spectator) Run(ctx context.Context) (Result, error) {
	var readable <-chan struct{}
	if rc, ok := s.cfg.Conn.(Readable); ok {
		readable = rc.Readable()
	}
	period := s.cfg.Session.FrameDuration
	if period <= 0 {
		period = lockstep.DefaultFrameDuration
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	s.Tick()
	for !s.done {
		select {
		case <-ticker.C:
			s.Tick()
		case <-readable:
			s.Poll()
		case <-ctx.Done():
			s.Quit()
		}
	}
	return s.result, s.result.Err
}

// Poll hands every datagram that has arrived to the session and sends its answers. Once
// watching has ended, arrivals are read and dropped, so a loop waiting on the Conn does not
// wake for ever.
func (s *Spectator) Poll() {
	if now, ok := s.take(); ok {
		s.send(now)
	}
}

// take reads what arrived and acts on the session's events; ok is false when watching has
// ended (before, or because of them).
func (s *Spectator) take() (now time.Duration, ok bool) {
	if s.done {
		s.drain()
		return 0, false
	}
	now = s.cfg.Clock.Now()
	s.receive(now)
	s.events()
	return now, !s.done
}

// Tick hands over what arrived, runs the game forward on the inputs held, and sends.
func (s *Spectator) Tick() {
	now, ok := s.take()
	if !ok {
		return
	}
	if s.game != nil {
		for _, r := range s.sp.Step(now) {
			if s.atEnd() {
				break
			}
			if err := lockstep.Apply(s.game, []lockstep.Request{r}); err != nil {
				s.end(EndFailed, fmt.Errorf("netplay: spectator: frame %d: %w", s.played, err))
				return
			}
			if r.Kind == lockstep.RequestAdvance {
				s.played++
			}
		}
		if s.atEnd() {
			s.end(EndFinished, nil)
			return
		}
	}
	if s.leaving != EndNone && (s.game == nil || (s.sp.Ended() && s.played == s.sp.Frame())) {
		s.end(s.leaving, s.leftErr)
		return
	}
	s.send(now)
}

func (s *Spectator) receive(now time.Duration) {
	for {
		n, from, ok := s.cfg.Conn.ReadFrom(s.buf)
		if !ok {
			return
		}
		if n <= len(s.buf) { // a longer one was cut short: not a datagram of ours
			s.sp.Receive(from, s.buf[:n], now)
		}
	}
}

// drain reads and drops what arrived after the end.
func (s *Spectator) drain() {
	for {
		if _, _, ok := s.cfg.Conn.ReadFrom(s.buf); !ok {
			return
		}
	}
}

func (s *Spectator) send(now time.Duration) {
	for _, d := range s.sp.Outgoing(now) {
		// A write that fails is a lost datagram: the protocol sends again.
		if err := s.cfg.Conn.WriteTo(d.Data, d.To); err != nil && errors.Is(err, net.ErrClosed) {
			s.end(EndFailed, fmt.Errorf("netplay: spectator: %w", err))
			return
		}
	}
}

// events reports the session's events and acts on those that end watching.
func (s *Spectator) events() {
	for _, e := range s.sp.Events() {
		if s.cfg.OnEvent != nil {
			s.cfg.OnEvent(e)
		}
		switch e.Kind {
		case lockstep.EventRunning:
			g, err := s.cfg.NewGame(Watched{Players: s.sp.Players(), InputSize: s.sp.InputSize(), Game: s.sp.Game(), Seed: s.sp.Seed()})
			if err != nil {
				s.end(EndFailed, fmt.Errorf("netplay: spectator: making the game: %w", err))
				return
			}
			s.game = g
		case lockstep.EventPeerLeft:
			// Every frame player 0 sent before its goodbye is still played (Tick ends
			// watching once the session has run them all): the last is a state the
			// match had.
			s.leaving, s.leftErr = EndPeerLeft, e.Err
		case lockstep.EventDisconnected:
			s.leaving = EndPeerDisconnected
		case lockstep.EventFailed:
			s.end(EndFailed, e.Err)
		}
		if s.done {
			return
		}
	}
}

// atEnd reports whether FinishAt is played.
func (s *Spectator) atEnd() bool {
	return s.cfg.FinishAt > 0 && s.played >= s.cfg.FinishAt
}

// end ends watching: the result names the frame played last and its state's checksum.
func (s *Spectator) end(reason EndReason, err error) {
	if s.done {
		return
	}
	s.done = true
	s.result = Result{Reason: reason, Frame: s.played, Err: err}
	if s.game != nil {
		state := s.game.SaveState(nil)
		s.result.State, s.result.Checksum, s.result.Confirmed = state, codec.StateChecksum(state), true
	}
}

// Quit stops watching where it is (EndQuit).
func (s *Spectator) Quit() { s.end(EndQuit, nil) }

// Done reports whether watching has ended; Result says how.
func (s *Spectator) Done() bool { return s.done }

// Result is how watching ended; valid once Done. Its Frame and Checksum are the last frame
// played and its state's checksum (Confirmed: every frame a spectator plays is confirmed),
// which the players' Result names too when they end at that frame.
func (s *Spectator) Result() Result { return s.result }

// Game is the game being watched, nil until player 0 has described the match.
func (s *Spectator) Game() lockstep.Game { return s.game }

// Frame is the number of frames the game has run.
func (s *Spectator) Frame() lockstep.Frame { return s.played }

// Session is the spectator's session, for its statistics and state.
func (s *Spectator) Session() *lockstep.Spectator { return s.sp }
