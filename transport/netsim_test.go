package transport

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseNetsim(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		spec    string
		want    LinkConfig
		wantStr string // canonical String()
		errPart string
	}{
		{spec: "", want: LinkConfig{}},
		{spec: "  ", want: LinkConfig{}, wantStr: ""},
		{spec: "latency=40ms", want: LinkConfig{Latency: 40 * ms}, wantStr: "latency=40ms"},
		{
			spec: "latency=40ms,jitter=10ms,loss=5%,dup=1%,reorder=1%,outage=2s-4s",
			want: LinkConfig{Latency: 40 * ms, Jitter: 10 * ms, Loss: 0.05, Dup: 0.01, Reorder: 0.01,
				Outages: []Outage{{2 * time.Second, 4 * time.Second}}},
			wantStr: "latency=40ms,jitter=10ms,loss=5%,dup=1%,reorder=1%,outage=2s-4s",
		},
		{
			spec:    " outage = 1s-2s , loss=0.25,latency=1.5s, outage=10s-1m ",
			want:    LinkConfig{Latency: 1500 * ms, Loss: 0.25, Outages: []Outage{{time.Second, 2 * time.Second}, {10 * time.Second, time.Minute}}},
			wantStr: "latency=1.5s,loss=25%,outage=1s-2s,outage=10s-1m0s",
		},
		{spec: "loss=7%", want: LinkConfig{Loss: 0.07}, wantStr: "loss=7%"},
		{spec: "loss=100%,dup=0%", want: LinkConfig{Loss: 1}, wantStr: "loss=100%"},
		{spec: "reorder=0.5", want: LinkConfig{Reorder: 0.5}, wantStr: "reorder=50%"},
		{spec: "jitter=0s", want: LinkConfig{}, wantStr: ""},
		{spec: "outage=0s-1ns", want: LinkConfig{Outages: []Outage{{0, 1}}}, wantStr: "outage=0s-1ns"},
		{spec: "loss=12.5%", want: LinkConfig{Loss: 0.125}, wantStr: "loss=12.5%"},
		{spec: "dup=0.001%", want: LinkConfig{Dup: 0.00001}, wantStr: "dup=0.001%"},
		{spec: "latency=1h", want: LinkConfig{Latency: time.Hour}, wantStr: "latency=1h0m0s"},

		{spec: "rate=32kbit,queue=10kB", want: LinkConfig{Rate: 32000, Queue: 10000}, wantStr: "rate=32kbit,queue=10kB"},
		{spec: "rate=1.5mbit, queue=4KiB", want: LinkConfig{Rate: 1500000, Queue: 4096}, wantStr: "rate=1500kbit,queue=4KiB"},
		{spec: "rate=64000bit", want: LinkConfig{Rate: 64000}, wantStr: "rate=64kbit"},
		{spec: "rate=1gbit,queue=1600B", want: LinkConfig{Rate: 1e9, Queue: 1600}, wantStr: "rate=1gbit,queue=1600B"},
		{spec: "rate=16 kbit,queue=1MB", want: LinkConfig{Rate: 16000, Queue: 1e6}, wantStr: "rate=16kbit,queue=1MB"},
		{spec: "rate=32", errPart: "rate=32: want a number and a unit"},
		{spec: "rate=-5kbit", errPart: "rate=-5kbit: want a number"},
		{spec: "rate=0kbit", errPart: "rate=0kbit: want a number"},
		{spec: "rate=0.5bit", errPart: "must be a whole number"},
		{spec: "rate=1e20bit", errPart: "must be a whole number"},
		{spec: "queue=10kB", errPart: "queue=10000B: needs a rate"},
		{spec: "rate=8kbit,queue=100B", errPart: "must hold one datagram"},
		{spec: "rate=8kbit,queue=1000MB", errPart: "queue=1000000000B: must be in 0.."},
		{spec: "rate=8kbit,rate=9kbit", errPart: "rate given twice"},

		{spec: "latency", errPart: `item "latency": want key=value`},
		{spec: "=5ms", errPart: "want key=value"},
		{spec: "latency=40ms,,loss=1%", errPart: `item "": want key=value`},
		{spec: "latency=40", errPart: "latency=40: want a duration"},
		{spec: "latency=-1ms", errPart: "latency=-1ms: must be in"},
		{spec: "latency=2h", errPart: "latency=2h: must be in"},
		{spec: "jitter=fast", errPart: "jitter=fast"},
		{spec: "loss=5", errPart: "loss=5: want a percentage"},
		{spec: "loss=101%", errPart: "loss=101%: percentage must be"},
		{spec: "loss=-1%", errPart: "loss=-1%"},
		{spec: "dup=NaN%", errPart: "dup=NaN%"},
		{spec: "reorder=x%", errPart: "reorder=x%"},
		{spec: "outage=2s", errPart: "outage=2s: want a window"},
		{spec: "outage=4s-2s", errPart: "outage=4s-2s: want 0 <= start < end"},
		{spec: "outage=2s-2s", errPart: "start < end"},
		{spec: "outage=-1s-2s", errPart: "outage=-1s-2s"},
		{spec: "latency=1ms,latency=2ms", errPart: "latency given twice"},
		{spec: "lag=40ms", errPart: `unknown key "lag"`},
		{spec: "Latency=40ms", errPart: `unknown key "Latency"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseNetsim(tt.spec)
			if tt.errPart != "" {
				if err == nil {
					t.Fatalf("ParseNetsim(%q) = %+v, want error containing %q", tt.spec, got, tt.errPart)
				}
				if !strings.Contains(err.Error(), tt.errPart) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("ParseNetsim(%q) error %q, want one line containing %q", tt.spec, err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseNetsim(%q): %v", tt.spec, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("ParseNetsim(%q) mismatch (-want +got):\n%s", tt.spec, diff)
			}
			if s := got.String(); s != tt.wantStr {
				t.Errorf("String() = %q, want %q", s, tt.wantStr)
			}
			back, err := ParseNetsim(got.String())
			if err != nil {
				t.Fatalf("ParseNetsim(String() = %q): %v", got.String(), err)
			}
			if diff := cmp.Diff(got, back, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round trip through %q mismatch (-first +second):\n%s", got.String(), diff)
			}
		})
	}
}

func TestLinkConfigStringRoundTrip(t *testing.T) {
	tenth, fifth := 0.1, 0.2
	for _, c := range []LinkConfig{
		{},
		{Loss: 0.07, Dup: 0.003, Reorder: 1},
		{Loss: 1.0 / 3},                    // no short percentage parses back exactly
		{Loss: 0.1 + 0.2},                  // 0.30000000000000004
		{Dup: 5e-324},                      // smallest subnormal
		{Latency: 1, Jitter: MaxLinkDelay}, // 1ns
		{Outages: []Outage{{0, 1}, {3 * time.Second, 1<<63 - 1}}},
		{Rate: 1, Queue: MaxLinkQueue},
		{Rate: 123456789, Queue: 1 << 20},
		{Rate: 32000, Latency: 20 * time.Millisecond},
	} {
		s := c.String()
		back, err := ParseNetsim(s)
		if err != nil {
			t.Errorf("ParseNetsim(%q) (from %+v): %v", s, c, err)
			continue
		}
		if diff := cmp.Diff(c, back, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip through %q mismatch (-want +got):\n%s", s, diff)
		}
	}
	for _, tt := range []struct {
		c    LinkConfig
		want string
	}{
		{LinkConfig{Loss: 0.07}, "loss=7%"}, // 0.07*100 is 7.000000000000001
		{LinkConfig{Loss: tenth + fifth}, "loss=30.000000000000004%"},
		{LinkConfig{Dup: 5e-324}, "dup=5e-324"},
		{LinkConfig{Reorder: 1e-10}, "reorder=0.00000001%"},
	} {
		if s := tt.c.String(); s != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, s, tt.want)
		}
	}
}

func TestLinkConfigValidate(t *testing.T) {
	bad := []LinkConfig{
		{Latency: -1},
		{Jitter: MaxLinkDelay + 1},
		{Loss: 1.5},
		{Dup: -0.1},
		{Outages: []Outage{{2, 1}}},
		{Rate: -1},
		{Queue: 10000},
		{Rate: 8000, Queue: 100},
		{Rate: 8000, Queue: MaxLinkQueue + 1},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if err := (LinkConfig{Latency: time.Second, Loss: 1, Outages: []Outage{{0, 1}}}).Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func FuzzParseNetsim(f *testing.F) {
	for _, s := range []string{
		"", "latency=40ms,jitter=10ms,loss=5%,dup=1%,reorder=1%,outage=2s-4s",
		"loss=0.3", "outage=1s-2s,outage=3s-4s", "rate=32kbit,queue=10kB", "rate=1.5mbit", "queue=3KiB", "loss=7%", "dup=1e-300", "latency=-1s", "x=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := ParseNetsim(spec)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseNetsim(%q) = %+v, which is invalid: %v", spec, c, err)
		}
		s := c.String()
		back, err := ParseNetsim(s)
		if err != nil {
			t.Fatalf("ParseNetsim(%q) -> String %q -> %v", spec, s, err)
		}
		if diff := cmp.Diff(c, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip %q -> %q mismatch (-first +second):\n%s", spec, s, diff)
		}
		if s2 := back.String(); s2 != s {
			t.Fatalf("String not canonical: %q then %q", s, s2)
		}
	})
}
