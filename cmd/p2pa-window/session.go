package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"p2pa/game"
	"p2pa/game/render"
	"p2pa/internal/peer"
	"p2pa/netplay"
)

// options are the command line, shared with p2pa (which hands its arguments over as is).
type options = peer.Options

// session is what the window needs from a match: a live one over the network, or a
// replay. The window draws from a view, a plain summary, so screens and the HUD can be
// composed and tested without a network.
type session interface {
	// Tick runs one 60 Hz tick with this player's input.
	Tick(local game.Input)
	// State is the state to draw, nil before the match is synchronised.
	State() *game.State
	// View summarises the session for the screens and the HUD.
	View() view
	// Quit asks to end the match cleanly; keep ticking until Done.
	Quit()
	// Stop is Quit on a signal: Close then reports a *peer.Interrupted unless the
	// session had reached its end.
	Stop(sig os.Signal)
	// Done reports that the match is over: -frames reached, quit, or the session ended.
	Done() bool
	// Close ends the session at once if needed and prints the score and final lines.
	Close() error
	// FinalState, after Close, is the state at the frame of the final line.
	FinalState() (*game.State, error)
}

// view is the session as the window shows it.
type view struct {
	Phase peer.Phase
	// Progress is the handshake's progress, 0..1, while synchronising.
	Progress float64
	// Err says what went wrong, for Failed and Desync.
	Err error
	// Frame is the frame of State; Confirmed the last frame both peers' inputs are known for.
	Frame, Confirmed int32
	// LocalAddr is the socket's address; Peer the other player's, once known; LANAddrs
	// this machine's addresses to give the other player.
	LocalAddr, Peer string
	LANAddrs        []string
	DesyncFile      string
	// Rejoin is the pause for a player who dropped (PhaseRejoinWait: who, and the time
	// left) or this player's own rejoin (PhaseRejoining: how much of the state is in).
	Rejoin netplay.RejoinStatus
	// NotRejoined is set when the match ended (PhaseDisconnected) because player Dropped,
	// whom it paused for, did not rejoin within -rejoin.
	NotRejoined bool
	Dropped     int
	// Replay is set for a replay, which has no network.
	Replay bool
	// Looking is set while a joining player with no -peer looks for a game; Games are
	// the matches found when there are several to choose from.
	Looking bool
	Games   []peer.Found
	// Notice, if set, is the whole screen to show: a browser page's, saying what it needs
	// (a room, a valid address) or that it is connecting.
	Notice *render.Screen
	// Page is set for a browser page, whose end screens offer a reload, not a command.
	Page bool

	// Network statistics for the HUD.
	RTT              time.Duration // <0: not measured yet
	Advantage        float64
	RollbackFrames   int64 // cumulative; the window turns it into a rate
	KbpsUp, KbpsDown float64
	// Link is how the other players were reached through a room (linkSummary); "" over UDP.
	Link string
}

// matchSession is a live match: peer.Match, a netplay.Runner under the coin-game layer,
// already has most of the session's shape. Update calls Tick (Runner.Tick); the window's
// receiver hands datagrams over as they arrive (Receive: Runner.Poll), under the window's
// lock, so the runner is only ever driven by one goroutine at a time.
type matchSession struct {
	*peer.Match
	// pausedFor is the player the match last paused for, until it runs again (-1: no
	// pause): a match that ends disconnected after the pause ended because they did not
	// rejoin.
	pausedFor int
}

// linkSummary says in a few words how the players were reached through a room, from
// peer.Status.Paths: "direct", "relayed via HOST:PORT", or "1 direct, 2 relayed" when they
// differ; "" when none was (plain UDP).
func linkSummary(paths []string) string {
	direct, relayed, relay := 0, 0, ""
	for _, p := range paths {
		switch {
		case p == "direct":
			direct++
		case strings.HasPrefix(p, "relay "):
			relayed++
			relay = strings.TrimPrefix(p, "relay ")
		}
	}
	switch {
	case relayed == 0 && direct == 0:
		return ""
	case relayed == 0:
		return "direct"
	case direct == 0 && relayed == 1:
		return "relayed via " + relay
	case direct == 0:
		return "relayed"
	}
	return fmt.Sprintf("%d direct, %d relayed", direct, relayed)
}

// FinalState is the state at the final line's frame, on which both peers agree; the live
// state may be a few predicted frames past it (the peer that stays learns the end late).
func (m *matchSession) FinalState() (*game.State, error) {
	if st, ok := m.Match.FinalState(); ok {
		return st, nil
	}
	return m.State(), errors.New("the match ended before its last frame was confirmed; showing the latest state")
}

func (m *matchSession) View() view { return m.viewOf(m.Status()) }

// viewOf turns the match's status into the window's view, noting whom the match paused
// for.
func (m *matchSession) viewOf(st peer.Status) view {
	switch {
	case st.Phase == peer.PhaseRejoinWait && st.Rejoin.Phase == netplay.RejoinPaused:
		m.pausedFor = st.Rejoin.Player
	case st.Phase == peer.PhaseRunning:
		m.pausedFor = -1 // they rejoined, or a 3-4 player match plays on without them
	}
	v := view{
		Phase:          st.Phase,
		Err:            st.Err,
		Frame:          int32(st.Frame),
		Confirmed:      int32(st.Confirmed),
		LocalAddr:      st.LocalAddr,
		Peer:           st.Peer,
		LANAddrs:       st.LANAddrs,
		DesyncFile:     st.DesyncFile,
		Rejoin:         st.Rejoin,
		RTT:            -1,
		RollbackFrames: st.Stats.RollbackFrames,
	}
	if st.Phase == peer.PhaseDisconnected && m.pausedFor >= 0 {
		v.NotRejoined, v.Dropped = true, m.pausedFor
	}
	if st.Total > 0 {
		v.Progress = float64(st.Progress) / float64(st.Total)
	}
	v.Link = linkSummary(st.Paths[:])
	if len(st.Stats.Peers) > 0 {
		ps := st.Stats.Peers[0]
		if ps.RTT > 0 {
			v.RTT = ps.RTT
		}
		v.Advantage = float64(ps.LocalAdvantage)
		v.KbpsUp = float64(ps.BytesOutPerSec) * 8 / 1000
		v.KbpsDown = float64(ps.BytesInPerSec) * 8 / 1000
	}
	return v
}

// spectatorSession watches a match (-spectate): peer.Watch, drawn like a match, with no
// input of its own.
type spectatorSession struct {
	*peer.Watch
	host string
}

func (s spectatorSession) Tick(game.Input) { s.Watch.Tick() }

func (s spectatorSession) View() view {
	v := view{Phase: peer.PhaseWaiting, Peer: s.host, RTT: -1}
	switch {
	case s.Err() != nil:
		v.Phase, v.Err = peer.PhaseFailed, s.Err()
	case s.Done():
		v.Phase = peer.PhaseDone
	case s.Ended():
		v.Phase = peer.PhasePeerLeft
	case s.Running():
		v.Phase = peer.PhaseRunning
	}
	if st := s.State(); st != nil {
		v.Frame, v.Confirmed = st.Frame(), st.Frame()
	}
	return v
}

func (s spectatorSession) FinalState() (*game.State, error) {
	if st := s.State(); st != nil {
		return st, nil
	}
	return nil, errors.New("the match had not started")
}
