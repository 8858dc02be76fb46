package discovery

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ServiceType is the DNS-SD service type the p2pa binaries advertise and browse.
const ServiceType = "_p2pa._udp"

// TXTVersion is the version of the TXT record layout below (the txtvers key of RFC 6763
// section 6.7). A reader refuses other versions rather than guess at their fields.
const TXTVersion = 1

// Limits on what a TXT record may say. A DNS character-string holds at most 255 bytes.
const (
	MaxTXTString   = 255
	MaxTXTStrings  = 32 // more strings than any record of ours has: someone else's junk
	MaxGame        = 200
	MaxSeats       = 64
	MaxProtocol    = 255
	MaxInstanceLen = 63 // one DNS label
)

// The TXT keys, one constant each (RFC 6763 section 6.4: short, case-insensitive).
const (
	keyTXTVers = "txtvers"
	keyProto   = "proto"
	keyGame    = "game"
	keyWant    = "want"
	keySeated  = "seated"
	keySecret  = "secret"
)

// Ad is what an advertisement says about a match waiting for players.
type Ad struct {
	Instance string         // service instance name (one DNS label)
	Addr     netip.AddrPort // where the host listens; zero in what Advertise is given
	Protocol int            // the host's network protocol version
	Game     string         // the game the host plays; a joiner must play the same
	Want     int            // players the match needs, the host included
	Seated   int            // players already in it
	Secret   bool           // joining needs a shared secret
}

// Open reports whether the match still has a free seat.
func (a Ad) Open() bool { return a.Seated < a.Want }

// ErrTXT is wrapped by every error ParseTXT returns.
var ErrTXT = errors.New("bad TXT record")

// EncodeTXT returns the TXT strings that describe a, after checking a as ParseTXT would.
func EncodeTXT(a Ad) ([]string, error) {
	txt := []string{
		keyTXTVers + "=" + strconv.Itoa(TXTVersion),
		keyProto + "=" + strconv.Itoa(a.Protocol),
		keyGame + "=" + a.Game,
		keyWant + "=" + strconv.Itoa(a.Want),
		keySeated + "=" + strconv.Itoa(a.Seated),
		keySecret + "=" + boolDigit(a.Secret),
	}
	if _, err := ParseTXT(txt); err != nil {
		return nil, fmt.Errorf("advertise: %w", err)
	}
	return txt, nil
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ParseTXT reads the TXT strings of an advertisement into an Ad (without Instance and
// Addr). Keys are case-insensitive; unknown keys are ignored so later versions can add
// some; as RFC 6763 says, only the first occurrence of a key counts. Every error wraps
// ErrTXT.
func ParseTXT(txt []string) (Ad, error) {
	var a Ad
	if len(txt) > MaxTXTStrings {
		return a, fmt.Errorf("%w: %d strings (at most %d)", ErrTXT, len(txt), MaxTXTStrings)
	}
	fields := make(map[string]string, len(txt))
	for i, s := range txt {
		if len(s) > MaxTXTString {
			return a, fmt.Errorf("%w: string %d is %d bytes (at most %d)", ErrTXT, i, len(s), MaxTXTString)
		}
		if s == "" {
			continue // an empty string is allowed and means nothing
		}
		key, value, ok := strings.Cut(s, "=")
		if key == "" {
			return a, fmt.Errorf("%w: string %d has no key", ErrTXT, i)
		}
		for j := 0; j < len(key); j++ {
			if c := key[j]; c < 0x20 || c > 0x7e {
				return a, fmt.Errorf("%w: string %d: key has byte %#x", ErrTXT, i, c)
			}
		}
		key = strings.ToLower(key)
		if _, seen := fields[key]; seen {
			continue
		}
		if !ok {
			value = "\x00" // a key with no '=': present, no value (RFC 6763 6.4)
		}
		fields[key] = value
	}
	get := func(key string) (string, error) {
		v, ok := fields[key]
		if !ok {
			return "", fmt.Errorf("%w: no %s", ErrTXT, key)
		}
		if v == "\x00" {
			return "", fmt.Errorf("%w: %s has no value", ErrTXT, key)
		}
		return v, nil
	}
	num := func(key string, lo, hi int) (int, error) {
		v, err := get(key)
		if err != nil {
			return 0, err
		}
		// Digits only: Atoi would take a sign, and a leading zero run could be any length.
		if v == "" || len(v) > 3 || strings.Trim(v, "0123456789") != "" {
			return 0, fmt.Errorf("%w: %s=%q is not a number %d..%d", ErrTXT, key, v, lo, hi)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%w: %s=%q is not a number %d..%d", ErrTXT, key, v, lo, hi)
		}
		return n, nil
	}
	vers, err := num(keyTXTVers, 0, 999)
	if err != nil {
		return a, err
	}
	if vers != TXTVersion {
		return a, fmt.Errorf("%w: txtvers %d, we read %d", ErrTXT, vers, TXTVersion)
	}
	if a.Protocol, err = num(keyProto, 0, MaxProtocol); err != nil {
		return a, err
	}
	if a.Game, err = get(keyGame); err != nil {
		return a, err
	}
	if err := checkText(a.Game, MaxGame); err != nil {
		return a, fmt.Errorf("%w: game: %v", ErrTXT, err)
	}
	if a.Want, err = num(keyWant, 1, MaxSeats); err != nil {
		return a, err
	}
	if a.Seated, err = num(keySeated, 0, a.Want); err != nil {
		return a, err
	}
	secret, err := get(keySecret)
	if err != nil {
		return a, err
	}
	switch secret {
	case "0":
	case "1":
		a.Secret = true
	default:
		return a, fmt.Errorf("%w: secret=%q: want 0 or 1", ErrTXT, secret)
	}
	return a, nil
}

// checkText accepts non-empty valid UTF-8 of at most limit bytes with no control
// characters, so it can be printed to a terminal as it is.
func checkText(s string, limit int) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > limit:
		return fmt.Errorf("%d bytes (at most %d)", len(s), limit)
	case !utf8.ValidString(s):
		return errors.New("not UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("control character %U", r)
		}
	}
	return nil
}

// CheckInstance accepts an instance name we advertise and browse: one DNS label of
// letters, digits, '-' and '_', so it needs no escaping anywhere it is printed or typed.
func CheckInstance(name string) error {
	if name == "" || len(name) > MaxInstanceLen {
		return fmt.Errorf("instance name %q: want 1..%d characters", name, MaxInstanceLen)
	}
	for i := 0; i < len(name); i++ {
		if !instanceByte(name[i]) {
			return fmt.Errorf("instance name %q: only letters, digits, '-' and '_'", name)
		}
	}
	return nil
}

func instanceByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// InstanceFrom turns any name (a host name, say) into a valid instance name: other bytes
// become '-', a domain suffix is dropped, and it is cut to one label. An empty result is
// fallback.
func InstanceFrom(name, fallback string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	b := []byte(name)
	for i, c := range b {
		if !instanceByte(c) {
			b[i] = '-'
		}
	}
	if len(b) > MaxInstanceLen {
		b = b[:MaxInstanceLen]
	}
	if s := strings.Trim(string(b), "-"); s != "" {
		return s
	}
	return fallback
}
