package transport

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxLinkDelay bounds Latency and Jitter: anything longer is not a network a game can run on,
// and the bound keeps delay arithmetic far from overflow.
const MaxLinkDelay = time.Hour

// LinkConfig describes one direction of an emulated link. The zero value is a perfect link:
// no delay, nothing lost, duplicated or reordered.
//
// Each datagram, in this order: if it is sent inside an Outage it is lost; otherwise it is
// lost with probability Loss; otherwise it is delayed by Latency + uniform[-Jitter, +Jitter]
// (floored at 0) and, with probability Reorder, by an extra uniform[ReorderMin,
// ReorderWindow()] so that later datagrams overtake it; then, with probability Dup, a second copy is sent with
// its own independently drawn Latency ± Jitter.
type LinkConfig struct {
	Latency, Jitter    time.Duration // one way; delay = Latency + uniform[-Jitter, +Jitter], floored at 0
	Loss, Dup, Reorder float64       // probabilities 0..1; Reorder: extra delay, see ReorderWindow
	Outages            []Outage      // datagrams sent during [From, To) are lost

	// Mistreatments, probabilities 0..1 of an extra copy: with 1–3 bits
	// flipped, cut short, an earlier datagram of the link again, a forgery from the same
	// address. The link emulator (Network) applies them; -netsim does not offer them.
	Corrupt, Truncate, Replay, Forge float64

	// Bandwidth (see Rate). A datagram that survives Outages and Loss waits until the link has
	// sent every byte accepted before it, then takes (len+LinkOverhead)*8/Rate seconds to send;
	// its delay above comes on top. One that would make more than Queue bytes wait is dropped.
	Rate  int64 // bits per second, LinkOverhead bytes counted per datagram; 0 = unlimited
	Queue int   // bytes that may wait for the link (overhead included), 0 = no bound; needs Rate
}

// LinkOverhead is what a datagram costs on the wire beyond its payload when a link has a
// Rate: the IPv4 and UDP headers (20 + 8 bytes), as a real link shaper counts them.
const LinkOverhead = 28

// MaxLinkQueue bounds Queue (64 MiB), which keeps the queue arithmetic far from overflow.
const MaxLinkQueue = 64 << 20

// Outage is a window of the link's clock, [From, To), during which every datagram sent is lost.
type Outage struct{ From, To time.Duration }

// ReorderMin is the smallest extra delay a reordered datagram gets: more than one 60 Hz frame,
// so that even on a zero-latency link the datagram sent on the next frame overtakes it.
const ReorderMin = 20 * time.Millisecond

// ReorderWindow is the largest extra delay a reordered datagram gets: 2×Latency + 40ms. A
// reordered datagram is held back by uniform[ReorderMin, ReorderWindow()] on top of its normal
// delay, so it falls behind the datagrams sent during the following 20ms to a round trip.
func (c LinkConfig) ReorderWindow() time.Duration { return 2*c.Latency + 40*time.Millisecond }

// Perfect reports whether the link neither delays nor drops nor duplicates anything.
func (c LinkConfig) Perfect() bool {
	return c.Latency == 0 && c.Jitter == 0 && c.Loss == 0 && c.Dup == 0 && c.Reorder == 0 &&
		len(c.Outages) == 0 && c.Corrupt == 0 && c.Truncate == 0 && c.Replay == 0 && c.Forge == 0 &&
		c.Rate == 0
}

// Validate checks the ranges ParseNetsim enforces, for configs built in code.
func (c LinkConfig) Validate() error {
	if err := checkDelay("latency", c.Latency); err != nil {
		return err
	}
	if err := checkDelay("jitter", c.Jitter); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"loss", c.Loss}, {"dup", c.Dup}, {"reorder", c.Reorder},
		{"corrupt", c.Corrupt}, {"truncate", c.Truncate}, {"replay", c.Replay}, {"forge", c.Forge}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("%s=%v: probability must be in 0..1", p.name, p.v)
		}
	}
	for _, o := range c.Outages {
		if o.From < 0 || o.To <= o.From {
			return fmt.Errorf("outage=%v-%v: want 0 <= start < end", o.From, o.To)
		}
	}
	return c.validateRate()
}

func (c LinkConfig) validateRate() error {
	switch {
	case c.Rate < 0:
		return fmt.Errorf("rate=%dbit: must not be negative", c.Rate)
	case c.Queue < 0 || c.Queue > MaxLinkQueue:
		return fmt.Errorf("queue=%dB: must be in 0..%d", c.Queue, MaxLinkQueue)
	case c.Queue > 0 && c.Rate == 0:
		return fmt.Errorf("queue=%dB: needs a rate", c.Queue)
	case c.Queue > 0 && c.Queue < MaxDatagram+LinkOverhead:
		// Smaller, and the largest datagram could never be sent even on an idle link.
		return fmt.Errorf("queue=%dB: must hold one datagram of %d bytes", c.Queue, MaxDatagram+LinkOverhead)
	}
	return nil
}

func checkDelay(name string, d time.Duration) error {
	if d < 0 || d > MaxLinkDelay {
		return fmt.Errorf("%s=%v: must be in 0..%v", name, d, MaxLinkDelay)
	}
	return nil
}

// ParseNetsim parses a -netsim flag: comma-separated key=value items in any order, any
// subset, e.g. "latency=40ms,jitter=10ms,loss=5%,dup=1%,reorder=1%,outage=2s-4s".
//
//	latency, jitter   Go durations ("40ms", "1.5s"), 0..MaxLinkDelay
//	loss, dup, reorder a percentage "5%" (0..100) or a fraction "0.05" (0..1)
//	outage            "FROM-TO" durations on the link's clock; repeat the key for more windows
//	rate              bits per second: "32kbit", "1.5mbit", "64000bit" (k, m, g: powers of 1000, as tc)
//	queue             bytes: "10kB", "4KiB", "1600B" (kB, MB: powers of 1000; KiB, MiB: of 1024)
//
// "" (or only spaces) is a perfect link. Spaces around items, keys and values are ignored.
// Errors name the offending item. LinkConfig.String is the inverse.
func ParseNetsim(spec string) (LinkConfig, error) {
	var c LinkConfig
	if strings.TrimSpace(spec) == "" {
		return c, nil
	}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		key, val, found := strings.Cut(item, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !found || key == "" {
			return LinkConfig{}, fmt.Errorf("netsim %q: item %q: want key=value", spec, item)
		}
		if seen[key] && key != "outage" {
			return LinkConfig{}, fmt.Errorf("netsim %q: %s given twice", spec, key)
		}
		seen[key] = true
		var err error
		switch key {
		case "latency":
			c.Latency, err = parseDelay(val)
		case "jitter":
			c.Jitter, err = parseDelay(val)
		case "loss":
			c.Loss, err = parseProb(val)
		case "dup":
			c.Dup, err = parseProb(val)
		case "reorder":
			c.Reorder, err = parseProb(val)
		case "outage":
			var o Outage
			o, err = parseOutage(val)
			c.Outages = append(c.Outages, o)
		case "rate":
			c.Rate, err = parseUnits(val, rateUnits)
		case "queue":
			var q int64
			q, err = parseUnits(val, sizeUnits)
			c.Queue = int(q)
		default:
			return LinkConfig{}, fmt.Errorf("netsim %q: unknown key %q (want latency, jitter, loss, dup, reorder, outage, rate, queue)", spec, key)
		}
		if err != nil {
			return LinkConfig{}, fmt.Errorf("netsim %q: %s=%s: %w", spec, key, printable(val), err)
		}
	}
	if err := c.validateRate(); err != nil {
		return LinkConfig{}, fmt.Errorf("netsim %q: %w", spec, err)
	}
	return c, nil
}

// unit is a suffix and what one of it is worth; lists run largest first, so String picks
// the largest unit that divides a value exactly.
type unit struct {
	suffix string
	value  int64
}

var (
	rateUnits = []unit{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}
	sizeUnits = []unit{{"MiB", 1 << 20}, {"MB", 1e6}, {"KiB", 1 << 10}, {"kB", 1e3}, {"B", 1}}
)

// parseUnits reads a positive number with one of units' suffixes ("32kbit", "1.5mbit"); the
// result must be a whole number of the base unit, at most MaxLinkQueue for sizes.
func parseUnits(s string, units []unit) (int64, error) {
	want := fmt.Sprintf("want a number and a unit like %q", "32"+units[len(units)-2].suffix)
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !(v > 0) {
			return 0, errors.New(want)
		}
		total := v * float64(u.value)
		if total > 1e15 || total != math.Trunc(total) {
			return 0, fmt.Errorf("%v%s: must be a whole number of %s up to 1e15", v, u.suffix, units[len(units)-1].suffix)
		}
		return int64(total), nil
	}
	return 0, errors.New(want)
}

// formatUnits prints v with the largest unit that divides it exactly.
func formatUnits(v int64, units []unit) string {
	for _, u := range units {
		if v%u.value == 0 {
			return strconv.FormatInt(v/u.value, 10) + u.suffix
		}
	}
	return strconv.FormatInt(v, 10) + units[len(units)-1].suffix
}

// printable returns s, quoted if it holds anything but printable characters, so an error
// message stays one readable line.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func parseDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New(`want a duration like "40ms"`)
	}
	if d < 0 || d > MaxLinkDelay {
		return 0, fmt.Errorf("must be in 0..%v", MaxLinkDelay)
	}
	return d, nil
}

func parseProb(s string) (float64, error) {
	pct, isPct := strings.CutSuffix(s, "%")
	if isPct {
		v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || !(v >= 0 && v <= 100) {
			return 0, errors.New("percentage must be a number in 0..100")
		}
		return v/100 + 0, nil // + 0 turns -0 into 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return 0, errors.New(`want a percentage like "5%" (0..100) or a fraction like "0.05" (0..1)`)
	}
	return v + 0, nil
}

func parseOutage(s string) (Outage, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Outage{}, errors.New(`want a window like "2s-4s"`)
	}
	f, err1 := time.ParseDuration(strings.TrimSpace(from))
	t, err2 := time.ParseDuration(strings.TrimSpace(to))
	if err1 != nil || err2 != nil {
		return Outage{}, errors.New(`want a window like "2s-4s"`)
	}
	if f < 0 || t <= f {
		return Outage{}, errors.New("want 0 <= start < end")
	}
	return Outage{From: f, To: t}, nil
}

// String formats c for ParseNetsim: for a valid c without mistreatments, ParseNetsim(c.String())
// gives c back exactly (a nil and an empty Outages compare alike). The perfect link formats as "".
func (c LinkConfig) String() string {
	var parts []string
	if c.Latency != 0 {
		parts = append(parts, "latency="+c.Latency.String())
	}
	if c.Jitter != 0 {
		parts = append(parts, "jitter="+c.Jitter.String())
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"loss", c.Loss}, {"dup", c.Dup}, {"reorder", c.Reorder}} {
		if p.v != 0 {
			parts = append(parts, p.name+"="+formatProb(p.v))
		}
	}
	for _, o := range c.Outages {
		parts = append(parts, "outage="+o.From.String()+"-"+o.To.String())
	}
	if c.Rate != 0 {
		parts = append(parts, "rate="+formatUnits(c.Rate, rateUnits))
	}
	if c.Queue != 0 {
		parts = append(parts, "queue="+formatUnits(int64(c.Queue), sizeUnits))
	}
	return strings.Join(parts, ",")
}

// formatProb prints p as the shortest percentage that parses back to exactly p, or, when no
// percentage does (p*100 rounds), as a fraction in strconv's shortest form, which always does.
func formatProb(p float64) string {
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return strconv.FormatFloat(p, 'g', -1, 64) // invalid; ParseNetsim will say so
	}
	for prec := 1; prec <= 17; prec++ {
		// Round p*100 to prec significant digits, then print that value plainly ("100", not
		// the "1e+02" of 'g' at precision 1).
		r, _ := strconv.ParseFloat(strconv.FormatFloat(p*100, 'g', prec, 64), 64)
		pct := strconv.FormatFloat(r, 'f', -1, 64) + "%"
		if len(pct) > 20 {
			break // tiny: "0.000…05%" helps nobody; the fraction prints as "5e-324"
		}
		if back, err := parseProb(pct); err == nil && back == p {
			return pct
		}
	}
	return strconv.FormatFloat(p, 'g', -1, 64)
}
