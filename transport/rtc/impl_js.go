//go:build js

package rtc

import (
	"github.com/pion/webrtc/v4"
)

// iceSupported: a browser offers no raw UDP, only RTCPeerConnection (DTLS and SCTP).
const iceSupported = false

// impl holds what every link of a Conn shares: the WebRTC API (pion's js backend over the
// browser's RTCPeerConnection) and the ICE servers. The browser has its own ICE timeouts;
// Config.Timeouts.Connect still bounds the time to open.
type impl struct {
	api  *webrtc.API
	conf webrtc.Configuration
}

func newImpl(cfg *Config) (impl, error) {
	var se webrtc.SettingEngine
	se.DetachDataChannels()
	m := impl{api: webrtc.NewAPI(webrtc.WithSettingEngine(se))}
	for _, s := range cfg.ICEServers {
		m.conf.ICEServers = append(m.conf.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return m, nil
}

func (m impl) newPath(l *link) (path, error) {
	return newDCPath(l, m.api, m.conf)
}
