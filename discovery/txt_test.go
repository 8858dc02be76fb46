package discovery

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// addrs compares addresses by value (netip types hide their fields from cmp).
var addrs = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

var sample = Ad{Protocol: 1, Game: "p2pa-coins mode=classic coins=20", Want: 2, Seated: 1}

func TestEncodeParseRoundTrip(t *testing.T) {
	for _, a := range []Ad{
		sample,
		{Protocol: 0, Game: "x", Want: 1, Seated: 0, Secret: true},
		{Protocol: MaxProtocol, Game: strings.Repeat("é", MaxGame/2), Want: MaxSeats, Seated: MaxSeats},
	} {
		txt, err := EncodeTXT(a)
		if err != nil {
			t.Fatalf("EncodeTXT(%+v): %v", a, err)
		}
		got, err := ParseTXT(txt)
		if err != nil {
			t.Fatalf("ParseTXT(%q): %v", txt, err)
		}
		if d := cmp.Diff(a, got, addrs); d != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", txt, d)
		}
	}
}

func TestEncodeTXTWords(t *testing.T) {
	txt, err := EncodeTXT(Ad{Protocol: 1, Game: "g", Want: 2, Seated: 1, Secret: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"txtvers=1", "proto=1", "game=g", "want=2", "seated=1", "secret=1"}
	if d := cmp.Diff(want, txt); d != "" {
		t.Errorf("TXT (-want +got):\n%s", d)
	}
}

func TestEncodeTXTRefusesBadAds(t *testing.T) {
	for _, a := range []Ad{
		{Protocol: 1, Game: "", Want: 2},
		{Protocol: 1, Game: "g", Want: 0},
		{Protocol: 1, Game: "g", Want: 2, Seated: 3},
		{Protocol: -1, Game: "g", Want: 2},
		{Protocol: 1, Game: "a\nb", Want: 2},
		{Protocol: 1, Game: strings.Repeat("g", MaxGame+1), Want: 2},
	} {
		if _, err := EncodeTXT(a); !errors.Is(err, ErrTXT) {
			t.Errorf("EncodeTXT(%+v) = %v, want an ErrTXT", a, err)
		}
	}
}

func TestParseTXT(t *testing.T) {
	base := []string{"txtvers=1", "proto=1", "game=g", "want=2", "seated=1", "secret=0"}
	with := func(extra ...string) []string { return append(append([]string(nil), extra...), base...) }
	without := func(key string) []string {
		var out []string
		for _, s := range base {
			if !strings.HasPrefix(s, key+"=") {
				out = append(out, s)
			}
		}
		return out
	}
	good := Ad{Protocol: 1, Game: "g", Want: 2, Seated: 1}
	for _, tc := range []struct {
		name string
		txt  []string
		want Ad
		err  string // "" means no error
	}{
		{"plain", base, good, ""},
		{"first key wins", with("seated=0"), Ad{Protocol: 1, Game: "g", Want: 2, Seated: 0}, ""},
		{"keys case-insensitive", []string{"TXTVERS=1", "Proto=1", "GAME=g", "want=2", "seated=1", "secret=0"}, good, ""},
		{"unknown keys ignored", with("colour=blue", "", "flag"), good, ""},
		{"game with '='", []string{"txtvers=1", "proto=1", "game=a=b", "want=2", "seated=1", "secret=0"}, Ad{Protocol: 1, Game: "a=b", Want: 2, Seated: 1}, ""},
		{"no txtvers", without("txtvers"), Ad{}, "no txtvers"},
		{"other txtvers", with("txtvers=2"), Ad{}, "txtvers 2"},
		{"no proto", without("proto"), Ad{}, "no proto"},
		{"no game", without("game"), Ad{}, "no game"},
		{"no want", without("want"), Ad{}, "no want"},
		{"no seated", without("seated"), Ad{}, "no seated"},
		{"no secret", without("secret"), Ad{}, "no secret"},
		{"key without value", with("want"), Ad{}, "want has no value"},
		{"empty number", with("want="), Ad{}, "not a number"},
		{"signed number", with("want=+2"), Ad{}, "not a number"},
		{"negative", with("seated=-1"), Ad{}, "not a number"},
		{"huge number", with("want=99999999999999999999"), Ad{}, "not a number"},
		{"too many seats", with("want=65"), Ad{}, "not a number"},
		{"no seats", with("want=0"), Ad{}, "not a number"},
		{"more seated than wanted", with("seated=3"), Ad{}, "not a number 0..2"},
		{"proto too big", with("proto=256"), Ad{}, "not a number"},
		{"secret word", with("secret=yes"), Ad{}, "want 0 or 1"},
		{"empty game", with("game="), Ad{}, "game: empty"},
		{"game not UTF-8", with("game=\xff\xfe"), Ad{}, "not UTF-8"},
		{"game with escape", with("game=\x1b[2J"), Ad{}, "control character"},
		{"game with C1 control", with("game=a\u009bb"), Ad{}, "control character"},
		{"empty key", with("=x"), Ad{}, "no key"},
		{"control byte in key", with("ga\x00me=x"), Ad{}, "key has byte"},
		{"string too long", with("x=" + strings.Repeat("a", MaxTXTString)), Ad{}, "bytes (at most 255)"},
		{"too many strings", make([]string, MaxTXTStrings+1), Ad{}, "strings (at most"},
		{"nil", nil, Ad{}, "no txtvers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTXT(tc.txt)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("ParseTXT(%q): %v", tc.txt, err)
				}
				if d := cmp.Diff(tc.want, got, addrs); d != "" {
					t.Errorf("ParseTXT(%q) (-want +got):\n%s", tc.txt, d)
				}
				return
			}
			if !errors.Is(err, ErrTXT) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTXT(%q) = %v, want an ErrTXT saying %q", tc.txt, err, tc.err)
			}
		})
	}
}

func TestInstanceNames(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"alice.example.com", "alice"},
		{"Bob's laptop", "Bob-s-laptop"},
		{"", "p2pa"},
		{"...", "p2pa"},
		{"ünï", "n"}, // non-ASCII bytes become dashes, then trimmed
		{strings.Repeat("a", 100), strings.Repeat("a", MaxInstanceLen)},
	} {
		got := InstanceFrom(tc.in, "p2pa")
		if got != tc.want {
			t.Errorf("InstanceFrom(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if err := CheckInstance(got); err != nil {
			t.Errorf("InstanceFrom(%q) = %q, which CheckInstance refuses: %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"", "a b", "a.b", "a\\b", strings.Repeat("a", MaxInstanceLen+1), "\x00"} {
		if CheckInstance(bad) == nil {
			t.Errorf("CheckInstance(%q) accepted it", bad)
		}
	}
}

// FuzzParseTXT feeds ParseTXT any strings (the fuzzer's bytes cut into DNS
// character-strings: a length byte, then that many bytes). It must never panic; whatever
// it accepts must encode again and parse to the same Ad.
func FuzzParseTXT(f *testing.F) {
	enc := func(txt ...string) []byte {
		var b []byte
		for _, s := range txt {
			b = append(b, byte(len(s)))
			b = append(b, s...)
		}
		return b
	}
	good, _ := EncodeTXT(sample)
	f.Add(enc(good...))
	f.Add(enc("txtvers=1", "proto=1", "game=g", "want=2", "seated=3", "secret=0"))
	f.Add(enc("TXTVERS=1", "proto=007", "game=\xff", "want", "seated=", "secret=2"))
	f.Add([]byte{})
	f.Add([]byte{255, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var txt []string
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			txt = append(txt, string(data[1:1+n]))
			data = data[1+n:]
		}
		a, err := ParseTXT(txt)
		if err != nil {
			if !errors.Is(err, ErrTXT) {
				t.Fatalf("ParseTXT(%q): error %v does not wrap ErrTXT", txt, err)
			}
			return
		}
		again, err := EncodeTXT(a)
		if err != nil {
			t.Fatalf("ParseTXT(%q) accepted %+v, which EncodeTXT refuses: %v", txt, a, err)
		}
		b, err := ParseTXT(again)
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", again, err)
		}
		if d := cmp.Diff(a, b, addrs); d != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", txt, d)
		}
	})
}
