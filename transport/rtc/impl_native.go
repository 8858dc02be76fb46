//go:build !js

package rtc

import (
	"fmt"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// iceSupported: native builds can run pion/ice on their own sockets.
const iceSupported = true

// impl holds what every link of a Conn shares: the WebRTC API with its settings, and the ICE
// servers parsed for pion/ice.
type impl struct {
	cfg  *Config
	api  *webrtc.API
	conf webrtc.Configuration
	uris []*stun.URI
}

func newImpl(cfg *Config) (impl, error) {
	t := cfg.Timeouts
	var se webrtc.SettingEngine
	se.DetachDataChannels()
	se.SetICETimeouts(t.Disconnected, t.Failed, t.Keepalive)
	se.SetRelayAcceptanceMinWait(t.RelayWait)
	se.SetSrflxAcceptanceMinWait(t.SrflxWait)
	se.SetPrflxAcceptanceMinWait(t.PrflxWait)
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if cfg.Net != nil {
		se.SetNet(cfg.Net)
		// A virtual network has no multicast; on a real one pion's default (resolve the
		// .local names browsers give their host candidates) stays.
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	m := impl{cfg: cfg, api: webrtc.NewAPI(webrtc.WithSettingEngine(se))}
	for _, s := range cfg.ICEServers {
		m.conf.ICEServers = append(m.conf.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
		for _, u := range s.URLs {
			uri, err := stun.ParseURI(u)
			if err != nil {
				return m, fmt.Errorf("ICE server %q: %w", u, err)
			}
			uri.Username, uri.Password = s.Username, s.Credential
			m.uris = append(m.uris, uri)
		}
	}
	return m, nil
}

func (m impl) newPath(l *link) (path, error) {
	if l.kind == LinkICE {
		return newICEPath(l, m)
	}
	return newDCPath(l, m.api, m.conf)
}

// iceAgent makes a pion/ice agent with the Conn's servers and timeouts.
func (m impl) iceAgent() (*ice.Agent, error) {
	t := m.cfg.Timeouts
	opts := []ice.AgentOption{
		ice.WithUrls(m.uris),
		ice.WithNetworkTypes([]ice.NetworkType{ice.NetworkTypeUDP4, ice.NetworkTypeUDP6}),
		ice.WithDisconnectedTimeout(t.Disconnected),
		ice.WithFailedTimeout(t.Failed),
		ice.WithKeepaliveInterval(t.Keepalive),
		ice.WithRelayAcceptanceMinWait(t.RelayWait),
		ice.WithSrflxAcceptanceMinWait(t.SrflxWait),
		ice.WithPrflxAcceptanceMinWait(t.PrflxWait),
		// Native members signal plain addresses; nothing here needs .local names, and
		// mDNS would open multicast sockets for nothing.
		ice.WithMulticastDNSMode(ice.MulticastDNSModeDisabled),
	}
	if m.cfg.Net != nil {
		opts = append(opts, ice.WithNet(m.cfg.Net))
	}
	if m.cfg.IncludeLoopback {
		opts = append(opts, ice.WithIncludeLoopback())
	}
	a, err := ice.NewAgentWithOptions(opts...)
	if err != nil {
		return nil, fmt.Errorf("new ICE agent: %w", err)
	}
	return a, nil
}
