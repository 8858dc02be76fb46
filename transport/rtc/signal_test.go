package rtc

import (
	"errors"
	"strings"
	"testing"
)

func TestSignalRoundTrip(t *testing.T) {
	for _, s := range []signal{
		{Type: sigOffer, Token: 1, Kind: LinkICE, Caps: kindsOf(LinkICE, LinkDataChannel), Ufrag: "abcd", Pwd: "0123456789012345678901"},
		{Type: sigOffer, Token: 0xffffffffffffffff, Kind: LinkDataChannel, Caps: kindsOf(LinkDataChannel), SDP: "v=0\r\n"},
		{Type: sigAnswer, Token: 7, Kind: LinkICE, Ufrag: "u", Pwd: "p"},
		{Type: sigAnswer, Token: 7, Kind: LinkDataChannel, SDP: "v=0\r\n"},
		{Type: sigCandidate, Token: 9, Kind: LinkICE, Cand: "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host"},
		{Type: sigEnd, Token: 9},
		{Type: sigEnd, Token: 9, Why: "no path"},
	} {
		data, err := s.encode()
		if err != nil {
			t.Fatalf("encode %+v: %v", s, err)
		}
		got, err := decodeSignal(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if got != s {
			t.Fatalf("round trip of %+v gave %+v (%s)", s, got, data)
		}
	}
}

func TestSignalRejects(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"not JSON", `offer`, "signal:"},
		{"trailing data", `{"v":1,"t":"end","l":"1"}{}`, "trailing"},
		{"unknown field", `{"v":1,"t":"end","l":"1","x":1}`, "unknown field"},
		{"no version", `{"t":"end","l":"1"}`, "version 0"},
		{"other version", `{"v":2,"t":"end","l":"1"}`, "version 2"},
		{"unknown type", `{"v":1,"t":"hello","l":"1"}`, "unknown type"},
		{"zero token", `{"v":1,"t":"end","l":"0"}`, "bad link token"},
		{"bad token", `{"v":1,"t":"end","l":"xyz"}`, "bad link token"},
		{"long token", `{"v":1,"t":"end","l":"00000000000000001"}`, "bad link token"},
		{"no kind", `{"v":1,"t":"answer","l":"1","ufrag":"u","pwd":"p"}`, "bad link kind"},
		{"auto kind", `{"v":1,"t":"answer","l":"1","k":"auto","ufrag":"u","pwd":"p"}`, "bad link kind"},
		{"kind on end", `{"v":1,"t":"end","l":"1","k":"ice"}`, "has a link kind"},
		{"bad capability", `{"v":1,"t":"offer","l":"1","k":"ice","caps":["ice","tcp"],"ufrag":"u","pwd":"p"}`, "bad capability"},
		{"capabilities on an answer", `{"v":1,"t":"answer","l":"1","k":"ice","caps":["ice"],"ufrag":"u","pwd":"p"}`, "capabilities outside"},
		{"offer outside its capabilities", `{"v":1,"t":"offer","l":"1","k":"ice","caps":["datachannel"],"ufrag":"u","pwd":"p"}`, "not among"},
		{"ICE offer without pwd", `{"v":1,"t":"offer","l":"1","k":"ice","caps":["ice"],"ufrag":"u"}`, "needs ufrag and pwd"},
		{"ICE answer with sdp", `{"v":1,"t":"answer","l":"1","k":"ice","ufrag":"u","pwd":"p","sdp":"v=0"}`, "needs ufrag and pwd"},
		{"data-channel offer without sdp", `{"v":1,"t":"offer","l":"1","k":"datachannel","caps":["datachannel"]}`, "needs sdp"},
		{"candidate with sdp", `{"v":1,"t":"candidate","l":"1","k":"ice","cand":"c","sdp":"v=0"}`, "session description"},
		{"empty candidate", `{"v":1,"t":"candidate","l":"1","k":"ice"}`, "candidate belongs"},
		{"candidate on an end", `{"v":1,"t":"end","l":"1","cand":"c"}`, "candidate belongs"},
		{"reason on an offer", `{"v":1,"t":"answer","l":"1","k":"ice","ufrag":"u","pwd":"p","why":"x"}`, "reason belongs"},
		{"long field", `{"v":1,"t":"end","l":"1","why":"` + strings.Repeat("x", maxField+1) + `"}`, "over 512"},
		{"oversized", `{"v":1,"t":"end","l":"1","why":"` + strings.Repeat("x", MaxSignal) + `"}`, "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeSignal(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decode(%.80s) = %v, want an error containing %q", tc.data, err, tc.want)
			}
		})
	}
	if _, err := decodeSignal(`{"v":2,"t":"end","l":"1"}`); !errors.Is(err, ErrSignalVersion) {
		t.Fatalf("other version: %v, want ErrSignalVersion", err)
	}
}

// HandleSignal refuses malformed signals and signals from itself, and ignores signals about
// links it does not have.
func TestHandleSignalOutsideInput(t *testing.T) {
	h := newHub()
	a := newMember(t, h, "a", Config{})
	defer func() {
		if err := a.c.Close(); err != nil {
			t.Error(err)
		}
		h.close()
	}()
	for _, tc := range []struct {
		name, from, data string
		wantErr          bool
	}{
		{"garbage", "b", "\x00\xff", true},
		{"from itself", "a", `{"v":1,"t":"end","l":"1"}`, true},
		{"from nobody", "", `{"v":1,"t":"end","l":"1"}`, true},
		{"end of an unknown link", "b", `{"v":1,"t":"end","l":"1"}`, false},
		{"answer without an offer", "b", `{"v":1,"t":"answer","l":"1","k":"ice","ufrag":"uuuu","pwd":"pppppppppppppppppppppp"}`, false},
		{"candidate of an unknown link", "b", `{"v":1,"t":"candidate","l":"1","k":"ice","cand":"nonsense"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.c.HandleSignal(tc.from, tc.data)
			if (err != nil) != tc.wantErr {
				t.Fatalf("HandleSignal = %v, want error %v", err, tc.wantErr)
			}
		})
	}
	if ms := a.c.Members(); len(ms) != 0 {
		t.Fatalf("links after stray signals: %v", ms)
	}
}

func FuzzDecodeSignal(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"t":"offer","l":"1","k":"ice","caps":["ice","datachannel"],"ufrag":"u","pwd":"p"}`,
		`{"v":1,"t":"answer","l":"ff","k":"datachannel","sdp":"v=0\r\n"}`,
		`{"v":1,"t":"candidate","l":"a","k":"ice","cand":"candidate:1 1 udp 1 10.0.0.1 5000 typ host"}`,
		`{"v":1,"t":"end","l":"1","why":"x"}`,
		`{}`, `[]`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		s, err := decodeSignal(data)
		if err != nil {
			return
		}
		// Whatever decodes encodes, and decodes to the same signal.
		enc, err := s.encode()
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", s, err)
		}
		again, err := decodeSignal(enc)
		if err != nil || again != s {
			t.Fatalf("re-decode of %s: %+v, %v; want %+v", enc, again, err, s)
		}
	})
}

func TestAddrOf(t *testing.T) {
	a, b := AddrOf("member-1"), AddrOf("member-2")
	if a == b {
		t.Fatal("two members share an address")
	}
	if a != AddrOf("member-1") {
		t.Fatal("AddrOf is not stable")
	}
	if !a.Addr().Is6() || a.Addr().As16()[0] != 0xfd || a.Port() != Port || !a.Addr().IsPrivate() {
		t.Fatalf("AddrOf = %v, want an fd00::/8 address on port %d", a, Port)
	}
	// Pinned: every member, every build, derives this one.
	if got, want := AddrOf("p0").String(), "[fdfb:14fe:4c21:8c67:63a:fd2b:53ff:5ce]:7000"; got != want {
		t.Fatalf("AddrOf(p0) = %s, want %s", got, want)
	}
}

func TestTurnHostPort(t *testing.T) {
	for _, tc := range []struct {
		url, want string
		ok        bool
	}{
		{"turn:relay.example:3478?transport=udp", "relay.example:3478", true},
		{"turn:198.51.100.1", "198.51.100.1:3478", true},
		{"turns:relay.example", "relay.example:5349", true},
		{"turn:[2001:db8::1]:3478", "[2001:db8::1]:3478", true},
		{"stun:stun.example:3478", "", false},
		{"turn:host:notaport", "", false},
	} {
		got, ok := turnHostPort(tc.url)
		if got != tc.want || ok != tc.ok {
			t.Errorf("turnHostPort(%q) = %q, %v; want %q, %v", tc.url, got, ok, tc.want, tc.ok)
		}
	}
}

// A candidate that cannot be used is reported and leaves the link as it was; and pion's
// candidate parser, which sees outside input, never panics.
func TestBadCandidateKeepsLink(t *testing.T) {
	for _, kind := range []LinkKind{LinkAuto, LinkDataChannel} {
		t.Run(kind.String(), func(t *testing.T) {
			h := newHub()
			a := newMember(t, h, "a", Config{Link: kind})
			b := newMember(t, h, "b", Config{Link: kind})
			defer func() {
				a.c.Close()
				b.c.Close()
				h.close()
			}()
			if err := b.c.Connect("a"); err != nil {
				t.Fatal(err)
			}
			if e := a.ev.wait(t, "b", deadline); e.State != LinkOpen {
				t.Fatalf("event %+v", e)
			}
			info, _ := a.c.LinkInfo("b")
			s := signal{Type: sigCandidate, Token: 0, Kind: info.Kind, Cand: "candidate:x 1 udp nonsense"}
			a.c.mu.RLock()
			s.Token = a.c.links["b"].token
			a.c.mu.RUnlock()
			data, err := s.encode()
			if err != nil {
				t.Fatal(err)
			}
			if err := a.c.HandleSignal("b", data); err == nil {
				t.Fatal("a malformed candidate was taken")
			}
			if info, _ := a.c.LinkInfo("b"); info.State != LinkOpen {
				t.Fatalf("link after a bad candidate: %+v", info)
			}
			exchange(t, b.c, a.c, 5, deadline)
		})
	}
}
