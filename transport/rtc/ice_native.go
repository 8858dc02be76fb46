//go:build !js

package rtc

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/pion/ice/v4"
)

// icePath is an ICE-only link: the agent's selected pair carries each engine datagram as one
// UDP datagram, byte for byte what transport.UDP would send (STUN checks and keepalives
// share the socket; ICE tells them apart by their magic cookie).
type icePath struct {
	l     *link
	agent *ice.Agent

	mu    sync.Mutex
	conn  *ice.Conn     // once StartDial or StartAccept returned
	ready chan struct{} // closed when conn is set
	done  chan struct{} // closed by close
	once  sync.Once
	shut  sync.Once
}

func newICEPath(l *link, m impl) (*icePath, error) {
	a, err := m.iceAgent()
	if err != nil {
		return nil, err
	}
	p := &icePath{l: l, agent: a, ready: make(chan struct{}), done: make(chan struct{})}
	err = errors.Join(
		a.OnCandidate(func(c ice.Candidate) {
			if c != nil { // nil: gathering is complete
				l.localCandidate(c.Marshal())
			}
		}),
		a.OnConnectionStateChange(func(s ice.ConnectionState) {
			switch s {
			case ice.ConnectionStateConnected:
				go p.connected()
			case ice.ConnectionStateFailed:
				go l.c.fail(l, l.c.noPathError())
			}
		}),
	)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("ICE agent handlers: %w", err), a.Close())
	}
	return p, nil
}

// connected opens the link once the connection object exists (the state change can race
// ahead of StartDial's return).
func (p *icePath) connected() {
	select {
	case <-p.ready:
	case <-p.done:
		return
	}
	p.mu.Lock()
	conn := p.conn
	p.mu.Unlock()
	p.once.Do(func() {
		go p.l.readLoop(conn.Read)
		p.l.c.opened(p.l)
	})
}

func (p *icePath) setConn(conn *ice.Conn) {
	p.mu.Lock()
	p.conn = conn
	p.mu.Unlock()
	close(p.ready)
}

func (p *icePath) credentials() (signal, error) {
	ufrag, pwd, err := p.agent.GetLocalUserCredentials()
	if err != nil {
		return signal{}, fmt.Errorf("ICE credentials: %w", err)
	}
	return signal{Ufrag: ufrag, Pwd: pwd}, nil
}

func (p *icePath) offer() (signal, error) {
	s, err := p.credentials()
	if err != nil {
		return s, err
	}
	// Candidates found before the offer goes out wait for it (link.sendDesc).
	if err := p.agent.GatherCandidates(); err != nil {
		return s, fmt.Errorf("gather candidates: %w", err)
	}
	return s, nil
}

func (p *icePath) answer(offer signal) (signal, error) {
	s, err := p.credentials()
	if err != nil {
		return s, err
	}
	conn, err := p.agent.StartAccept(offer.Ufrag, offer.Pwd)
	if err != nil {
		return s, fmt.Errorf("start ICE as the controlled agent: %w", err)
	}
	p.setConn(conn)
	if err := p.agent.GatherCandidates(); err != nil {
		return s, fmt.Errorf("gather candidates: %w", err)
	}
	return s, nil
}

func (p *icePath) accept(answer signal) error {
	conn, err := p.agent.StartDial(answer.Ufrag, answer.Pwd)
	if err != nil {
		return fmt.Errorf("start ICE as the controlling agent: %w", err)
	}
	p.setConn(conn)
	return nil
}

func (p *icePath) addCandidate(cand string) error {
	c, err := ice.UnmarshalCandidate(cand)
	if err != nil {
		return fmt.Errorf("candidate %q: %w", cand, err)
	}
	if err := p.agent.AddRemoteCandidate(c); err != nil {
		return fmt.Errorf("add candidate: %w", err)
	}
	return nil
}

func (p *icePath) write(b []byte) error {
	p.mu.Lock()
	conn := p.conn
	p.mu.Unlock()
	if conn == nil {
		return errors.New("ICE not started")
	}
	_, err := conn.Write(b)
	return err
}

func (p *icePath) selected() (local, remote CandidateType, localAddr, remoteAddr string) {
	pair, err := p.agent.GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return
	}
	addr := func(c ice.Candidate) string { return net.JoinHostPort(c.Address(), strconv.Itoa(c.Port())) }
	return parseCandidateType(pair.Local.Type().String()), parseCandidateType(pair.Remote.Type().String()),
		addr(pair.Local), addr(pair.Remote)
}

func (p *icePath) close() error {
	p.shut.Do(func() { close(p.done) })
	if err := p.agent.Close(); err != nil {
		return fmt.Errorf("close ICE agent: %w", err)
	}
	return nil
}
