package rtc

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ptransport "github.com/pion/transport/v5"

	"p2pa/transport"
)

// QueueLen is how many received datagrams a Conn holds for ReadFrom, as transport.UDPQueueLen.
const QueueLen = transport.UDPQueueLen

// ErrNoPath is wrapped by a failure Event's Err when ICE found no working path to a member.
var ErrNoPath = errors.New("no path")

// ErrNoAnswer is wrapped by a failure Event's Err when the member never answered an offer
// within Timeouts.Connect (it is gone, or its signals are lost).
var ErrNoAnswer = errors.New("no answer")

// whyNoPath is the reason of an end signal sent when ICE found no path, so the other member
// reports the same failure rather than a close.
const whyNoPath = "no path"

// drainWait is how long a link that the other member ended (its end signal, or Forget when
// it left the room) goes on reading before its path closes. The member sends its last
// datagrams (a goodbye) before the news that it is gone, but the news travels by another
// road (the signalling server), and on a loaded machine it can be handled before the
// goroutines that read the path have taken datagrams that had already arrived: closing at
// once dropped a player's goodbye now and then in 3-player rooms on loopback, so the others
// took it for a crash. Nothing is sent on a draining link; its address is free at once for
// the member's next link.
const drainWait = time.Second

// ErrClosed is returned by the methods of a closed Conn.
var ErrClosed = errors.New("rtc: conn closed")

// Signaler carries signals to other members, in order per destination (a WebSocket does).
// Signal may block (a network write) but must not call HandleSignal of any Conn before
// returning: the Conn may be in the middle of the link the signal is about.
type Signaler interface {
	Signal(to string, data string) error
}

// SignalerFunc adapts a function to a Signaler.
type SignalerFunc func(to, data string) error

// Signal calls f.
func (f SignalerFunc) Signal(to, data string) error { return f(to, data) }

// ICEServer is a STUN or TURN server, as RTCIceServer: URLs like "stun:host:3478",
// "turn:host:3478?transport=udp"; Username and Credential for TURN.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Timeouts tune how fast links open and how fast a missing path is noticed. Zero fields take
// the defaults (DefaultTimeouts).
type Timeouts struct {
	// Connect bounds the time from a link's first signal to open; past it the link fails.
	// It also covers a member who never answers.
	Connect time.Duration
	// Disconnected and Failed are ICE's: silence for Disconnected marks a path
	// disconnected, Failed more fails it; a link that never connects fails after both.
	Disconnected, Failed time.Duration
	// Keepalive is how often ICE sends a consent check on the open path (RFC 7675; pion
	// sends one whether or not data flows): each costs a request and an answer per side,
	// about 0.017 extra datagrams per frame and direction at 60 frames per second with
	// 2 s. It keeps NAT mappings and TURN permissions alive when the engine is quiet. It
	// must be shorter than Disconnected.
	Keepalive time.Duration
	// RelayWait is how long ICE waits before it accepts a relayed pair, giving direct pairs
	// the chance to succeed first; pion's default is 2 s. It matters where this side
	// nominates (it offered): between two native members pion's controlling agent keeps
	// the pair it nominated, so a direct pair slower than RelayWait leaves the link relayed
	// for good. A browser offers, nominates by its own rules and moves an open link to the
	// direct pair later (reported by Event.PathChanged).
	RelayWait time.Duration
	// SrflxWait and PrflxWait are the same for server- and peer-reflexive pairs.
	SrflxWait, PrflxWait time.Duration
}

// DefaultTimeouts: through pion's virtual NATs a direct link opened 0.6 s and a relayed one
// 1.0 s (RelayWait) after the offer (BenchmarkOpen); with no path the link fails about 8 s
// after the checks start (Disconnected + Failed), so "could not reach" appears within 15 s
// of starting even with a slow server. RelayWait stays below pion's 2 s: between two cone
// NATs in network namespaces at load average 6-10 on the 2-core test machine, 14 of 14
// native pairs went direct, both playing 0.67-0.83 s after the second player started
// (BenchmarkRoomConnect), so a longer wait would only delay every relayed link.
var DefaultTimeouts = Timeouts{
	Connect:      12 * time.Second,
	Disconnected: 3 * time.Second,
	Failed:       5 * time.Second,
	Keepalive:    2 * time.Second,
	RelayWait:    time.Second,
	SrflxWait:    300 * time.Millisecond,
	PrflxWait:    500 * time.Millisecond,
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	for _, f := range []struct{ v, def *time.Duration }{
		{&t.Connect, &d.Connect}, {&t.Disconnected, &d.Disconnected}, {&t.Failed, &d.Failed},
		{&t.Keepalive, &d.Keepalive}, {&t.RelayWait, &d.RelayWait},
		{&t.SrflxWait, &d.SrflxWait}, {&t.PrflxWait, &d.PrflxWait},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

// Config describes the local member.
type Config struct {
	// Member is the local member's id, as the signaling server knows it. Required.
	Member string
	// ICEServers are the STUN and TURN servers to gather candidates with; none restricts
	// links to host candidates (a LAN, or loopback in tests).
	ICEServers []ICEServer
	// Signaler carries signals to the other members. Required.
	Signaler Signaler
	// Link restricts the kinds of link this member makes: LinkAuto (ICE-only with a native
	// member, a data channel otherwise), LinkICE (ICE-only or nothing) or LinkDataChannel
	// (what a browser does; js/wasm builds always behave so).
	Link LinkKind
	// Timeouts; zero fields take DefaultTimeouts. In js/wasm only Connect applies: the
	// browser runs ICE with its own.
	Timeouts Timeouts
	// OnEvent, if set, is called for every link that opens, fails, or is closed by the
	// other member, and for an open link whose path changes (Event.PathChanged), in
	// order, from one goroutine of the Conn: it may block briefly without
	// holding up datagrams. Forget and Close report nothing; events still queued when
	// Close is called may be dropped.
	OnEvent func(Event)
	// Net replaces the host's network (pion's vnet in tests). Native builds only.
	Net ptransport.Net
	// IncludeLoopback offers loopback addresses as host candidates (tests on one machine).
	// Native builds only.
	IncludeLoopback bool
}

// Conn is a transport.Conn whose peers are other members reached through ICE: one link per
// member, each datagram to AddrOf(member) goes over that member's link. See the package doc.
// All methods are safe for concurrent use.
type Conn struct {
	cfg      Config
	local    netip.AddrPort
	caps     kindSet
	readable chan struct{}
	closed   atomic.Bool
	impl     impl          // what the build can do: pion APIs set up once
	pathPoll time.Duration // pathPoll; a test shortens it before any link opens
	drainFor time.Duration // drainWait; a test changes it before any link ends

	mu       sync.RWMutex
	links    map[string]*link         // by member id, any state
	byAddr   map[netip.AddrPort]*link // open links only
	draining map[*link]struct{}       // ended or forgotten, reading until drainWait passes

	// the receive ring, as transport.UDP's
	rmu   sync.Mutex
	slots []byte
	lens  [QueueLen]int
	froms [QueueLen]netip.AddrPort
	head  int
	count int
	stats Stats

	// events for OnEvent, delivered in order by one goroutine
	emu     sync.Mutex
	events  []Event
	evWake  chan struct{}
	evDone  chan struct{}
	evClose sync.Once
}

// Stats counts a Conn's datagrams since it was made.
type Stats struct {
	Sent, SentBytes         uint64 // handed to an open link
	Received, ReceivedBytes uint64 // arrived from a link, including those then dropped
	DroppedNoLink           uint64 // WriteTo to an address without an open link
	DroppedFull             uint64 // arrived with QueueLen datagrams waiting
	Oversized               uint64 // arrived longer than transport.MaxDatagram
	SendErrors              uint64 // a link refused a datagram (closing, buffer full)
	Queued                  int    // waiting for ReadFrom now
}

// New makes the local member's Conn. It opens nothing until Connect or a signal asks.
func New(cfg Config) (*Conn, error) {
	if cfg.Member == "" {
		return nil, errors.New("rtc: Config.Member is required")
	}
	if cfg.Signaler == nil {
		return nil, errors.New("rtc: Config.Signaler is required")
	}
	if cfg.Link > LinkDataChannel {
		return nil, fmt.Errorf("rtc: Config.Link %s is not a link kind", cfg.Link)
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	if t := cfg.Timeouts; t.Keepalive >= t.Disconnected {
		// Consent checks slower than the silence that marks a path disconnected would
		// let an idle but healthy link flap.
		return nil, fmt.Errorf("rtc: Timeouts.Keepalive %v must be shorter than Disconnected %v", t.Keepalive, t.Disconnected)
	}
	c := &Conn{
		cfg:      cfg,
		local:    AddrOf(cfg.Member),
		readable: make(chan struct{}, 1),
		links:    make(map[string]*link),
		byAddr:   make(map[netip.AddrPort]*link),
		draining: make(map[*link]struct{}),
		slots:    make([]byte, QueueLen*transport.MaxDatagram),
		evWake:   make(chan struct{}, 1),
		evDone:   make(chan struct{}),
		pathPoll: pathPoll,
		drainFor: drainWait,
	}
	var err error
	if c.impl, err = newImpl(&c.cfg); err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	switch {
	case cfg.Link == LinkICE:
		c.caps = kindsOf(LinkICE)
	case cfg.Link == LinkDataChannel || !iceSupported:
		c.caps = kindsOf(LinkDataChannel)
	default:
		c.caps = kindsOf(LinkICE, LinkDataChannel)
	}
	if c.caps.has(LinkICE) && !iceSupported {
		return nil, errors.New("rtc: ICE-only links are not available in this build (js/wasm)")
	}
	go c.deliverEvents()
	return c, nil
}

// LocalAddr is AddrOf(Config.Member).
func (c *Conn) LocalAddr() netip.AddrPort { return c.local }

// Readable returns a channel (capacity 1) that receives a value whenever a datagram is
// queued, as transport.UDP.Readable: on a signal read until ReadFrom reports !ok.
func (c *Conn) Readable() <-chan struct{} { return c.readable }

// WriteTo sends b to the member whose address is addr, over its link. With no open link to
// that address the datagram is dropped and counted, as UDP to nobody would be: lockstep
// retries, and the link may open meanwhile. A link that refuses the datagram (closing) is
// the same loss. Only a closed Conn gives an error.
func (c *Conn) WriteTo(b []byte, addr netip.AddrPort) error {
	if c.closed.Load() {
		return ErrClosed
	}
	c.mu.RLock()
	l := c.byAddr[addr]
	c.mu.RUnlock()
	if l == nil {
		c.rmu.Lock()
		c.stats.DroppedNoLink++
		c.rmu.Unlock()
		return nil
	}
	err := l.path.write(b)
	c.rmu.Lock()
	if err != nil {
		// The path is going away (its failure event follows) or its buffer is full: for a
		// datagram that is loss, and lockstep copes with loss.
		c.stats.SendErrors++
	} else {
		c.stats.Sent++
		c.stats.SentBytes += uint64(len(b))
	}
	c.rmu.Unlock()
	return nil
}

// ReadFrom copies the oldest queued datagram into b, as transport.UDP.ReadFrom: it never
// blocks and never allocates; from is the sender's AddrOf.
func (c *Conn) ReadFrom(b []byte) (n int, from netip.AddrPort, ok bool) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.count == 0 {
		return 0, netip.AddrPort{}, false
	}
	i := c.head
	n, from = c.lens[i], c.froms[i]
	copy(b, c.slots[i*transport.MaxDatagram:i*transport.MaxDatagram+n])
	c.head = (c.head + 1) % QueueLen
	c.count--
	return n, from, true
}

// deliver queues a datagram that arrived on a link. n may exceed len(p) (= MaxDatagram+1
// bytes read): then it was oversized.
func (c *Conn) deliver(p []byte, from netip.AddrPort) {
	c.rmu.Lock()
	c.stats.Received++
	c.stats.ReceivedBytes += uint64(len(p))
	switch {
	case len(p) > transport.MaxDatagram:
		c.stats.Oversized++
		c.rmu.Unlock()
		return
	case c.count == QueueLen:
		c.stats.DroppedFull++
		c.rmu.Unlock()
		return
	}
	i := (c.head + c.count) % QueueLen
	copy(c.slots[i*transport.MaxDatagram:], p)
	c.lens[i] = len(p)
	c.froms[i] = from
	c.count++
	c.rmu.Unlock()
	select {
	case c.readable <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (c *Conn) Stats() Stats {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	s := c.stats
	s.Queued = c.count
	return s
}

// AddrOf is the package's AddrOf, for callers that hold a Conn.
func (c *Conn) AddrOf(member string) netip.AddrPort { return AddrOf(member) }

// LinkInfo describes the link to member; ok is false when there is none (never connected,
// forgotten, or replaced after a failure).
func (c *Conn) LinkInfo(member string) (LinkInfo, bool) {
	c.mu.RLock()
	l := c.links[member]
	c.mu.RUnlock()
	if l == nil {
		return LinkInfo{}, false
	}
	return l.snapshot(), true
}

// Members lists the members with a link in any state.
func (c *Conn) Members() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ms := make([]string, 0, len(c.links))
	for m := range c.links {
		ms = append(ms, m)
	}
	return ms
}

// Connect opens a link to member by sending it an offer. The rule that avoids both members
// offering at once: a member that arrives in a room connects to everyone already there, and
// the others wait for its offer. If both offer anyway, the offer of the member with the
// smaller id wins (see HandleSignal). Connecting to a member with a link that is connecting
// or open does nothing; after a failure it tries again.
func (c *Conn) Connect(member string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if member == c.cfg.Member {
		return fmt.Errorf("rtc: connect to %q: that is this member", member)
	}
	c.mu.Lock()
	if c.closed.Load() { // Close ran meanwhile: it has already swept the links
		c.mu.Unlock()
		return ErrClosed
	}
	if old := c.links[member]; old != nil {
		if st := old.state(); st == LinkConnecting || st == LinkOpen {
			c.mu.Unlock()
			return nil
		}
		c.removeLocked(old)
	}
	kind := LinkICE
	if !c.caps.has(LinkICE) {
		kind = LinkDataChannel
	}
	l := c.newLinkLocked(member, newToken(), kind, true)
	c.mu.Unlock()
	if err := l.startOffer(); err != nil {
		if !c.current(l) {
			return nil // the member's own offer won meanwhile (see handleOffer)
		}
		c.fail(l, fmt.Errorf("offer to %s: %w", member, err))
		return fmt.Errorf("rtc: connect to %q: %w", member, err)
	}
	return nil
}

// current is whether l is still its member's link (not replaced, forgotten or closed).
func (c *Conn) current(l *link) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.links[l.member] == l && !c.closed.Load()
}

// Forget closes the link to member (it left the room) without telling it. Its address drops
// datagrams sent from then on; an open link still delivers what arrives on it for a second
// (drainWait), since the member's last datagrams may be read after the news that it left.
// Forgetting a member without a link does nothing. The error is the link's own close
// failing; the link is forgotten anyway.
func (c *Conn) Forget(member string) error {
	c.mu.Lock()
	l := c.links[member]
	_, draining := c.draining[l] // it ended the link itself first (its end signal)
	if l != nil {
		c.removeLocked(l)
	}
	c.mu.Unlock()
	if l == nil || draining {
		return nil
	}
	if l.state() == LinkOpen {
		c.drain(l)
		return nil
	}
	if err := l.close(); err != nil {
		return fmt.Errorf("rtc: forget %q: %w", member, err)
	}
	return nil
}

// drain closes l's path after drainWait (or when the Conn closes, if sooner), reading
// meanwhile. l no longer carries anything we send. A close error then has nobody to go
// to: the path is released either way.
func (c *Conn) drain(l *link) {
	c.mu.Lock()
	if c.closed.Load() { // Close has swept the draining links already
		c.mu.Unlock()
		_ = l.close()
		return
	}
	c.draining[l] = struct{}{}
	c.mu.Unlock()
	time.AfterFunc(c.drainFor, func() {
		c.mu.Lock()
		_, ok := c.draining[l]
		delete(c.draining, l)
		c.mu.Unlock()
		if ok {
			_ = l.close()
		}
	})
}

// HandleSignal takes a signal that member from sent through the Signaler. A malformed
// signal, or one of another version (ErrSignalVersion), gives an error and changes nothing;
// a signal about a link that no longer exists (a reconnect, a lost glare race) is ignored.
func (c *Conn) HandleSignal(from, data string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	s, err := decodeSignal(data)
	if err != nil {
		return fmt.Errorf("rtc: signal from %q: %w", from, err)
	}
	if from == c.cfg.Member || from == "" {
		return fmt.Errorf("rtc: %s signal from %q: not another member", s.Type, from)
	}
	if s.Type == sigOffer {
		return c.handleOffer(from, s)
	}
	c.mu.RLock()
	l := c.links[from]
	c.mu.RUnlock()
	if l == nil || l.token != s.Token {
		return nil // about a link that is gone or was replaced
	}
	switch s.Type {
	case sigAnswer:
		err = l.handleAnswer(s)
	case sigCandidate:
		// One candidate this side cannot use (a TCP one, an unknown extension) leaves the
		// others to find a path: report it, keep the link.
		if err := l.handleCandidate(s); err != nil {
			return fmt.Errorf("rtc: candidate from %q: %w", from, err)
		}
		return nil
	case sigEnd:
		switch s.Why {
		case whyNoPath:
			// Its ICE agent gave up a moment before ours would: the same failure.
			c.fail(l, fmt.Errorf("%w (%s gave up first)", c.noPathError(), from))
		case "":
			c.end(l, LinkClosed, fmt.Errorf("%s closed the link", from))
		default:
			c.end(l, LinkClosed, fmt.Errorf("%s closed the link: %s", from, s.Why))
		}
		return nil
	}
	if err != nil {
		if !c.current(l) {
			return nil
		}
		c.fail(l, err)
		return fmt.Errorf("rtc: %s signal from %q: %w", s.Type, from, err)
	}
	return nil
}

// handleOffer answers an offer, settling a race with our own offer to the same member.
func (c *Conn) handleOffer(from string, s signal) error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return ErrClosed
	}
	old := c.links[from]
	switch {
	case old != nil && old.token == s.Token:
		// The member turned our offer around: it cannot do the kind we offered and offers
		// the kind it can on the same link (a browser answering a native member).
		if !old.offerer || old.kind == s.Kind || old.state() != LinkConnecting {
			c.mu.Unlock()
			return nil // a duplicate
		}
	case old != nil && old.offerer && old.state() == LinkConnecting && c.cfg.Member < from:
		// Both offered: the smaller id's offer wins, and that is ours. The other member
		// drops its own link when ours arrives.
		c.mu.Unlock()
		return nil
	}
	if old != nil {
		c.removeLocked(old)
	}
	kind := s.Kind
	var why string
	switch {
	case c.caps.has(kind):
	case s.Caps.has(LinkDataChannel) && c.caps.has(LinkDataChannel):
		kind = LinkDataChannel // turn it around: offer a data channel on the same link
	default:
		why = fmt.Sprintf("no common link kind (it offers %s, this member takes %s)", capsString(s.Caps), capsString(c.caps))
	}
	l := c.newLinkLocked(from, s.Token, kind, kind != s.Kind)
	c.mu.Unlock()
	var closeErr error // the replaced link's: reported, but the new link goes on
	if old != nil {
		closeErr = old.close()
	}
	if why != "" {
		err := fmt.Errorf("offer from %s: %s", from, why)
		c.fail(l, err)
		return fmt.Errorf("rtc: %w", errors.Join(err, closeErr))
	}
	var err error
	if l.offerer {
		err = l.startOffer()
	} else {
		err = l.startAnswer(s)
	}
	if err != nil {
		if !c.current(l) {
			err = nil // replaced meanwhile by a newer offer
		} else {
			c.fail(l, err)
		}
	}
	if err = errors.Join(err, closeErr); err != nil {
		return fmt.Errorf("rtc: offer from %q: %w", from, err)
	}
	return nil
}

func capsString(s kindSet) string {
	var ks []string
	for k := LinkICE; k <= LinkDataChannel; k++ {
		if s.has(k) {
			ks = append(ks, k.String())
		}
	}
	if len(ks) == 0 {
		return "nothing"
	}
	return strings.Join(ks, "+")
}

// Close sends an end signal on every link, closes them and stops the Conn. Datagrams
// already queued can still be read. Closing again returns nil. The error joins what failed:
// an end signal the Signaler refused (the server may be gone) or a link that did not close.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.mu.Lock()
	ls := make([]*link, 0, len(c.links))
	for _, l := range c.links {
		ls = append(ls, l)
		c.removeLocked(l)
	}
	drained := make([]*link, 0, len(c.draining))
	for l := range c.draining {
		drained = append(drained, l)
	}
	clear(c.draining)
	c.mu.Unlock()
	var errs []error
	for _, l := range ls {
		if err := l.sendSignal(signal{Type: sigEnd, Token: l.token, Why: "the member closed"}); err != nil {
			errs = append(errs, err)
		}
		if err := l.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range drained {
		// Gone already, and told nothing more.
		if err := l.close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.evClose.Do(func() { close(c.evDone) })
	if len(errs) > 0 {
		return fmt.Errorf("rtc: close: %w", errors.Join(errs...))
	}
	return nil
}

// newLinkLocked makes and registers a link; c.mu is held.
func (c *Conn) newLinkLocked(member string, token uint64, kind LinkKind, offerer bool) *link {
	l := &link{c: c, member: member, addr: AddrOf(member), token: token, kind: kind,
		offerer: offerer, started: time.Now(), done: make(chan struct{})}
	l.timer = time.AfterFunc(c.cfg.Timeouts.Connect, func() {
		if l.state() != LinkConnecting {
			return
		}
		l.mu.Lock()
		answered := l.remoteReady
		l.mu.Unlock()
		if !answered {
			c.fail(l, fmt.Errorf("%w from %s within %v", ErrNoAnswer, member, c.cfg.Timeouts.Connect))
			return
		}
		c.fail(l, fmt.Errorf("%w: not connected after %v", ErrNoPath, c.cfg.Timeouts.Connect))
	})
	c.links[member] = l
	return l
}

// removeLocked unregisters l (if it is still the member's link); c.mu is held.
func (c *Conn) removeLocked(l *link) {
	if c.links[l.member] == l {
		delete(c.links, l.member)
	}
	if c.byAddr[l.addr] == l {
		delete(c.byAddr, l.addr)
	}
}

// opened is called by a path once datagrams can flow.
func (c *Conn) opened(l *link) {
	if !l.setState(LinkOpen) {
		return
	}
	l.timer.Stop()
	c.mu.Lock()
	registered := c.links[l.member] == l
	if registered {
		c.byAddr[l.addr] = l
	}
	c.mu.Unlock()
	if !registered {
		return // replaced meanwhile
	}
	c.emit(Event{Member: l.member, State: LinkOpen, Info: l.snapshot()})
	go l.watchPath()
}

// fail ends l with LinkFailed; end with LinkClosed is the same for a link the member ended.
func (c *Conn) fail(l *link, err error) { c.end(l, LinkFailed, err) }

func (c *Conn) end(l *link, st LinkState, err error) {
	if !l.setState(st) {
		return
	}
	l.timer.Stop()
	// The failed link stays in links so LinkInfo can tell why, until Connect, an offer or
	// Forget replaces it; its address stops carrying datagrams now.
	c.mu.Lock()
	registered := c.links[l.member] == l
	if c.byAddr[l.addr] == l {
		delete(c.byAddr, l.addr)
	}
	c.mu.Unlock()
	var errs []error
	if st == LinkClosed {
		// The member ended it after its last datagrams, which may still be unread.
		c.drain(l)
	} else if err := l.close(); err != nil {
		errs = append(errs, err)
	}
	if st == LinkFailed && registered {
		// Tell the member, so it fails now rather than at its own timeout.
		why := "failed"
		if errors.Is(err, ErrNoPath) {
			why = whyNoPath
		}
		if err := l.sendSignal(signal{Type: sigEnd, Token: l.token, Why: why}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		err = errors.Join(append([]error{err}, errs...)...)
	}
	l.setErr(err)
	if registered && !c.closed.Load() {
		c.emit(Event{Member: l.member, State: st, Info: l.snapshot(), Err: err})
	}
}

func (c *Conn) emit(e Event) {
	if c.cfg.OnEvent == nil {
		return
	}
	c.emu.Lock()
	c.events = append(c.events, e)
	c.emu.Unlock()
	select {
	case c.evWake <- struct{}{}:
	default:
	}
}

// deliverEvents calls OnEvent in order, off the goroutines of pion and of the caller.
func (c *Conn) deliverEvents() {
	for {
		select {
		case <-c.evWake:
		case <-c.evDone:
			return
		}
		for {
			c.emu.Lock()
			if len(c.events) == 0 {
				c.emu.Unlock()
				break
			}
			e := c.events[0]
			c.events = c.events[1:]
			c.emu.Unlock()
			c.cfg.OnEvent(e)
		}
	}
}

// newToken picks a link token: random, so a restarted member's links never match old ones.
func newToken() uint64 {
	var b [8]byte
	for {
		// crypto/rand.Read never fails (Go 1.24+: it crashes the program instead).
		_, _ = rand.Read(b[:])
		if t := binary.LittleEndian.Uint64(b[:]); t != 0 {
			return t
		}
	}
}
