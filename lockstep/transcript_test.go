package lockstep

// Transcript tests: scripted sessions with golden output, in the style of etcd raft's
// interaction tests. Each file in testdata/transcripts is a list of blocks:
//
//	# comment lines
//	command arg=value ...
//	----
//	output
//
// separated by blank lines. The harness runs every command and compares its output with the
// block's; go test -run TestTranscripts -rewrite writes the current output instead (review
// the diff before committing it). The output stays at the level of frames, statuses, events
// and message kinds, never raw bytes, so a change of the wire encoding needs no rewrite and a
// change of behaviour shows up as a readable diff.
//
// Commands (p, from, to are player numbers; times are in 60 Hz ticks):
//
//	new players=N [latency=T] [delay=D] [maxpred=M] [interval=C] [spectators=S] [pad=B] [rejoin] [stop]
//	        N sessions over links of T ticks each way; player 0 learns the others'
//	        addresses in the handshake. C is Config.ChecksumInterval; S spectators may
//	        watch each player (each keeps their history); B bytes pad the game's saved state (a handover in several
//	        chunks); rejoin sets Config.Rejoin; stop sets Config.StopOnDesync. Each player's sessions are the legs of a
//	        Match, and frames are the match's.
//	input p=P value=V          player P's input byte from now on
//	tick [n=K]                 K ticks: each player receives what is due, steps, sends;
//	                           prints each player's frame, confirmed frame, statuses and
//	                           the kinds of datagrams it sent
//	link from=A to=B up|down|hold
//	                           down: what A sends B is lost; hold: it waits for deliver
//	deliver [from=A] [to=B]    hand over every held or in-flight datagram now
//	drop [from=A] [to=B]       lose them
//	stop p=P                   P steps with no input from now on (Step(now, nil))
//	vanish p=P                 P stops dead: no goodbye, no ticks
//	close p=P                  P says goodbye (Close) and stops ticking
//	delay p=P frames=D         SetInputDelay
//	skew p=P                   P's game starts to diverge (a bug outside the saved state)
//	corrupt p=P at=F           P's game diverges once: its state at frame F, every time
//	                           it is computed, is off by one
//	events                     events since the last "events", per player
//	checksums                  each player's checksum of the latest frame all confirmed
//	stats                      state, frames, rollbacks and peer states per player
//	leg p=P for=Q              P pauses for Q, who dropped, and opens the next leg of the
//	                           match from its confirmed frame (Match.Pause, NextLeg, Open);
//	                           the leg before is kept alive until the next one runs
//	restart p=P                P's process starts again: a fresh session, which finds the
//	                           match in progress and is handed its state
//	watch [p=P]                a spectator of player P (0) joins (s0, s1, …: ticks print
//	                           its frame, the frames it holds and its feeder if not p0)

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden output of transcript tests")

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runTranscript(t, file)
		})
	}
}

type transcriptBlock struct {
	comments []string
	command  string
	want     string
	line     int
}

func parseTranscript(t *testing.T, file string) []transcriptBlock {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []transcriptBlock
	var cur transcriptBlock
	inOutput := false
	sc := bufio.NewScanner(f)
	n := 0
	var out []string
	flush := func() {
		if cur.command != "" {
			cur.want = strings.Join(out, "\n")
			blocks = append(blocks, cur)
		}
		cur, out, inOutput = transcriptBlock{}, nil, false
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case inOutput && line == "":
			flush()
		case inOutput:
			out = append(out, line)
		case line == "----":
			if cur.command == "" {
				t.Fatalf("%s:%d: output without a command", file, n)
			}
			inOutput = true
		case strings.HasPrefix(line, "#"):
			cur.comments = append(cur.comments, line)
		case line == "":
			if cur.command != "" {
				t.Fatalf("%s:%d: command %q has no ---- line", file, n, cur.command)
			}
		default:
			if cur.command != "" {
				t.Fatalf("%s:%d: two commands in one block", file, n)
			}
			cur.command, cur.line = line, n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return blocks
}

func runTranscript(t *testing.T, file string) {
	blocks := parseTranscript(t, file)
	h := &transcript{t: t}
	var b strings.Builder
	for i, bl := range blocks {
		got, err := h.run(bl.command)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", file, bl.line, bl.command, err)
		}
		if got == "" {
			got = "ok"
		}
		if *rewrite {
			if i > 0 {
				b.WriteString("\n")
			}
			for _, c := range bl.comments {
				b.WriteString(c + "\n")
			}
			b.WriteString(bl.command + "\n----\n" + got + "\n")
			continue
		}
		if got != bl.want {
			t.Errorf("%s:%d: %s\n--- got\n%s\n--- want\n%s", file, bl.line, bl.command, got, bl.want)
		}
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// transcriptGame is the toy game plus a deliberate bug: with skew set, every frame adds
// something the saved state does not hold, so this peer's states drift from the others'.
type transcriptGame struct {
	toyGame
	skew      bool
	corruptAt int64 // the frame whose state is off by one (corrupt); 0: none
	pad       int   // bytes of padding after the toy state: a state handed over in several chunks
}

func (g *transcriptGame) SaveState(dst []byte) []byte {
	dst = g.toyGame.SaveState(dst)
	for i := range g.pad {
		dst = append(dst, byte(i)) // not zeros: a chunk put in the wrong place shows
	}
	return dst
}

func (g *transcriptGame) LoadState(b []byte) error {
	if len(b) != 16+g.pad {
		return fmt.Errorf("transcript state: %d bytes, want %d", len(b), 16+g.pad)
	}
	return g.toyGame.LoadState(b[:16])
}

func (g *transcriptGame) AdvanceFrame(inputs []byte) {
	g.toyGame.AdvanceFrame(inputs)
	if g.skew || (g.corruptAt > 0 && g.frame == g.corruptAt) {
		g.sum++
	}
}

type wireMsg struct {
	from, to int
	due      int // tick at which it arrives, on an up link
	data     []byte
}

type linkMode uint8

const (
	linkUp linkMode = iota
	linkDown
	linkHold
)

type transcriptPeer struct {
	s       *Session // the current leg: m.Session()
	m       *Match
	cfg     Config
	addrs   []netip.AddrPort
	g       transcriptGame
	input   byte
	stopped bool // steps with no input: only folds in late remote inputs
	joined  bool // the first leg's start was looked at (noteLeg)
	gone    bool
	events  []string
	status  []string // statuses of the ticks of the current "tick" command, run-length coded
	sent    []string // kinds sent during the current "tick" command
	maxBack int
}

// transcriptSpectator is a spectator of player 0 in a transcript.
type transcriptSpectator struct {
	sp     *Spectator
	g      toyGame
	sent   []string
	events []string
}

// spectatorIndex is where spectators start among the transcript's addresses (h.addr).
const spectatorIndex = 100

type transcript struct {
	t       *testing.T
	peers   []*transcriptPeer
	specs   []*transcriptSpectator
	latency int
	now     int // ticks
	wire    []wireMsg
	links   map[[2]int]linkMode
}

func (h *transcript) addr(p int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + p)}), 7000)
}

func (h *transcript) player(a netip.AddrPort) int {
	for p := range h.peers {
		if h.addr(p) == a {
			return p
		}
	}
	for i := range h.specs {
		if h.addr(spectatorIndex+i) == a {
			return spectatorIndex + i
		}
	}
	return -1
}

func (h *transcript) clock() time.Duration { return time.Duration(h.now) * tick }

type args map[string]string

func (a args) int(key string, def int) (int, error) {
	v, ok := a[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", key, v, err)
	}
	return n, nil
}

func (h *transcript) run(line string) (string, error) {
	fields := strings.Fields(line)
	cmd, a, flags := fields[0], args{}, map[string]bool{}
	for _, f := range fields[1:] {
		if k, v, ok := strings.Cut(f, "="); ok {
			a[k] = v
		} else {
			flags[f] = true
		}
	}
	if cmd != "new" && h.peers == nil {
		return "", fmt.Errorf("no sessions yet: start with new")
	}
	p, err := a.int("p", -1)
	if err != nil {
		return "", err
	}
	if _, ok := a["p"]; ok && (p < 0 || p >= len(h.peers)) {
		return "", fmt.Errorf("no player %d", p)
	}
	switch cmd {
	case "new":
		return h.newSessions(a, flags)
	case "input", "tick", "delay", "corrupt":
		return h.runNumeric(cmd, p, a)
	case "link":
		return "", h.link(a, flags)
	case "deliver", "drop":
		from, _ := a.int("from", -1)
		to, _ := a.int("to", -1)
		return h.deliverOrDrop(cmd == "deliver", from, to), nil
	case "stop", "vanish", "close", "skew":
		return h.runPeer(cmd, p), nil
	case "events", "checksums", "stats":
		return h.report(cmd), nil
	case "leg", "restart", "watch":
		return h.runLegs(cmd, p, a)
	}
	return "", fmt.Errorf("unknown command %q", cmd)
}

// runLegs runs the commands of rejoins and spectators: leg, restart, watch.
func (h *transcript) runLegs(cmd string, p int, a args) (string, error) {
	switch cmd {
	case "leg":
		q, err := a.int("for", -1)
		if err != nil || q < 0 || q >= len(h.peers) || p < 0 {
			return "", fmt.Errorf("leg needs p= and for=")
		}
		return h.leg(p, q)
	case "restart":
		if p < 0 {
			return "", fmt.Errorf("restart needs p=")
		}
		return h.restart(p)
	}
	return h.watch(max(p, 0))
}

// runPeer runs the commands on one peer: stop, vanish, close, skew.
func (h *transcript) runPeer(cmd string, p int) string {
	pr := h.peers[p]
	switch cmd {
	case "stop":
		pr.stopped = true
	case "vanish":
		pr.gone = true
	case "close":
		for _, d := range pr.s.Close(h.clock()) {
			h.send(p, d)
		}
		pr.gone = true
		return fmt.Sprintf("p%d: %v", p, pr.s.State())
	case "skew":
		pr.g.skew = true
	}
	return ""
}

// report runs the commands that print what happened: events, checksums, stats.
func (h *transcript) report(cmd string) string {
	switch cmd {
	case "events":
		return h.events()
	case "checksums":
		return h.checksums()
	}
	return h.stats()
}

// runNumeric runs the commands that take one number: input value=, tick n=, delay frames=,
// corrupt at=.
func (h *transcript) runNumeric(cmd string, p int, a args) (string, error) {
	key, def := map[string]string{"input": "value", "tick": "n", "delay": "frames", "corrupt": "at"}[cmd], map[string]int{"tick": 1}[cmd]
	v, err := a.int(key, def)
	if err != nil {
		return "", err
	}
	switch cmd {
	case "corrupt":
		if p < 0 || v <= 0 {
			return "", fmt.Errorf("corrupt needs p= and at=")
		}
		h.peers[p].g.corruptAt = int64(v)
	case "input":
		h.peers[p].input = byte(v)
	case "tick":
		return h.tick(v), nil
	case "delay":
		return "", h.peers[p].s.SetInputDelay(v)
	}
	return "", nil
}

// link sets the link from= to= up, down or on hold.
func (h *transcript) link(a args, flags map[string]bool) error {
	from, err1 := a.int("from", -1)
	to, err2 := a.int("to", -1)
	if err1 != nil || err2 != nil || from < 0 || to < 0 {
		return fmt.Errorf("link needs from= and to=")
	}
	switch {
	case flags["up"]:
		h.links[[2]int{from, to}] = linkUp
	case flags["down"]:
		h.links[[2]int{from, to}] = linkDown
	case flags["hold"]:
		h.links[[2]int{from, to}] = linkHold
	default:
		return fmt.Errorf("link: up, down or hold?")
	}
	return nil
}

// events prints and forgets every peer's events so far.
func (h *transcript) events() string {
	var out []string
	for i, pr := range h.peers {
		for _, e := range pr.events {
			out = append(out, fmt.Sprintf("p%d: %s", i, e))
		}
		pr.events = pr.events[:0]
	}
	for i, ts := range h.specs {
		for _, e := range ts.events {
			out = append(out, fmt.Sprintf("s%d: %s", i, e))
		}
		ts.events = ts.events[:0]
	}
	return strings.Join(out, "\n")
}

func (h *transcript) newSessions(a args, flags map[string]bool) (string, error) {
	n, err := a.int("players", 2)
	if err != nil {
		return "", err
	}
	if h.latency, err = a.int("latency", 1); err != nil {
		return "", err
	}
	delay, err := a.int("delay", 0)
	if err != nil {
		return "", err
	}
	maxpred, err := a.int("maxpred", 0)
	if err != nil {
		return "", err
	}
	interval, err := a.int("interval", 0)
	if err != nil {
		return "", err
	}
	spectators, err := a.int("spectators", 0)
	if err != nil {
		return "", err
	}
	rejoin := flags["rejoin"]
	pad, err := a.int("pad", 0)
	if err != nil {
		return "", err
	}
	h.peers, h.specs, h.wire, h.links, h.now = nil, nil, nil, map[[2]int]linkMode{}, 0
	for p := range n {
		addrs := make([]netip.AddrPort, n)
		for q := range n {
			if p != 0 {
				addrs[q] = h.addr(q)
			}
		}
		cfg := Config{Players: n, InputSize: 1, InputDelay: delay, MaxPrediction: maxpred,
			ChecksumInterval: interval, Game: "transcript", Seed: uint64(100 + p), Nonce: uint64(p + 1),
			Rejoin: rejoin}
		if flags["stop"] {
			cfg.StopOnDesync = true
		}
		cfg.Spectators = spectators // every player keeps the history: any may feed them
		s, err := NewSession(cfg, p, addrs)
		if err != nil {
			return "", err
		}
		h.peers = append(h.peers, &transcriptPeer{s: s, m: NewMatch(s), cfg: cfg, addrs: addrs, g: transcriptGame{pad: pad}})
	}
	out := fmt.Sprintf("%d players, latency %d ticks, input delay %d", n, h.latency, delay)
	if rejoin {
		out += ", rejoin"
	}
	return out, nil
}

func (h *transcript) send(from int, d Datagram) {
	to := h.player(d.To)
	if to < 0 {
		h.t.Fatalf("p%d sends to %v, nobody's address", from, d.To)
	}
	switch h.links[[2]int{from, to}] {
	case linkDown:
		return
	case linkHold:
		h.wire = append(h.wire, wireMsg{from: from, to: to, due: -1, data: slices.Clone(d.Data)})
	default:
		h.wire = append(h.wire, wireMsg{from: from, to: to, due: h.now + h.latency, data: slices.Clone(d.Data)})
	}
}

// msgKind names a datagram by its message type: the one place the transcripts look inside
// the wire format.
func msgKind(data []byte) string {
	hd, err := parseHeader(data)
	if err != nil {
		return "malformed"
	}
	switch hd.typ {
	case msgSyncRequest:
		return "sync-request"
	case msgSyncReply:
		return "sync-reply"
	case msgInput:
		return "input"
	case msgBye:
		return "bye"
	case msgIntro:
		return "intro"
	case msgReject:
		return "reject"
	case msgWatch:
		return "watch"
	case msgWatchAck:
		return "watch-ack"
	case msgState:
		return "state"
	case msgStateAck:
		return "state-ack"
	case msgResync:
		return "resync"
	case msgResyncAck:
		return "resync-ack"
	case msgWatchPlayers:
		return "watch-players"
	case msgWatchState:
		return "watch-state"
	}
	return fmt.Sprintf("type-%d", hd.typ)
}

func (h *transcript) tick(n int) string {
	for _, pr := range h.peers {
		pr.status, pr.sent, pr.maxBack = pr.status[:0], pr.sent[:0], 0
	}
	for range n {
		now := h.clock()
		for i, pr := range h.peers {
			if pr.gone {
				continue
			}
			h.receive(i, func(from netip.AddrPort, d []byte) { pr.m.Receive(from, d, now) })
			in := []byte{pr.input}
			if pr.stopped {
				in = nil
			}
			status, reqs, err := pr.s.Step(now, in)
			if err != nil {
				h.t.Fatalf("p%d: %v", i, err)
			}
			if err := Apply(&pr.g, reqs); err != nil {
				h.t.Fatalf("p%d: %v", i, err)
			}
			pr.status = append(pr.status, status.String())
			pr.maxBack = max(pr.maxBack, pr.s.sync.lastRollback)
			h.sendAll(i, pr)
			for _, e := range pr.s.Events() {
				pr.events = append(pr.events, fmt.Sprintf("t=%d %s", h.now, eventLine(e)))
			}
			h.noteLeg(i, pr)
		}
		h.tickSpectators(now)
		h.now++
	}
	var out []string
	for i, pr := range h.peers {
		if pr.gone {
			out = append(out, fmt.Sprintf("p%d: gone", i))
			continue
		}
		line := fmt.Sprintf("p%d: frame %d, confirmed %d; %s", i, pr.m.Frame(), pr.m.ConfirmedFrame(), runLength(pr.status))
		if pr.maxBack > 0 {
			line += fmt.Sprintf("; rollback %d", pr.maxBack)
		}
		if len(pr.sent) > 0 {
			line += "; sent " + runLength(pr.sent)
		}
		out = append(out, line)
	}
	for i, ts := range h.specs {
		line := fmt.Sprintf("s%d: %v, frame %d, held %d", i, ts.sp.State(), ts.sp.Frame(), ts.sp.Held())
		if f := ts.sp.Feeder(); f != 0 {
			line += fmt.Sprintf(", fed by p%d", f)
		}
		if ts.sp.Ended() {
			line += ", ended"
		}
		if len(ts.sent) > 0 {
			line += "; sent " + runLength(ts.sent)
		}
		ts.sent = ts.sent[:0]
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// spectatorChecksum compares spectator i's state with the first player's that still holds
// the checksum of the spectator's frame.
func (h *transcript) spectatorChecksum(i int, ts *transcriptSpectator) string {
	f := ts.sp.Frame()
	line := fmt.Sprintf("s%d: frame %d checksum %016x", i, f, ts.g.checksum())
	for p, pr := range h.peers {
		if pr.gone {
			continue
		}
		if sum, ok := pr.m.Checksum(f); ok {
			verdict := "agrees"
			if sum != ts.g.checksum() {
				verdict = "DIFFERS"
			}
			return line + fmt.Sprintf(", %s with p%d", verdict, p)
		}
	}
	return line + ", no player holds that frame"
}

// sendAll sends what player i's legs have to send: the previous one's too, while a pause
// keeps it alive (its events no longer matter).
func (h *transcript) sendAll(i int, pr *transcriptPeer) {
	now := h.clock()
	if prev := pr.m.Previous(); prev != nil {
		for _, d := range prev.Outgoing(now) {
			pr.sent = append(pr.sent, msgKind(d.Data))
			h.send(i, d)
		}
		prev.Events()
	}
	for _, d := range pr.s.Outgoing(now) {
		pr.sent = append(pr.sent, msgKind(d.Data))
		h.send(i, d)
	}
}

// noteLeg ends a pause whose next leg runs, and notices a first leg that joined a match in
// progress, as the runner does.
func (h *transcript) noteLeg(i int, pr *transcriptPeer) {
	if !pr.s.Running() {
		return
	}
	if pr.m.Previous() != nil {
		pr.m.Resumed()
		pr.events = append(pr.events, fmt.Sprintf("t=%d leg resumed at match frame %d", h.now, pr.m.Base()))
	}
	if !pr.joined {
		pr.joined = true
		if pr.m.Joined() {
			pr.events = append(pr.events, fmt.Sprintf("t=%d joined at match frame %d", h.now, pr.m.Base()))
		}
	}
}

// eventLine is an event without what depends on the clock's fine grain or the wire.
func eventLine(e Event) string {
	switch e.Kind {
	case EventRunning:
		return fmt.Sprintf("running seed=%d", e.Seed)
	case EventDesync:
		if e.Err != nil {
			return fmt.Sprintf("desync at frame %d with player %d: %v", e.Frame, e.Player, e.Err)
		}
		return fmt.Sprintf("desync at frame %d with player %d", e.Frame, e.Player)
	case EventDisconnected, EventPeerLeft:
		return fmt.Sprintf("%s frame=%d", e, e.Frame)
	}
	return e.String()
}

// runLength writes "a a a b" as "a×3 b".
func runLength(items []string) string {
	var parts []string
	for i := 0; i < len(items); {
		j := i
		for j < len(items) && items[j] == items[i] {
			j++
		}
		if j-i == 1 {
			parts = append(parts, items[i])
		} else {
			parts = append(parts, fmt.Sprintf("%s×%d", items[i], j-i))
		}
		i = j
	}
	return strings.Join(parts, " ")
}

func (h *transcript) deliverOrDrop(deliver bool, from, to int) string {
	var out []string
	keep := h.wire[:0]
	var chosen []wireMsg
	for _, m := range h.wire {
		if (from < 0 || m.from == from) && (to < 0 || m.to == to) {
			chosen = append(chosen, m)
			continue
		}
		keep = append(keep, m)
	}
	h.wire = keep
	verb := "dropped"
	if deliver {
		verb = "delivered"
	}
	for _, m := range chosen {
		out = append(out, fmt.Sprintf("%s p%d→p%d %s", verb, m.from, m.to, msgKind(m.data)))
		if deliver && m.to < len(h.peers) && !h.peers[m.to].gone {
			h.peers[m.to].m.Receive(h.addr(m.from), m.data, h.clock())
		}
	}
	if len(out) == 0 {
		return "nothing " + verb
	}
	return strings.Join(out, "\n")
}

func (h *transcript) checksums() string {
	common := Frame(-1)
	for _, pr := range h.peers {
		if c := pr.m.ConfirmedFrame(); !pr.gone && (common < 0 || c < common) {
			common = c
		}
	}
	var out []string
	var sums []uint64
	for i, pr := range h.peers {
		if pr.gone {
			continue
		}
		sum, ok := pr.m.Checksum(common)
		if !ok {
			out = append(out, fmt.Sprintf("p%d: frame %d forgotten (confirmed %d)", i, common, pr.m.ConfirmedFrame()))
			continue
		}
		sums = append(sums, sum)
		out = append(out, fmt.Sprintf("p%d: frame %d checksum %016x", i, common, sum))
	}
	for i, ts := range h.specs {
		out = append(out, h.spectatorChecksum(i, ts))
	}
	if len(sums) > 1 {
		verdict := "agree"
		for _, v := range sums[1:] {
			if v != sums[0] {
				verdict = "DIFFER"
			}
		}
		out = append(out, verdict)
	}
	return strings.Join(out, "\n")
}

func (h *transcript) stats() string {
	var out []string
	for i, pr := range h.peers {
		st := pr.s.Stats(nil)
		line := fmt.Sprintf("p%d: %v, frame %d, confirmed %d, rollbacks %d (max depth %d), delay %d", i, st.State,
			pr.m.MatchFrame(st.Frame), pr.m.MatchFrame(st.ConfirmedFrame), st.Rollbacks, st.MaxRollbackDepth, pr.s.InputDelay())
		if end := pr.s.EndFrame(); end != NullFrame {
			line += fmt.Sprintf(", end frame %d", pr.m.MatchFrame(end))
		}
		for _, ps := range st.Peers {
			line += fmt.Sprintf("; p%d %v", ps.Player, ps.State)
			if ps.Interrupted {
				line += " interrupted"
			}
			if ps.SendQueue > 0 {
				line += fmt.Sprintf(" unacked %d", ps.SendQueue)
			}
		}
		if err := pr.s.Err(); errors.Is(err, ErrDesync) {
			line += "; err: desync" // the message holds checksums: game and hash details
		} else if err != nil {
			line += "; err: " + err.Error()
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// leg opens player p's next leg of the match, paused for player q, from its confirmed
// frame, as netplay's runner does.
func (h *transcript) leg(p, q int) (string, error) {
	pr := h.peers[p]
	old := pr.s
	end := pr.m.Pause(q, old.EndFrame())
	from := min(end, old.ConfirmedFrame(), old.Frame())
	var state []byte
	if from == old.Frame() {
		state = pr.g.SaveState(nil)
	} else if st, ok := old.SavedState(from); ok {
		state = slices.Clone(st)
	}
	if from < 0 || len(state) == 0 {
		return "", fmt.Errorf("p%d: no state to resume from at frame %d", p, from)
	}
	cfg, peers := pr.m.NextLeg(pr.cfg, from, state, pr.addrs)
	start := pr.m.MatchFrame(from)
	cfg.Nonce += 1000 // each leg its own session nonce
	next, err := NewSession(cfg, p, peers)
	if err != nil {
		return "", err
	}
	if err := pr.g.LoadState(state); err != nil {
		return "", err
	}
	pr.m.Open(next, from, h.clock(), 0)
	pr.s = next
	return fmt.Sprintf("p%d: next leg from match frame %d", p, start), nil
}

// restart starts player p's process again: a fresh session and game.
func (h *transcript) restart(p int) (string, error) {
	pr := h.peers[p]
	cfg := pr.cfg
	cfg.Nonce += 2000
	s, err := NewSession(cfg, p, pr.addrs)
	if err != nil {
		return "", err
	}
	*pr = transcriptPeer{s: s, m: NewMatch(s), cfg: cfg, addrs: pr.addrs, input: pr.input, events: pr.events,
		g: transcriptGame{pad: pr.g.pad}}
	// The new process has a new socket: what was sent to the dead one is lost.
	h.wire = slices.DeleteFunc(h.wire, func(m wireMsg) bool { return m.to == p })
	return "", nil
}

// watch adds a spectator of player p.
func (h *transcript) watch(p int) (string, error) {
	sp, err := NewSpectator(Config{Nonce: uint64(500 + len(h.specs))}, h.addr(p))
	if err != nil {
		return "", err
	}
	h.specs = append(h.specs, &transcriptSpectator{sp: sp})
	return fmt.Sprintf("s%d watches p%d", len(h.specs)-1, p), nil
}

// tickSpectators runs one tick of every spectator.
func (h *transcript) tickSpectators(now time.Duration) {
	for i, ts := range h.specs {
		h.receive(spectatorIndex+i, func(from netip.AddrPort, d []byte) { ts.sp.Receive(from, d, now) })
		if err := Apply(&ts.g, ts.sp.Step(now)); err != nil {
			h.t.Fatalf("s%d: %v", i, err)
		}
		for _, d := range ts.sp.Outgoing(now) {
			ts.sent = append(ts.sent, msgKind(d.Data))
			h.send(spectatorIndex+i, d)
		}
		for _, e := range ts.sp.Events() {
			ts.events = append(ts.events, fmt.Sprintf("t=%d %s", h.now, eventLine(e)))
		}
	}
}

// receive hands to what is at index to every datagram due for it now.
func (h *transcript) receive(to int, recv func(from netip.AddrPort, d []byte)) {
	keep := h.wire[:0]
	var due []wireMsg
	for _, m := range h.wire {
		if m.to == to && m.due >= 0 && m.due <= h.now {
			due = append(due, m)
			continue
		}
		keep = append(keep, m)
	}
	h.wire = keep
	for _, m := range due {
		recv(h.addr(m.from), m.data)
	}
}
