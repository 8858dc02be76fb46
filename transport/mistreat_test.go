package transport

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// mistreatRun sends n distinct datagrams from A to B, one a millisecond, over a link with
// cfg, and returns them and everything B received, in order.
func mistreatRun(t *testing.T, seed uint64, cfg LinkConfig, n int) (sent [][]byte, got []arrival, st LinkStats) {
	t.Helper()
	e := newEmu(t, seed)
	e.net.SetLink(addrA, addrB, cfg)
	fill := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		// Random bytes after a header: no two datagrams are a few bit flips apart.
		d := []byte{0xB7, byte(i % 5)}
		for range 2 + i%3 {
			d = binary.LittleEndian.AppendUint64(d, fill.Uint64())
		}
		sent = append(sent, d)
		if err := e.a.WriteTo(d, addrB); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Millisecond)
		got = append(got, drain(e.b, e.clock.Now())...)
	}
	e.clock.Advance(time.Second)
	got = append(got, drain(e.b, e.clock.Now())...)
	return sent, got, e.net.Stats(addrA, addrB)
}

// TestMistreatments: each mistreatment alone adds copies of exactly its kind, from the
// sender's address, counted in its own LinkStats field, while every original datagram still
// arrives once, unchanged.
func TestMistreatments(t *testing.T) {
	const n = 2000
	originals := func(sent [][]byte) map[string]int {
		m := map[string]int{}
		for i, d := range sent {
			m[string(d)] = i
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		cfg   LinkConfig
		count func(LinkStats) uint64
		// is reports whether extra, received after original i was sent, is this kind of copy.
		is func(sent [][]byte, i int, extra []byte) bool
	}{
		{"corrupt", LinkConfig{Corrupt: 0.15, Latency: 5 * time.Millisecond}, func(s LinkStats) uint64 { return s.Corrupted },
			func(sent [][]byte, i int, x []byte) bool {
				for _, d := range sent[max(0, i-10) : i+1] {
					if len(d) == len(x) {
						diff := 0
						for k := range d {
							diff += bits.OnesCount8(d[k] ^ x[k])
						}
						if diff >= 1 && diff <= 3 {
							return true
						}
					}
				}
				return false
			}},
		{"truncate", LinkConfig{Truncate: 0.05, Jitter: 3 * time.Millisecond}, func(s LinkStats) uint64 { return s.Truncated },
			func(sent [][]byte, i int, x []byte) bool {
				for _, d := range sent[max(0, i-10) : i+1] {
					if len(x) < len(d) && bytes.HasPrefix(d, x) {
						return true
					}
				}
				return false
			}},
		{"replay", LinkConfig{Replay: 0.1}, func(s LinkStats) uint64 { return s.Replayed },
			func(sent [][]byte, i int, x []byte) bool {
				for _, d := range sent[:i] { // an earlier datagram, not the one just sent
					if bytes.Equal(d, x) {
						return true
					}
				}
				return false
			}},
		{"forge", LinkConfig{Forge: 0.1}, func(s LinkStats) uint64 { return s.Forged },
			func(sent [][]byte, i int, x []byte) bool {
				for _, d := range sent[max(0, i-10) : i+1] {
					if len(x) == len(d) && bytes.Equal(x[:2], d[:2]) {
						return true
					}
				}
				return false
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent, got, st := mistreatRun(t, 7, tc.cfg, n)
			orig := originals(sent)
			seen := make([]int, n)
			extras := 0
			last := -1 // the latest original received: copies come after their original was sent
			for _, a := range got {
				if a.From != addrA {
					t.Fatalf("a datagram from %v", a.From)
				}
				if i, ok := orig[a.Payload]; ok && (tc.name != "replay" || seen[i] == 0) {
					seen[i]++
					last = max(last, i)
					continue
				}
				extras++
				// The copy was made when some datagram up to the last sent so far was sent.
				if !tc.is(sent, min(n-1, int(a.At/time.Millisecond)), []byte(a.Payload)) {
					t.Fatalf("received %x at %v: not a %s copy", a.Payload, a.At, tc.name)
				}
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("original %d arrived %d times", i, c)
				}
			}
			if c := tc.count(st); c == 0 || c != uint64(extras) {
				t.Errorf("%d extra copies received, stats count %d", extras, c)
			}
			made := st.Corrupted + st.Truncated + st.Replayed + st.Forged
			if st.Sent+st.Duplicated+made != st.Delivered+st.Lost+st.Dropped {
				t.Errorf("stats do not add up: %+v", st)
			}
			t.Logf("%s: %d of %d datagrams got an extra copy; %+v", tc.name, extras, n, st)
		})
	}
}

// TestMistreatmentsReplayExactly: the same seed gives the same arrivals, byte for byte, and
// another seed other ones; a mistreating link is not perfect, and probabilities are checked.
func TestMistreatmentsReplayExactly(t *testing.T) {
	cfg := LinkConfig{Latency: 10 * time.Millisecond, Jitter: 4 * time.Millisecond, Loss: 0.05, Dup: 0.02,
		Corrupt: 0.1, Truncate: 0.05, Replay: 0.05, Forge: 0.05}
	_, a, sa := mistreatRun(t, 11, cfg, 500)
	_, b, sb := mistreatRun(t, 11, cfg, 500)
	if diff := cmp.Diff(a, b, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" || sa != sb {
		t.Fatalf("two runs of seed 11 differ (-first +second):\n%s", diff)
	}
	_, c, _ := mistreatRun(t, 12, cfg, 500)
	if cmp.Equal(a, c, cmpopts.EquateComparable(netip.AddrPort{})) {
		t.Error("seeds 11 and 12 mistreat alike")
	}
	if (LinkConfig{Forge: 0.1}).Perfect() {
		t.Error("a forging link counts as perfect")
	}
	if err := (LinkConfig{Corrupt: 1.5}).Validate(); err == nil {
		t.Error("corrupt=1.5 validates")
	}
}
