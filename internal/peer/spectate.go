package peer

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/transport"
)

// RunSpectate is p2pa -spectate HOST:PORT -headless: it watches the match whose player 0
// is at HOST:PORT. Player 0 sends it every confirmed input from frame 0 (a late spectator
// fast-forwards through them), so it never predicts or rolls back; it then follows a few
// frames behind. With -frames N it stops at frame N and prints the same result line as the
// players; without, it runs until player 0 leaves. When player 0 leaves or goes silent it
// says so.
func RunSpectate(o Options, out io.Writer) error {
	host, err := transport.ResolvePeer(o.Spectate)
	if err != nil {
		return &UsageError{fmt.Errorf("-spectate: %w", err)}
	}
	udp, err := transport.ListenUDP(o.Listen)
	if err != nil {
		return &UsageError{err}
	}
	defer udp.Close()
	var conn transport.Conn = udp
	clock := transport.NewRealClock()
	if o.Netsim != "" {
		conn = transport.NewImpaired(udp, clock, o.NetsimCfg, randomUint64())
	}
	sp, err := lockstep.NewSpectator(lockstep.Config{
		Secret: o.Secret, Nonce: randomUint64(),
		InterruptTimeout: o.Interrupt, DisconnectTimeout: o.Disconnect,
	}, host)
	if err != nil {
		return &UsageError{err}
	}
	fmt.Fprintf(out, "p2pa: spectator, listening on %s; watching the match of player 0 at %s\n", udp.LocalAddr(), host)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	ticker := time.NewTicker(lockstep.DefaultFrameDuration)
	defer ticker.Stop()
	buf := make([]byte, transport.MaxDatagram)
	var st *game.State
	var ended error // why player 0 is gone, once it is
	send := func(now time.Duration) {
		for _, d := range sp.Outgoing(now) {
			_ = conn.WriteTo(d.Data, d.To) // a lost datagram: the protocol recovers
		}
	}
	for {
		now := clock.Now()
		for {
			n, from, ok := conn.ReadFrom(buf)
			if !ok {
				break
			}
			if n <= len(buf) {
				sp.Receive(from, buf[:n], now)
			}
		}
		for _, e := range sp.Events() {
			switch e.Kind {
			case lockstep.EventRunning:
				st, err = spectatorGame(sp)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "p2pa: watching a %d-player %s match, seed %d\n", sp.Players(), st.Mode(), sp.Seed())
			case lockstep.EventPeerLeft:
				fmt.Fprintf(out, "p2pa: player 0 left; the match is over at frame %d\n", e.Frame)
				ended = fmt.Errorf("player 0 left at frame %d", e.Frame)
			case lockstep.EventDisconnected:
				fmt.Fprintf(out, "p2pa: player 0 stopped answering; the match is over for us at frame %d\n", e.Frame)
				ended = fmt.Errorf("player 0 stopped answering at frame %d", e.Frame)
			case lockstep.EventFailed:
				return e.Err
			}
		}
		if st != nil {
			for _, r := range sp.Step(now) {
				if o.Frames > 0 && int(st.Frame()) >= o.Frames {
					break
				}
				if err := lockstep.Apply(st, []lockstep.Request{r}); err != nil {
					return err
				}
			}
			if o.Frames > 0 && int(st.Frame()) >= o.Frames {
				send(now)
				printSpectatorResult(out, st)
				return nil
			}
			if ended != nil && sp.Ended() {
				printSpectatorResult(out, st)
				if o.Frames > 0 {
					return fmt.Errorf("the match ended at frame %d, before -frames %d: %v", st.Frame(), o.Frames, ended)
				}
				return nil
			}
		}
		send(now)
		if st == nil && sp.State() == lockstep.StateFailed {
			return sp.Err()
		}
		select {
		case <-ticker.C:
		case <-udp.Readable():
		case <-sig:
			if st != nil {
				printSpectatorResult(out, st)
			}
			return nil
		}
	}
}

// spectatorGame makes the game the match plays, from what player 0's handshake said.
func spectatorGame(sp *lockstep.Spectator) (*game.State, error) {
	var mode string
	var coins int
	if _, err := fmt.Sscanf(sp.Game(), "p2pa-coins mode=%s coins=%d", &mode, &coins); err != nil {
		return nil, fmt.Errorf("player 0 plays %q, not a coin game this spectator knows", sp.Game())
	}
	m, err := game.ParseMode(mode)
	if err != nil {
		return nil, fmt.Errorf("player 0 plays %q: %w", sp.Game(), err)
	}
	if sp.InputSize() != game.InputSize {
		return nil, fmt.Errorf("player 0 sends %d-byte inputs, the coin game has %d", sp.InputSize(), game.InputSize)
	}
	return game.New(game.Config{Mode: m, Coins: coins, Players: sp.Players(), Seed: sp.Seed()})
}

// printSpectatorResult prints the line the players print at the same frame: the frame and
// the checksum of its state (a spectator has no rollbacks and no round trip of its own).
func printSpectatorResult(out io.Writer, st *game.State) {
	fmt.Fprintf(out, "frame=%d checksum=%016x rollbacks=0 rtt_ms=0.00\n", st.Frame(), lockstep.StateChecksum(st.SaveState(nil)))
}
