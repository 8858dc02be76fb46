package lockstep

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestCapInputs: whatever the inputs and the limit, the capped prefix is at most limit
// bytes (or one token), encodes exactly the first count inputs, and count >= 1; a limit the
// encoding fits in leaves it whole.
func TestCapInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 3, 7, 8, 20, MaxInputSize} {
		for trial := range 200 {
			n := 1 + rng.IntN(maxInputsPerSend)
			in := make([]byte, n*size)
			for i := range n {
				if rng.IntN(3) == 0 { // repeats make runs, changes make masks
					continue
				}
				for j := range size {
					if rng.IntN(2) == 0 {
						in[i*size+j] = byte(rng.Uint32())
					}
				}
			}
			base := make([]byte, size)
			enc := appendInputs(nil, base, in, size)
			limit := 1 + rng.IntN(2*maxInputBytes)
			t.Run(fmt.Sprintf("size=%d/%d", size, trial), func(t *testing.T) {
				got, count := capInputs(enc, size, limit)
				if count < 1 || count > n {
					t.Fatalf("count %d of %d", count, n)
				}
				if len(enc) <= limit && (len(got) != len(enc) || count != n) {
					t.Fatalf("%d bytes fit in %d, but capped to %d bytes, %d inputs", len(enc), limit, len(got), count)
				}
				if c, err := countInputs(got, size); err != nil || c != count {
					t.Fatalf("prefix holds %d inputs (%v), capInputs says %d", c, err, count)
				}
				if len(got) > limit && len(got) > 1+(size+7)/8+size {
					t.Fatalf("%d bytes over the limit %d: more than the one token always kept", len(got), limit)
				}
				var dec []byte
				decodeInputs(got, base, count, size, make([]byte, size), func(_ int, b []byte) { dec = append(dec, b...) })
				if !bytes.Equal(dec, in[:count*size]) {
					t.Fatalf("the prefix does not decode to the first %d inputs", count)
				}
			})
		}
	}
}

// TestBackoff drives the back-off with acknowledgement delays as a link would produce them:
// a steady or jittery one never backs off; a queue that grows makes it back off within a
// few adjustment periods, never beyond maxBackoff; once the delay is back at its floor it
// returns to a message every frame.
func TestBackoff(t *testing.T) {
	const frame = time.Second / 60
	type phase struct {
		seconds int
		delay   func(i int) time.Duration // the acknowledgement delay of the i-th frame; < 0: none
	}
	rng := rand.New(rand.NewPCG(3, 4))
	steady := func(int) time.Duration { return 40 * time.Millisecond }
	tests := []struct {
		name   string
		phases []phase
		check  func(t *testing.T, levels []int)
	}{
		{"steady", []phase{{30, steady}}, func(t *testing.T, l []int) {
			if m := maxOf(l); m != 0 {
				t.Errorf("backed off to %d on a steady link", m)
			}
		}},
		{"jitter30ms", []phase{{30, func(int) time.Duration {
			return 40*time.Millisecond + time.Duration(rng.Int64N(int64(30*time.Millisecond)))
		}}}, func(t *testing.T, l []int) {
			if m := maxOf(l); m != 0 {
				t.Errorf("backed off to %d on a link with 30 ms of jitter", m)
			}
		}},
		{"queue", []phase{
			{5, steady},
			{10, func(i int) time.Duration { return 40*time.Millisecond + time.Duration(i)*5*time.Millisecond }}, // +300 ms a second
			{20, steady},
		}, func(t *testing.T, l []int) {
			at := func(s float64) int { return l[int(s*60)] }
			if at(4.9) != 0 {
				t.Errorf("level %d before the queue", at(4.9))
			}
			if at(7) == 0 {
				t.Errorf("not backed off 2 s into a growing queue")
			}
			if m := maxOf(l); m > maxBackoff {
				t.Errorf("level %d beyond maxBackoff", m)
			}
			if at(34.9) != 0 {
				t.Errorf("still at level %d 20 s after the queue drained", at(34.9))
			}
		}},
		{"outage", []phase{
			{5, steady},
			// 2 s without acknowledgements; the first ones after it come late, for the frames
			// sent just before (the cap holds back the rest), and then it is steady again.
			{2, func(int) time.Duration { return -1 }},
			{1, func(i int) time.Duration {
				if i < 3 {
					return 2*time.Second - time.Duration(i)*frame
				}
				return 40 * time.Millisecond
			}},
			{10, steady},
		}, func(t *testing.T, l []int) {
			if m := maxOf(l); m != 0 {
				t.Errorf("backed off to %d after an outage", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c congestion
			var levels []int
			now := time.Duration(0)
			f := Frame(0)
			for _, ph := range tt.phases {
				for i := range ph.seconds * 60 {
					// Frame f goes out now; its acknowledgement comes back after the delay.
					c.sent(f, f, now)
					if d := ph.delay(i); d >= 0 {
						c.acked(f, now+d)
					}
					levels = append(levels, c.backoff)
					now += frame
					f++
				}
			}
			tt.check(t, levels)
		})
	}
}

func maxOf(l []int) int {
	m := 0
	for _, v := range l {
		m = max(m, v)
	}
	return m
}
