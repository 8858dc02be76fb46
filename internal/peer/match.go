// Package peer wires one player's side of a networked game: a socket from transport, a
// lockstep session, the game state, and the rules for starting and ending a match. Both
// binaries use it: p2pa headless, p2pa-window from its ebiten loop. It imports no ebiten,
// so the headless binary runs on machines without a display.
package peer

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"p2pa/discovery"
	"p2pa/game"
	"p2pa/lockstep"
	"p2pa/transport"
)

// Phase is what the match is doing, for the screen to show.
type Phase int

const (
	PhaseWaiting       Phase = iota // no word from the peer yet
	PhaseSynchronizing              // handshake under way (Status.Progress of Status.Total)
	PhaseRunning
	PhaseInterrupted // the peer has gone quiet; it may come back
	PhaseDisconnected
	PhasePeerLeft
	PhaseDesync
	PhaseDone   // -frames reached, or we quit; the result line is ready
	PhaseFailed // the handshake failed or the socket broke (Status.Err)
)

var phaseNames = [...]string{"waiting", "synchronizing", "running", "interrupted", "disconnected", "peer left", "desync", "done", "failed"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// Status is a snapshot for the window.
type Status struct {
	Phase           Phase
	Progress, Total int
	Err             error
	Player          int
	LocalAddr       string
	Peer            string   // the peer's address, once known
	LANAddrs        []string // addresses of this machine to give the other player
	Frame           lockstep.Frame
	Confirmed       lockstep.Frame
	Stats           lockstep.Stats
	Stalled         int  // ticks the session could not advance (waiting for remote input)
	Waiting         bool // this tick was skipped for time sync
	DesyncFile      string
}

const (
	lingerMax   = 3 * time.Second // how long a leaving peer waits for its last inputs to be acknowledged
	historySize = 512
	// desyncLinger is how long a headless peer goes on after a desync, so the session can
	// tell the other peer its checksum (it repeats it on a few messages) before we leave.
	desyncLinger = 500 * time.Millisecond
	// waitReminder is how long a joining player waits for an answer before it says it has
	// none; each later reminder waits twice as long, up to waitReminderMax.
	waitReminder    = 5 * time.Second
	waitReminderMax = 80 * time.Second
)

// Match is one player's side of a game. Call Tick once per frame (60 times a second).
type Match struct {
	opts   Options
	out    io.Writer
	log    *slog.Logger
	clock  transport.Clock
	conn   transport.Conn
	udp    *transport.UDP
	sess   *lockstep.Session
	state  *game.State
	bot    *Bot
	rec    *recorder
	status Status

	buf     []byte
	input   []byte // the local input offered to the session
	pending bool   // input holds a bot's input no Step has taken yet

	end      lockstep.Frame // the frame this match ends at; NullFrame: not decided yet
	endSum   uint64
	endKnown bool
	quitAt   time.Duration
	quitting bool
	signal   os.Signal // the signal that asked us to stop (Stop), if any
	closed   bool
	released bool // Close has closed the socket
	history  [historySize]struct {
		frame lockstep.Frame
		sum   uint64
	}
	recorded     lockstep.Frame // last confirmed frame put in history
	lastLog      time.Duration
	lastReminder time.Duration
	reminderWait time.Duration // until the next reminder; 0: waitReminder
	endState     []byte        // the saved state of the end frame, once confirmed
	desyncAt     time.Duration
	peerStat     []lockstep.PeerStats

	peerAddrGiven netip.AddrPort            // -peer, resolved
	adopted       bool                      // the player count was taken from player 0's refusal
	seated        [lockstep.MaxPlayers]bool // player 0 of 3-4: who it has said is in
	ad            *discovery.Advertiser     // player 0's LAN advertisement while it waits
}

// Start opens the socket and prepares the session; it prints the banner to out and returns
// at once. The handshake runs in Tick.
func Start(opts Options, out io.Writer) (*Match, error) {
	if opts.Player != 0 && opts.Peer == "" {
		return nil, fmt.Errorf("player %d has no -peer: find one with FindGame first", opts.Player)
	}
	m := &Match{opts: opts, out: out, end: lockstep.NullFrame, recorded: lockstep.NullFrame}
	m.log = newLogger(opts.Verbose)
	m.clock = transport.NewRealClock()
	udp, err := transport.ListenUDP(opts.Listen)
	if err != nil {
		return nil, err
	}
	m.udp, m.conn = udp, udp
	if opts.Netsim != "" {
		m.conn = transport.NewImpaired(udp, m.clock, opts.NetsimCfg, randomUint64())
	}
	if opts.Peer != "" {
		addr, err := transport.ResolvePeer(opts.Peer)
		if err != nil {
			udp.Close()
			return nil, fmt.Errorf("-peer: %w", err)
		}
		m.peerAddrGiven = addr
	}
	if err := m.newSession(); err != nil {
		udp.Close()
		return nil, err
	}
	if opts.Bot {
		// With -seed the bot plays the same inputs every run, so a headless match (both
		// peers given the seed) ends on the same checksum every time.
		botSeed := randomUint64()
		if opts.Seed != 0 {
			botSeed = opts.Seed*31 + uint64(opts.Player) + 1
		}
		m.bot = NewBot(botSeed)
	}
	if opts.Frames > 0 {
		m.end = lockstep.Frame(opts.Frames)
	}
	m.buf = make([]byte, transport.MaxDatagram)
	m.input = make([]byte, 0, game.InputSize)
	m.status.Player = opts.Player
	m.status.LocalAddr = udp.LocalAddr().String()
	m.status.LANAddrs = LANAddrs()
	if opts.Peer != "" {
		m.status.Peer = m.peerAddrGiven.String()
	}
	m.banner()
	m.startAdvertising()
	return m, nil
}

// hostPlayer is the player this one joins: player 0, or player 1 for a player 0 that was
// given -peer in a 2-player match.
func (m *Match) hostPlayer() int {
	if m.opts.Player == 0 {
		return 1
	}
	return 0
}

// newSession makes the session for opts.Players players. With more than two, a joiner
// knows only player 0's address (-peer); player 0 introduces the others.
func (m *Match) newSession() error {
	opts := m.opts
	peers := make([]netip.AddrPort, opts.Players)
	if opts.Peer != "" {
		peers[m.hostPlayer()] = m.peerAddrGiven
	}
	seed := opts.Seed
	if seed == 0 {
		seed = randomUint64()
	}
	spectators := 0
	if opts.Player == 0 {
		spectators = lockstep.MaxSpectators
	}
	cfg := lockstep.Config{
		Players:           opts.Players,
		Spectators:        spectators,
		InputSize:         game.InputSize,
		InputDelay:        opts.Delay,
		MaxPrediction:     opts.MaxPred,
		InterruptTimeout:  opts.Interrupt,
		DisconnectTimeout: opts.Disconnect,
		ChecksumInterval:  opts.ChecksumInterval,
		Game:              opts.GameDescription(),
		Seed:              seed,
		Secret:            opts.Secret,
		Nonce:             randomUint64(),
		Logger:            m.log,
		DiffStates:        diffStates,
	}
	sess, err := lockstep.NewSession(cfg, opts.Player, peers)
	if err != nil {
		return err
	}
	m.sess = sess
	return nil
}

// adoptPlayerCount starts the handshake again with player 0's player count, for a joiner
// that was not given -players: true if it did (the refusal was only about the count).
func (m *Match) adoptPlayerCount(err error) bool {
	var pc *lockstep.PlayerCountError
	if !errors.As(err, &pc) || m.opts.Player == 0 || m.opts.PlayersSet || m.adopted || pc.Peer < 2 || pc.Peer > lockstep.MaxPlayers {
		return false
	}
	m.adopted = true
	if m.opts.Player >= pc.Peer {
		m.failed(fmt.Errorf("-p %d: the match at %s has %d players (0..%d)", m.opts.Player, m.status.Peer, pc.Peer, pc.Peer-1))
		return true
	}
	m.opts.Players = pc.Peer
	if pc.Peer > 2 && !m.opts.ModeSet {
		m.opts.Mode = game.Versus
	}
	if err := m.newSession(); err != nil {
		m.failed(err)
		return true
	}
	m.status.Phase = PhaseWaiting
	fmt.Fprintf(m.out, "p2pa: the match at %s has %d players (%s); joining as player %d\n", m.status.Peer, pc.Peer, m.opts.Mode, m.opts.Player)
	return true
}

func randomUint64() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:])
}

func newLogger(verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (m *Match) debug(msg string, args ...any) {
	if m.log != nil {
		m.log.Debug(msg, args...)
	}
}

// banner prints who we are and what the other player should type: the LAN addresses when
// we listen on all interfaces, else the one address we are bound to.
func (m *Match) banner() {
	local := m.udp.LocalAddr()
	port := fmt.Sprint(local.Port())
	fmt.Fprintf(m.out, "p2pa: player %d (%s), listening on %s\n", m.opts.Player, m.opts.Mode, local)
	if m.opts.Peer != "" {
		fmt.Fprintf(m.out, "p2pa: joining player %d at %s\n", m.hostPlayer(), m.status.Peer)
		return
	}
	if m.opts.Players > 2 {
		m.bannerMany(local)
		return
	}
	switch {
	case local.Addr().IsUnspecified():
		for _, a := range m.status.LANAddrs {
			fmt.Fprintf(m.out, "p2pa: on the other machine run: p2pa -p 1 -peer %s\n", net.JoinHostPort(a, port))
		}
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p 1 -peer %s\n", net.JoinHostPort("127.0.0.1", port))
	case local.Addr().IsLoopback():
		m.status.LANAddrs = nil // not reachable from another machine
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p 1 -peer %s\n", local)
	default:
		m.status.LANAddrs = []string{local.Addr().String()}
		fmt.Fprintf(m.out, "p2pa: on the other machine run: p2pa -p 1 -peer %s\n", local)
	}
	fmt.Fprintln(m.out, "p2pa: waiting for player 1")
}

// bannerMany is player 0's banner for a 3-4 player match: what the others type, then who
// is awaited (seatedLine keeps it up to date as they come in).
func (m *Match) bannerMany(local netip.AddrPort) {
	port := fmt.Sprint(local.Port())
	seats := fmt.Sprintf("K = 1..%d", m.opts.Players-1)
	switch {
	case local.Addr().IsUnspecified():
		for _, a := range m.status.LANAddrs {
			fmt.Fprintf(m.out, "p2pa: on the other machines run: p2pa -p K -peer %s  (%s)\n", net.JoinHostPort(a, port), seats)
		}
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p K -peer %s  (%s)\n", net.JoinHostPort("127.0.0.1", port), seats)
	case local.Addr().IsLoopback():
		m.status.LANAddrs = nil
		fmt.Fprintf(m.out, "p2pa: on this machine run: p2pa -p K -peer %s  (%s)\n", local, seats)
	default:
		m.status.LANAddrs = []string{local.Addr().String()}
		fmt.Fprintf(m.out, "p2pa: on the other machines run: p2pa -p K -peer %s  (%s)\n", local, seats)
	}
	fmt.Fprintf(m.out, "p2pa: %d players; %s\n", m.opts.Players, m.seatedLine())
}

// seatedLine says who is in and who is awaited: "in: 0, 2; waiting for players 1, 3".
func (m *Match) seatedLine() string {
	in, out := "0", ""
	for p := 1; p < m.opts.Players; p++ {
		if m.seated[p] {
			in += fmt.Sprintf(", %d", p)
		} else if out == "" {
			out = fmt.Sprint(p)
		} else {
			out += fmt.Sprintf(", %d", p)
		}
	}
	if out == "" {
		return "in: " + in + "; all here"
	}
	return "in: " + in + "; waiting for players " + out
}

// LANAddrs lists this machine's non-loopback unicast addresses, IPv4 first.
func LANAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var v4, v6 []string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
			continue
		}
		if ipn.IP.To4() != nil {
			v4 = append(v4, ipn.IP.String())
		} else {
			v6 = append(v6, ipn.IP.String())
		}
	}
	return append(v4, v6...)
}

// Readable signals datagram arrivals, so a loop can hand them over as they come.
func (m *Match) Readable() <-chan struct{} { return m.udp.Readable() }

// State is the game as of the latest frame (possibly predicted); nil before the handshake.
func (m *Match) State() *game.State { return m.state }

// Status is a snapshot for drawing.
func (m *Match) Status() Status {
	m.status.Frame = m.sess.Frame()
	m.status.Confirmed = m.sess.ConfirmedFrame()
	m.status.Stats = m.sess.Stats(m.peerStat[:0])
	m.peerStat = m.status.Stats.Peers
	return m.status
}

// Done reports whether the match is over: the end frame is confirmed and the goodbye is
// sent, or the session failed.
func (m *Match) Done() bool { return m.closed }

// Quit asks to end the match: no more local input is added, and once the peer holds every
// input we played, the match ends at the last of them. Keep calling Tick until Done.
func (m *Match) Quit() {
	if m.quitting {
		return
	}
	m.quitting = true
	m.quitAt = m.clock.Now()
	if !m.sess.Running() {
		return
	}
	last := m.sess.LastLocalFrame() + 1
	if m.end == lockstep.NullFrame || last < m.end {
		m.end = last
	}
	m.debug("quit requested", "end", m.end)
}

// Receive hands every datagram waiting on the socket to the session. During the handshake
// and once the last frame is played it sends the session's replies at once (and checks
// whether the match is over), so the handshake and the goodbye take a few loopback round
// trips instead of one 60 Hz tick per exchange. In between, replies wait for the next Tick:
// they ride on its input datagram (an immediate ack of its own would double the
// datagrams), and the round-trip time is corrected for the time a reply was held.
func (m *Match) Receive() {
	now := m.clock.Now()
	got := false
	for {
		n, from, ok := m.conn.ReadFrom(m.buf)
		if !ok {
			break
		}
		if n > len(m.buf) {
			continue // oversized: the session would drop it anyway
		}
		m.sess.Receive(from, m.buf[:n], now)
		got = true
	}
	if !got || m.closed {
		return
	}
	switch {
	case m.state == nil:
		m.send(m.sess.Outgoing(now))
		m.handleEvents() // the phase and the peer's address, before the first frame prints them
	case m.end != lockstep.NullFrame && m.sess.Frame() >= m.end:
		r, err := m.sess.Step(now, nil) // late inputs confirm the last frames
		m.apply(r.Requests, err)
		m.recordHistory()
		m.send(m.sess.Outgoing(now))
		m.handleEvents()
		m.checkEnd(now)
	}
}

// Synced reports whether the handshake is done and the first frame may be played: a loop
// ticks at once when it turns true, rather than at its next 60 Hz tick.
func (m *Match) Synced() bool { return m.sess.Running() && m.state == nil && !m.closed }

// Serve runs the headless loop: a Tick every 1/60 s, datagrams handed over as they arrive,
// the first frame as soon as the handshake completes. It returns when the match is done or
// until (if not nil) returns true after a step; a value on stop asks the match to end (a
// second one ends it at once). The caller then calls Close.
func (m *Match) Serve(stop <-chan os.Signal, until func() bool) {
	ticker := time.NewTicker(lockstep.DefaultFrameDuration) // the session runs at the default rate
	defer ticker.Stop()
	m.Tick(game.Input{}) // the first sync request goes out now, not a tick from now
	for !m.Done() && (until == nil || !until()) {
		select {
		case <-ticker.C:
			m.Tick(game.Input{})
		case <-m.Readable():
			m.Receive()
			if m.Synced() {
				m.Tick(game.Input{})
				ticker.Reset(lockstep.DefaultFrameDuration) // the frame grid starts at the first frame
			}
		case s := <-stop:
			if m.quitting {
				m.finish() // a second signal: stop now
			}
			m.Stop(s)
		}
	}
}

// Tick runs one frame: receive, advance (unless time sync says wait or the match is
// ending), send. local is this player's input; a bot replaces it with -bot.
func (m *Match) Tick(local game.Input) {
	if m.closed {
		m.answerAfterEnd()
		return
	}
	m.Receive()
	now := m.clock.Now()
	m.status.Waiting = false
	if m.sess.Running() {
		if m.state == nil {
			m.startGame()
		}
		m.advance(local, now)
		m.recordHistory()
	}
	m.send(m.sess.Outgoing(now))
	m.handleEvents()
	m.checkEnd(now)
	m.remindWaiting(now)
	if m.log != nil && now-m.lastLog >= time.Second {
		m.lastLog = now
		m.logStats()
	}
}

// remindWaiting says that a joining player still has no answer, so a mistyped address or
// an absent (or busy) player 0 does not look like a hang: after 5 s, then 10 s later, 20 s,
// and so on, backing off to one line every waitReminderMax.
func (m *Match) remindWaiting(now time.Duration) {
	if m.opts.Peer == "" || m.state != nil || m.closed || m.status.Phase == PhaseFailed {
		return
	}
	if m.reminderWait == 0 {
		m.reminderWait = waitReminder
	}
	if m.status.Phase == PhaseWaiting && now-m.lastReminder >= m.reminderWait {
		fmt.Fprintf(m.out, "p2pa: no answer from %s after %v; is player %d running there (and not already playing)? Still trying.\n",
			m.status.Peer, now.Round(time.Second), m.hostPlayer())
		m.lastReminder = now
		m.reminderWait = min(2*m.reminderWait, waitReminderMax)
	}
}

// logStats writes one line of session statistics (with -v), dropped datagrams included, so
// junk arriving at the port is visible.
func (m *Match) logStats() {
	st := m.sess.Stats(m.peerStat[:0])
	m.peerStat = st.Peers
	args := []any{"state", st.State, "frame", st.Frame, "confirmed", st.ConfirmedFrame,
		"rollbacks", st.Rollbacks, "rollback_frames", st.RollbackFrames, "stalled", m.status.Stalled,
		"dropped", st.Dropped.Total(), "dropped_foreign", st.Dropped.Foreign, "dropped_wrong_tag", st.Dropped.WrongTag,
		"dropped_wrong_version", st.Dropped.WrongVersion, "dropped_malformed", st.Dropped.Malformed,
		"dropped_oversized", st.Dropped.Oversized, "dropped_stale", st.Dropped.Stale,
		"dropped_corrupt", st.Dropped.Corrupt, "dropped_unauthenticated", st.Dropped.Unauthenticated}
	for _, p := range st.Peers {
		args = append(args, "rtt", p.RTT, "advantage", p.LocalAdvantage, "bytes_in_per_s", p.BytesInPerSec, "bytes_out_per_s", p.BytesOutPerSec)
	}
	m.log.Info("stats", args...)
}

func (m *Match) startGame() {
	seed, ok := m.sess.Seed()
	if !ok {
		m.failed(errors.New("start game: the seed is not agreed yet"))
		return
	}
	st, err := game.New(game.Config{Mode: m.opts.Mode, Coins: m.opts.Coins, Players: m.opts.Players, Seed: seed})
	if err != nil {
		m.failed(fmt.Errorf("start game: %w", err))
		return
	}
	m.state = st
	if m.opts.Record != "" {
		m.rec = newRecorder(m.opts, seed)
	}
	fmt.Fprintf(m.out, "p2pa: connected to %s, seed %d\n", m.status.Peer, seed)
}

// advance steps the session once. A bot's input is kept until a Step takes it, so its input
// for frame f depends only on its seed and f, whatever the network does; a human's input is
// read afresh each tick (an old one is stale).
func (m *Match) advance(local game.Input, now time.Duration) {
	if m.state == nil {
		return
	}
	if m.sess.ConnectedPeers() == 0 { // the survivors of a 3-4 player match play on
		m.noteEnd(m.sess.EndFrame())
	}
	if m.end != lockstep.NullFrame {
		if m.sess.Frame() >= m.end {
			// The last frame is played; fold in late remote inputs so it can be confirmed.
			r, err := m.sess.Step(now, nil)
			m.apply(r.Requests, err)
			return
		}
		if m.sess.LastLocalFrame() >= m.end-1 && m.sess.InputDelay() > 0 {
			// Every frame up to the end already holds its local input (input delay): with
			// no delay, the frames left play on those, and what is offered is dropped.
			if err := m.sess.SetInputDelay(0); err != nil {
				m.failed(err)
				return
			}
		}
	}
	if m.bot == nil || !m.pending {
		if m.bot != nil {
			local = m.bot.Next()
		}
		var err error
		if m.input, err = local.AppendBinary(m.input[:0]); err != nil {
			// Only a bug in whatever built local (the window or the bot) gets here.
			m.failed(fmt.Errorf("local input: %w", err))
			return
		}
		m.pending = true
	}
	r, err := m.sess.Step(now, m.input)
	switch r.Status {
	case lockstep.StatusAdvanced:
		m.pending = false
	case lockstep.StatusTimeSync:
		m.status.Waiting = true
	case lockstep.StatusWaiting, lockstep.StatusSendQueueFull:
		m.status.Stalled++
	}
	m.apply(r.Requests, err)
}

// noteEnd moves the end of the match to f if that is earlier: a peer that left or vanished
// played its real inputs up to f, so that is the last frame both sides can vouch for. It is
// checked before advancing, so the end frame's saved state is still at hand when it is
// confirmed.
func (m *Match) noteEnd(f lockstep.Frame) {
	if f >= 0 && (m.end == lockstep.NullFrame || f < m.end) {
		m.end = f
	}
}

func (m *Match) apply(reqs []lockstep.Request, err error) {
	if err != nil {
		m.failed(fmt.Errorf("step: %w", err))
		return
	}
	if len(reqs) == 0 {
		return
	}
	if err := lockstep.Apply(m.state, reqs); err != nil {
		m.failed(err)
	}
}

// recordHistory remembers the checksum of every confirmed frame for a while, so the end
// frame's checksum is at hand even if the end is learned late (from the peer's goodbye).
func (m *Match) recordHistory() {
	c := m.sess.ConfirmedFrame()
	for f := max(m.recorded+1, c-lockstep.Frame(m.opts.MaxPred)); f <= c; f++ {
		sum, ok := m.sess.Checksum(f)
		if !ok {
			continue
		}
		h := &m.history[int(f)%historySize]
		h.frame, h.sum = f, sum
		if m.rec != nil {
			m.rec.confirmed(m.sess, f)
		}
	}
	m.recorded = max(m.recorded, c)
}

func (m *Match) checksumOf(f lockstep.Frame) (uint64, bool) {
	h := m.history[int(f)%historySize]
	return h.sum, h.frame == f
}

func (m *Match) send(ds []lockstep.Datagram) {
	for _, d := range ds {
		if err := m.conn.WriteTo(d.Data, d.To); err != nil {
			m.debug("send", "to", d.To, "err", err)
		}
	}
}

func (m *Match) handleEvents() {
	for _, e := range m.sess.Events() {
		m.debug("session event", "event", e.String())
		if m.status.Phase == PhaseFailed {
			// Failed is final: checkEnd ends the match on it, so no later event may hide
			// it (a handshake that made progress after failing used to, and the match
			// then waited for ever).
			continue
		}
		switch e.Kind {
		case lockstep.EventSynchronizing:
			m.status.Phase = PhaseSynchronizing
			m.status.Progress, m.status.Total = e.Progress, e.Total
			if m.status.Peer == "" {
				m.status.Peer = m.peerAddr()
			}
			if m.opts.Player == 0 && m.opts.Players > 2 && e.Progress == e.Total && !m.seated[e.Player] {
				m.seated[e.Player] = true
				fmt.Fprintf(m.out, "p2pa: player %d is in (%s); %s\n", e.Player, m.sess.PeerAddr(e.Player), m.seatedLine())
			}
		case lockstep.EventRunning:
			m.status.Phase = PhaseRunning
			m.stopAdvertising() // the match is full
			m.status.Peer = m.peerAddr()
		case lockstep.EventInterrupted:
			m.status.Phase = PhaseInterrupted
			fmt.Fprintf(m.out, "p2pa: player %d interrupted; waiting up to %v\n", e.Player, max(e.Timeout.Round(time.Second), time.Second))
		case lockstep.EventResumed:
			m.status.Phase = PhaseRunning
			fmt.Fprintf(m.out, "p2pa: player %d resumed\n", e.Player)
		case lockstep.EventDisconnected, lockstep.EventPeerLeft:
			if m.opts.Players > 2 {
				m.playerLeft(e)
				continue
			}
			if m.status.Phase == PhaseDesync || m.status.Phase == PhaseFailed {
				// Keep showing what went wrong; the peer's leaving is the lesser news.
			} else if e.Kind == lockstep.EventPeerLeft {
				m.status.Phase = PhasePeerLeft
				if m.opts.Frames > 0 && e.Frame >= lockstep.Frame(m.opts.Frames) {
					fmt.Fprintf(m.out, "p2pa: peer finished frame %d too\n", m.opts.Frames)
				} else {
					fmt.Fprintf(m.out, "p2pa: peer left at frame %d\n", e.Frame)
				}
			} else {
				m.status.Phase = PhaseDisconnected
				fmt.Fprintf(m.out, "p2pa: peer disconnected at frame %d\n", e.Frame)
			}
			m.noteEnd(e.Frame)
		case lockstep.EventDesync:
			m.status.Phase = PhaseDesync
			m.desyncAt = m.clock.Now()
			fmt.Fprintf(m.out, "p2pa: desync at frame %d (ours %016x, peer's %016x)\n", e.Frame, e.Local, e.Remote)
			m.writeDesyncState()
		case lockstep.EventFailed:
			if m.adoptPlayerCount(e.Err) {
				return // a new session, or a clear refusal: the old one's events are over
			}
			m.failed(e.Err)
		}
	}
}

// playerLeft reports a departure from a 3-4 player match. The survivors agreed on its
// frame (the engine did), so each prints the same line, and they play on; the match ends
// there only when nobody else is left.
func (m *Match) playerLeft(e lockstep.Event) {
	if m.status.Phase == PhaseDesync || m.status.Phase == PhaseFailed {
		return // keep showing what went wrong
	}
	if m.opts.Frames > 0 && e.Frame >= lockstep.Frame(m.opts.Frames) {
		fmt.Fprintf(m.out, "p2pa: player %d finished frame %d too\n", e.Player, m.opts.Frames)
	} else {
		fmt.Fprintf(m.out, "p2pa: player %d left at frame %d\n", e.Player, e.Frame)
	}
	if m.sess.ConnectedPeers() > 0 {
		return
	}
	if e.Kind == lockstep.EventPeerLeft {
		m.status.Phase = PhasePeerLeft
	} else {
		m.status.Phase = PhaseDisconnected
	}
	m.noteEnd(e.Frame)
}

func (m *Match) peerAddr() string {
	if m.opts.Peer != "" {
		return m.status.Peer
	}
	return m.sess.PeerAddr(1 - m.opts.Player).String()
}

func (m *Match) failed(err error) {
	if m.status.Phase == PhaseFailed {
		return
	}
	m.status.Phase = PhaseFailed
	m.status.Err = err
}

// writeDesyncState saves our copy of the desynced frame's state, for p2pa -diff.
func (m *Match) writeDesyncState() {
	f, state, ok := m.sess.DesyncState()
	if !ok {
		return
	}
	name := fmt.Sprintf("p2pa-desync-frame%d-player%d.state", f, m.opts.Player)
	if err := WriteFileAtomic(name, state); err != nil {
		fmt.Fprintf(m.out, "p2pa: could not write %s: %v\n", name, err)
		return
	}
	abs, _ := filepath.Abs(name)
	m.status.DesyncFile = abs
	fmt.Fprintf(m.out, "p2pa: wrote our state of frame %d to %s; compare with the peer's: p2pa -diff A B\n", f, abs)
}

// checkEnd closes the match once its end frame is confirmed and the peer has every input
// we played (or it is gone, or it took too long).
func (m *Match) checkEnd(now time.Duration) {
	switch {
	case m.status.Phase == PhaseFailed || m.status.Phase == PhaseDesync:
		// A window keeps showing the desync until the player quits; headless, nobody is
		// there to read it, so the match ends (after the session has told the peer).
		if m.quitting || m.status.Phase == PhaseFailed || (m.opts.Headless && m.status.Phase == PhaseDesync && now-m.desyncAt >= desyncLinger) {
			m.finish()
		}
		return
	case !m.sess.Running():
		if m.quitting {
			m.finish()
		}
		return
	case m.end == lockstep.NullFrame:
		return
	}
	if !m.endKnown {
		if m.sess.ConfirmedFrame() < m.end {
			if !(m.quitting && now-m.quitAt > lingerMax) {
				return
			}
		} else if sum, ok := m.checksumOf(m.end); ok {
			m.endSum, m.endKnown = sum, true
		} else if sum, ok := m.sess.Checksum(m.end); ok {
			m.endSum, m.endKnown = sum, true
		}
		if m.endKnown {
			if st, ok := m.sess.SavedState(m.end); ok {
				m.endState = append(m.endState[:0], st...)
			}
		}
	}
	if m.sess.Unacknowledged() > 0 && (m.quitAt == 0 || now-m.quitAt < lingerMax) {
		if m.quitAt == 0 {
			m.quitAt = now
		}
		return
	}
	m.finish()
}

// answerAfterEnd keeps reading the socket of a finished match that is not closed yet (a
// window stays on its end screen until Esc): a peer we dropped for silence may resume and
// go on sending, and the session answers it with a goodbye, so it ends at once on our end
// frame rather than showing an interruption until its own timeout.
func (m *Match) answerAfterEnd() {
	if m.released {
		return
	}
	m.Receive()
	m.send(m.sess.Outgoing(m.clock.Now()))
}

// finish says goodbye and marks the match done. The result line is printed by Close.
func (m *Match) finish() {
	if m.closed {
		return
	}
	m.send(m.sess.Close(m.clock.Now()))
	m.closed = true
}

// FinalState is the game at the match's end frame, the one the result line reports, once
// the match is done: both peers' final states are identical, unlike State, which may have
// run a few predicted frames further. ok is false if the end was never confirmed.
func (m *Match) FinalState() (*game.State, bool) {
	if !m.endKnown || len(m.endState) == 0 {
		return nil, false
	}
	st, err := game.Decode(m.endState)
	if err != nil || uint64(st.Checksum()) != m.endSum {
		return nil, false
	}
	return st, true
}

// ResultLine is the line scripts read: the end frame, its checksum, our rollbacks and RTT.
func (m *Match) ResultLine() string {
	st := m.sess.Stats(nil)
	rtt := 0.0
	if len(st.Peers) > 0 {
		rtt = float64(st.Peers[0].RTT) / float64(time.Millisecond)
	}
	frame, sum := m.end, m.endSum
	if !m.endKnown {
		frame = m.sess.ConfirmedFrame()
		sum, _ = m.checksumOf(frame)
	}
	frame = max(frame, 0)
	return fmt.Sprintf("frame=%d checksum=%016x rollbacks=%d rtt_ms=%.2f", frame, sum, st.Rollbacks, rtt)
}

// Close ends the match at once if it is not done yet, releases the socket, finishes the
// recording and prints the result line as the last line. It returns the error that ended
// the match, if any, for the caller to report (on stderr).
func (m *Match) Close() error {
	m.stopAdvertising()
	m.finish()
	m.conn.Close()
	m.released = true
	var recErr error
	if m.rec != nil {
		if m.endKnown {
			recErr = m.rec.finish(m.end, m.endSum)
		} else {
			recErr = errors.New("the match ended before its last frame was confirmed; nothing recorded")
		}
	}
	err := m.status.Err
	if errors.Is(m.sess.Err(), lockstep.ErrDesync) {
		err = m.sess.Err() // whatever happened after it, the desync is the news
	}
	if err == nil && m.opts.Frames > 0 && !m.quitting && m.state != nil && m.end < lockstep.Frame(m.opts.Frames) {
		// Asked for -frames N, the peer went away first: a script must not mistake this
		// for a finished match.
		err = fmt.Errorf("the match ended at frame %d, before -frames %d: %s", max(m.end, 0), m.opts.Frames, endReason(m.status.Phase))
	}
	if intr := m.interrupted(); intr != nil {
		err = errors.Join(err, intr)
	}
	if recErr != nil {
		fmt.Fprintf(m.out, "p2pa: recording: %v\n", recErr)
	}
	if m.state != nil {
		scores := ""
		if m.state.Mode() == game.Versus {
			scores = " scores="
			for p := range m.state.Players() {
				if p > 0 {
					scores += ","
				}
				scores += fmt.Sprint(m.state.Score(p))
			}
		}
		fmt.Fprintf(m.out, "score=%d%s round=%d coins_left=%d\n", m.state.TotalScore(), scores, m.state.Round(), m.state.CoinsLeft())
		fmt.Fprintln(m.out, m.ResultLine())
	}
	if err == nil {
		err = recErr
	}
	return err
}

// endReason says in words why a match that did not reach -frames ended in phase p.
// Phase names are for the screen ("peer left"), not sentences, so each gets its own.
func endReason(p Phase) string {
	switch p {
	case PhasePeerLeft:
		return "the peer left"
	case PhaseDisconnected:
		return "the peer stopped answering (disconnected)"
	}
	return "the match was " + p.String()
}

// WriteFileAtomic writes data to name through a temporary file and a rename, so a reader
// never sees half a file.
func WriteFileAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp)
		return errors.Join(werr, cerr)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func diffStates(a, b []byte) string {
	d, err := game.Diff(a, b)
	if err != nil {
		return err.Error()
	}
	return d
}
