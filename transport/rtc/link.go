package rtc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"p2pa/transport"
)

// maxPendingCandidates bounds the remote candidates a link keeps before it can use them (a
// signal reordered ahead of its description): a member sends a handful, never hundreds.
const maxPendingCandidates = 64

// maxRead is the read buffer of a link: one byte over transport.MaxDatagram, so a longer
// datagram shows as such.
const maxRead = transport.MaxDatagram + 1

// path is one link's way of carrying datagrams: an ICE-only connection or a data channel.
type path interface {
	// offer prepares this side as the offerer and returns the offer to send.
	offer() (signal, error)
	// answer takes the member's offer and returns the answer to send.
	answer(offer signal) (signal, error)
	// accept takes the member's answer to our offer.
	accept(answer signal) error
	// addCandidate takes one remote candidate.
	addCandidate(cand string) error
	// write sends one datagram; it must not keep b.
	write(b []byte) error
	// selected reports the selected candidate pair's types and addresses, once open.
	selected() (local, remote CandidateType, localAddr, remoteAddr string)
	close() error
}

// link is the state of the link to one member.
type link struct {
	c       *Conn
	member  string
	addr    netip.AddrPort
	token   uint64
	kind    LinkKind
	offerer bool
	started time.Time
	timer   *time.Timer // the Connect deadline

	// sigMu orders the signals of this link: a description before any candidate, even
	// when pion reports a candidate before the description was sent.
	sigMu    sync.Mutex
	descSent bool
	early    []string

	mu          sync.Mutex // guards below
	st          LinkState
	path        path
	remoteReady bool // the member's description has been applied
	pending     []string
	info        LinkInfo
	err         error
	closed      bool
	done        chan struct{} // closed by close: stops watchPath
}

func (l *link) state() LinkState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

// setState moves a connecting link on, or an open link to failed or closed; false if that
// is no move (already there, or ended).
func (l *link) setState(st LinkState) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st == st || l.st == LinkFailed || l.st == LinkClosed {
		return false
	}
	l.st = st
	if st == LinkOpen {
		l.info.Opened = time.Since(l.started)
		if l.path != nil {
			l.info.Local, l.info.Remote, l.info.Path, l.info.Relay = l.c.pathOf(l.path.selected())
		}
	}
	return true
}

// pathOf tells from the selected pair's candidate types and addresses whether it is direct
// or relayed, and through which TURN server.
func (c *Conn) pathOf(lt, rt CandidateType, la, ra string) (local, remote CandidateType, p Path, relay string) {
	switch {
	case lt == CandidateRelay:
		return lt, rt, PathRelayed, c.relayServer(la)
	case rt == CandidateRelay:
		return lt, rt, PathRelayed, c.relayServer(ra)
	case lt != CandidateUnknown && rt != CandidateUnknown:
		return lt, rt, PathDirect, ""
	}
	return lt, rt, PathUnknown, ""
}

// pathPoll is how often an open link looks at its selected pair again. ICE may move an
// open link to another pair: the controlling agent (a browser's, or any that renominates)
// nominates whatever pair works first, a relayed one when the direct checks are slow on a
// loaded machine, and moves to the direct pair once its checks succeed; the controlled
// side follows. A poll and not pion's OnSelectedCandidatePairChange because the js/wasm
// build has nothing like it (pion's js ICETransport only offers GetSelectedCandidatePair)
// and one mechanism serves both builds; once a second costs one look at the agent's (or
// the browser's) selected pair, and a path change is shown a second late at most.
const pathPoll = time.Second

// watchPath re-reads the selected pair of an open link every Conn.pathPoll until the link
// closes, and reports a change of path (see recheckPath).
func (l *link) watchPath() {
	t := time.NewTicker(l.c.pathPoll)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.recheckPath()
		case <-l.done:
			return
		}
	}
}

// recheckPath reads the selected pair of an open link again and updates LinkInfo; when the
// path (direct or relayed, or the relay) changed it emits a LinkOpen event with
// PathChanged. A pair no longer known (the browser between two pairs) is no change: the
// last known path stays.
func (l *link) recheckPath() {
	if !l.c.current(l) {
		return // forgotten or replaced: it reports nothing more
	}
	l.mu.Lock()
	p, st, closed := l.path, l.st, l.closed
	l.mu.Unlock()
	if st != LinkOpen || closed || p == nil {
		return
	}
	// Outside l.mu: this asks the ICE agent (or the browser), which may take a moment.
	lt, rt, path, relay := l.c.pathOf(p.selected())
	if path == PathUnknown {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st != LinkOpen || l.closed {
		return // failed or closed meanwhile: its own event says so, and nothing after it
	}
	changed := path != l.info.Path || relay != l.info.Relay
	l.info.Local, l.info.Remote, l.info.Path, l.info.Relay = lt, rt, path, relay
	if changed {
		// Emitted under l.mu, so an end that follows (setState takes l.mu) is emitted after
		// it: the events of a link stay in order.
		l.c.emit(Event{Member: l.member, State: LinkOpen, Info: l.snapshotLocked(), PathChanged: true})
	}
}

func (l *link) setErr(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

func (l *link) snapshot() LinkInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.snapshotLocked()
}

// snapshotLocked is snapshot with l.mu held.
func (l *link) snapshotLocked() LinkInfo {
	in := l.info
	in.Member, in.Addr, in.Kind, in.State, in.Offerer, in.Err = l.member, l.addr, l.kind, l.st, l.offerer, l.err
	return in
}

// sendSignal encodes and sends s to the member.
func (l *link) sendSignal(s signal) error {
	data, err := s.encode()
	if err != nil {
		return err
	}
	if err := l.c.cfg.Signaler.Signal(l.member, data); err != nil {
		return fmt.Errorf("signal %s to %s: %w", s.Type, l.member, err)
	}
	return nil
}

// sendDesc sends the offer or answer, then the candidates found before it.
func (l *link) sendDesc(s signal) error {
	l.sigMu.Lock()
	defer l.sigMu.Unlock()
	if err := l.sendSignal(s); err != nil {
		return err
	}
	l.descSent = true
	for _, cand := range l.early {
		if err := l.sendSignal(signal{Type: sigCandidate, Token: l.token, Kind: l.kind, Cand: cand}); err != nil {
			return err
		}
	}
	l.early = nil
	return nil
}

// localCandidate is called by a path (on a pion goroutine) for each candidate it gathers.
func (l *link) localCandidate(cand string) {
	l.sigMu.Lock()
	defer l.sigMu.Unlock()
	if !l.descSent {
		l.early = append(l.early, cand)
		return
	}
	if err := l.sendSignal(signal{Type: sigCandidate, Token: l.token, Kind: l.kind, Cand: cand}); err != nil {
		// Without its candidates the member may never find a path: say so now.
		go l.c.fail(l, err)
	}
}

func (l *link) setPath(p path) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("link closed while starting")
	}
	l.path = p
	return nil
}

// startOffer makes the path and sends the offer.
func (l *link) startOffer() error {
	p, err := l.c.impl.newPath(l)
	if err != nil {
		return err
	}
	if err := l.setPath(p); err != nil {
		return errors.Join(err, p.close())
	}
	s, err := p.offer()
	if err != nil {
		return err
	}
	s.Type, s.Token, s.Kind, s.Caps = sigOffer, l.token, l.kind, l.c.caps
	return l.sendDesc(s)
}

// startAnswer makes the path for the member's offer and sends the answer.
func (l *link) startAnswer(offer signal) error {
	p, err := l.c.impl.newPath(l)
	if err != nil {
		return err
	}
	if err := l.setPath(p); err != nil {
		return errors.Join(err, p.close())
	}
	s, err := p.answer(offer)
	if err != nil {
		return err
	}
	if err := l.remoteDone(); err != nil {
		return err
	}
	s.Type, s.Token, s.Kind = sigAnswer, l.token, l.kind
	return l.sendDesc(s)
}

// handleAnswer applies the member's answer to our offer.
func (l *link) handleAnswer(s signal) error {
	l.mu.Lock()
	p, ready := l.path, l.remoteReady
	l.mu.Unlock()
	if !l.offerer || ready || p == nil || s.Kind != l.kind {
		return nil // a duplicate, or about the kind we gave up
	}
	if err := p.accept(s); err != nil {
		return err
	}
	return l.remoteDone()
}

// remoteDone marks the member's description applied and adds the candidates that came
// before it.
func (l *link) remoteDone() error {
	l.mu.Lock()
	l.remoteReady = true
	pend, p := l.pending, l.path
	l.pending = nil
	l.mu.Unlock()
	for _, cand := range pend {
		if err := p.addCandidate(cand); err != nil {
			return err
		}
	}
	return nil
}

func (l *link) handleCandidate(s signal) error {
	if s.Kind != l.kind {
		return nil // a candidate of the kind we turned down (see handleOffer)
	}
	l.mu.Lock()
	if !l.remoteReady {
		if len(l.pending) >= maxPendingCandidates {
			l.mu.Unlock()
			return fmt.Errorf("over %d candidates before the description", maxPendingCandidates)
		}
		l.pending = append(l.pending, s.Cand)
		l.mu.Unlock()
		return nil
	}
	p := l.path
	l.mu.Unlock()
	return p.addCandidate(s.Cand)
}

// close releases the path; closing twice returns nil.
func (l *link) close() error {
	l.timer.Stop()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	p := l.path
	l.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.close(); err != nil {
		return fmt.Errorf("close link to %s: %w", l.member, err)
	}
	return nil
}

// relayServer names the TURN server behind a relay candidate's address: a configured TURN
// server at that IP, else the only configured TURN server (the relay's IP may differ from
// the server's when it has several), else the relayed address itself.
func (c *Conn) relayServer(candAddr string) string {
	host, _, err := net.SplitHostPort(candAddr)
	if err != nil {
		host = candAddr
	}
	var turns []string
	for _, s := range c.cfg.ICEServers {
		for _, u := range s.URLs {
			hp, ok := turnHostPort(u)
			if !ok {
				continue
			}
			if h, _, err := net.SplitHostPort(hp); err == nil && h == host {
				return hp
			}
			turns = append(turns, hp)
		}
	}
	if len(turns) == 1 {
		return turns[0]
	}
	return candAddr
}

// turnHostPort gives host:port of a "turn:" or "turns:" URL (RFC 7065), default port 3478
// (5349 for turns).
func turnHostPort(u string) (string, bool) {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || (scheme != "turn" && scheme != "turns") {
		return "", false
	}
	rest, _, _ = strings.Cut(rest, "?")
	if h, p, err := net.SplitHostPort(rest); err == nil {
		if _, err := strconv.ParseUint(p, 10, 16); err == nil {
			return net.JoinHostPort(h, p), true
		}
		return "", false
	}
	port := "3478"
	if scheme == "turns" {
		port = "5349"
	}
	return net.JoinHostPort(strings.Trim(rest, "[]"), port), true
}

// readLoop moves datagrams from a path's blocking read into the Conn's ring until read
// fails (the path closed). One buffer per link, one byte longer than a datagram may be, so
// an oversized one is seen as such.
func (l *link) readLoop(read func([]byte) (int, error)) {
	buf := make([]byte, maxRead)
	for {
		n, err := read(buf)
		if errors.Is(err, io.ErrShortBuffer) {
			// Longer than any datagram may be: consumed, counted as oversized, dropped.
			l.c.deliver(buf, l.addr)
			continue
		}
		if err != nil {
			if l.state() == LinkOpen {
				// The path died under an open link (a closed data channel, an ICE agent
				// that gave up): the link is gone.
				l.c.fail(l, fmt.Errorf("read from %s: %w", l.member, err))
			}
			return
		}
		l.c.deliver(buf[:n], l.addr)
	}
}

func hostPort(addr string, port uint16) string {
	return net.JoinHostPort(addr, strconv.Itoa(int(port)))
}

// noPathError is a failure Event's error when ICE tried every pair and none worked.
func (c *Conn) noPathError() error {
	for _, s := range c.cfg.ICEServers {
		for _, u := range s.URLs {
			if _, ok := turnHostPort(u); ok {
				return fmt.Errorf("%w: ICE found no working pair, not even through the relay", ErrNoPath)
			}
		}
	}
	return fmt.Errorf("%w: ICE found no direct pair, and no relay (TURN) server is configured", ErrNoPath)
}
