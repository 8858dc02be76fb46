package rtc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pion/datachannel"
	"github.com/pion/webrtc/v4"
)

// dcPath is a link over a WebRTC data channel: pre-negotiated (id 0, so neither side waits
// for the other to announce it), unordered and without retransmission, so a lost or late
// datagram costs what it costs over UDP and lockstep's own redundancy covers it. The
// channel is detached: reads go straight into the link's buffer, without the per-message
// allocation and callback of OnMessage.
type dcPath struct {
	l  *link
	pc *webrtc.PeerConnection

	mu  sync.Mutex
	raw datachannel.ReadWriteCloser // once open
}

func newDCPath(l *link, api *webrtc.API, conf webrtc.Configuration) (*dcPath, error) {
	pc, err := api.NewPeerConnection(conf)
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	negotiated, id, ordered, retransmits := true, uint16(0), false, uint16(0)
	dc, err := pc.CreateDataChannel("p2pa", &webrtc.DataChannelInit{
		Negotiated: &negotiated, ID: &id, Ordered: &ordered, MaxRetransmits: &retransmits,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create data channel: %w", err), pc.Close())
	}
	p := &dcPath{l: l, pc: pc}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil { // nil: gathering is complete, and trickling needs no end marker
			l.localCandidate(c.ToJSON().Candidate)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			go l.c.fail(l, l.c.noPathError())
		}
	})
	dc.OnOpen(func() {
		raw, err := dc.Detach()
		if err != nil {
			go l.c.fail(l, fmt.Errorf("detach data channel: %w", err))
			return
		}
		p.mu.Lock()
		p.raw = raw
		p.mu.Unlock()
		go l.readLoop(raw.Read)
		go l.c.opened(l)
	})
	return p, nil
}

func (p *dcPath) offer() (signal, error) {
	o, err := p.pc.CreateOffer(nil)
	if err != nil {
		return signal{}, fmt.Errorf("create offer: %w", err)
	}
	if err := p.pc.SetLocalDescription(o); err != nil {
		return signal{}, fmt.Errorf("set offer: %w", err)
	}
	return signal{SDP: o.SDP}, nil
}

func (p *dcPath) answer(offer signal) (signal, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		return signal{}, fmt.Errorf("set remote offer: %w", err)
	}
	a, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return signal{}, fmt.Errorf("create answer: %w", err)
	}
	if err := p.pc.SetLocalDescription(a); err != nil {
		return signal{}, fmt.Errorf("set answer: %w", err)
	}
	return signal{SDP: a.SDP}, nil
}

func (p *dcPath) accept(answer signal) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}
	return nil
}

func (p *dcPath) addCandidate(cand string) error {
	var index uint16 // the data channel's m-line, the only one
	if err := p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: cand, SDPMLineIndex: &index}); err != nil {
		return fmt.Errorf("add candidate: %w", err)
	}
	return nil
}

func (p *dcPath) write(b []byte) error {
	p.mu.Lock()
	raw := p.raw
	p.mu.Unlock()
	if raw == nil {
		return errors.New("data channel not open")
	}
	_, err := raw.Write(b)
	return err
}

func (p *dcPath) selected() (local, remote CandidateType, localAddr, remoteAddr string) {
	sctp := p.pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return // not known yet: LinkInfo says so
	}
	return parseCandidateType(pair.Local.Typ.String()), parseCandidateType(pair.Remote.Typ.String()),
		hostPort(pair.Local.Address, pair.Local.Port), hostPort(pair.Remote.Address, pair.Remote.Port)
}

func (p *dcPath) close() error {
	if err := p.pc.Close(); err != nil {
		return fmt.Errorf("close peer connection: %w", err)
	}
	return nil
}
