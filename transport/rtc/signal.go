package rtc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SignalVersion is the version of the signal encoding. A peer that receives another version
// refuses the signal with an error wrapping ErrSignalVersion, so a mismatch between two builds
// is reported instead of misread.
const SignalVersion = 1

// MaxSignal is the longest signal HandleSignal accepts and Signal is given, in bytes: an SDP
// of a data channel with a few candidates is 1–3 KB, so this leaves room without letting a
// peer make us parse megabytes.
const MaxSignal = 16 << 10

// ErrSignalVersion is wrapped by HandleSignal's error when a signal has another version.
var ErrSignalVersion = errors.New("signal version mismatch")

// signalType is what a signal carries.
type signalType uint8

const (
	sigOffer     signalType = iota + 1 // opens a link: ICE credentials or an SDP offer
	sigAnswer                          // accepts it: ICE credentials or an SDP answer
	sigCandidate                       // one trickled ICE candidate
	sigEnd                             // the sender closed the link
)

func (t signalType) String() string {
	switch t {
	case sigOffer:
		return "offer"
	case sigAnswer:
		return "answer"
	case sigCandidate:
		return "candidate"
	case sigEnd:
		return "end"
	}
	return "signalType(" + strconv.Itoa(int(t)) + ")"
}

func parseSignalType(s string) (signalType, bool) {
	for t := sigOffer; t <= sigEnd; t++ {
		if t.String() == s {
			return t, true
		}
	}
	return 0, false
}

// kindSet is a set of link kinds a member supports, carried in offers.
type kindSet uint8

func (s kindSet) has(k LinkKind) bool { return s&(1<<k) != 0 }

func kindsOf(ks ...LinkKind) kindSet {
	var s kindSet
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// signal is one decoded message between two members about one link. Every message names the
// link by the token its offerer chose, so messages about an older link (a member that
// reconnected, a lost glare) are recognised and ignored.
type signal struct {
	Type  signalType
	Token uint64   // the link, chosen by its offerer; never 0
	Kind  LinkKind // of the link (offer, answer, candidate); LinkICE or LinkDataChannel
	Caps  kindSet  // offer: the kinds the sender supports
	Ufrag string   // ICE-only offer and answer
	Pwd   string
	SDP   string // data-channel offer and answer
	Cand  string // candidate: one a=candidate value, pion's Marshal form
	Why   string // end: a reason for the log, optional
}

// wireSignal is the JSON form. Short keys keep a trickled candidate near 150 bytes; the
// token is a hex string because JSON numbers lose 64-bit integers in a browser.
type wireSignal struct {
	V     int      `json:"v"`
	T     string   `json:"t"`
	L     string   `json:"l"`
	K     string   `json:"k,omitempty"`
	Caps  []string `json:"caps,omitempty"`
	Ufrag string   `json:"ufrag,omitempty"`
	Pwd   string   `json:"pwd,omitempty"`
	SDP   string   `json:"sdp,omitempty"`
	Cand  string   `json:"cand,omitempty"`
	Why   string   `json:"why,omitempty"`
}

// encode gives the signal's wire form. It fails only on a signal that decode would refuse,
// which would be a bug here, not outside input.
func (s signal) encode() (string, error) {
	w := wireSignal{V: SignalVersion, T: s.Type.String(), L: strconv.FormatUint(s.Token, 16),
		Ufrag: s.Ufrag, Pwd: s.Pwd, SDP: s.SDP, Cand: s.Cand, Why: s.Why}
	if s.Type != sigEnd {
		w.K = s.Kind.String()
	}
	for k := LinkICE; k <= LinkDataChannel; k++ {
		if s.Caps.has(k) {
			w.Caps = append(w.Caps, k.String())
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("encode %s signal: %w", s.Type, err)
	}
	if _, err := decodeSignal(string(b)); err != nil {
		return "", fmt.Errorf("encode %s signal: %w", s.Type, err)
	}
	return string(b), nil
}

// maxField bounds the short fields: ICE ufrags are 4–256 characters and passwords 22–256
// (RFC 8445 §5.3), a candidate line is well under 512.
const maxField = 512

// decodeSignal parses and validates a signal. Every field a type needs must be present and
// sane; fields it does not use must be absent, so that one encoding means one thing.
func decodeSignal(data string) (signal, error) {
	var s signal
	if len(data) > MaxSignal {
		return s, fmt.Errorf("signal of %d bytes: over the limit of %d", len(data), MaxSignal)
	}
	var w wireSignal
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return s, fmt.Errorf("signal: %w", err)
	}
	if dec.More() {
		return s, errors.New("signal: trailing data")
	}
	if w.V != SignalVersion {
		return s, fmt.Errorf("signal version %d, this build speaks %d: %w", w.V, SignalVersion, ErrSignalVersion)
	}
	t, ok := parseSignalType(w.T)
	if !ok {
		return s, fmt.Errorf("signal: unknown type %q", w.T)
	}
	s.Type = t
	tok, err := strconv.ParseUint(w.L, 16, 64)
	if err != nil || tok == 0 || len(w.L) > 16 {
		return s, fmt.Errorf("%s signal: bad link token %q", t, w.L)
	}
	s.Token = tok
	if t != sigEnd {
		k, ok := parseLinkKind(w.K)
		if !ok || k == LinkAuto {
			return s, fmt.Errorf("%s signal: bad link kind %q", t, w.K)
		}
		s.Kind = k
	} else if w.K != "" {
		return s, errors.New("end signal: has a link kind")
	}
	for _, c := range w.Caps {
		k, ok := parseLinkKind(c)
		if !ok || k == LinkAuto {
			return s, fmt.Errorf("%s signal: bad capability %q", t, c)
		}
		s.Caps |= kindsOf(k)
	}
	if t != sigOffer && len(w.Caps) > 0 {
		return s, fmt.Errorf("%s signal: capabilities outside an offer", t)
	}
	if t == sigOffer && !s.Caps.has(s.Kind) {
		return s, fmt.Errorf("offer signal: kind %s not among its capabilities", s.Kind)
	}
	for _, f := range []string{w.Ufrag, w.Pwd, w.Cand, w.Why} {
		if len(f) > maxField {
			return s, fmt.Errorf("%s signal: a field over %d bytes", t, maxField)
		}
	}
	s.Ufrag, s.Pwd, s.SDP, s.Cand, s.Why = w.Ufrag, w.Pwd, w.SDP, w.Cand, w.Why
	desc := t == sigOffer || t == sigAnswer
	switch {
	case desc && s.Kind == LinkICE && (s.Ufrag == "" || s.Pwd == "" || s.SDP != ""):
		return s, fmt.Errorf("%s signal: an ICE-only %s needs ufrag and pwd, no sdp", t, t)
	case desc && s.Kind == LinkDataChannel && (s.SDP == "" || s.Ufrag != "" || s.Pwd != ""):
		return s, fmt.Errorf("%s signal: a data-channel %s needs sdp, no ufrag or pwd", t, t)
	case !desc && (s.Ufrag != "" || s.Pwd != "" || s.SDP != ""):
		return s, fmt.Errorf("%s signal: carries a session description", t)
	case (t == sigCandidate) != (s.Cand != ""):
		return s, fmt.Errorf("%s signal: a candidate belongs to, and only to, a candidate signal", t)
	case t != sigEnd && s.Why != "":
		return s, fmt.Errorf("%s signal: a reason belongs to an end signal", t)
	}
	return s, nil
}
