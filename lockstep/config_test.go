package lockstep

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// configCmp compares Configs by their plain fields (DiffStates is a func, Logger a pointer).
var configCmp = cmp.Options{cmpopts.IgnoreFields(Config{}, "DiffStates", "Logger"), cmp.AllowUnexported(Config{}, resumePoint{})}

func TestConfigWithDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Config
		want Config
	}{
		{
			name: "zero fields take the defaults",
			in:   Config{InputSize: 5},
			want: Config{
				Players: DefaultPlayers, InputSize: 5, MaxPrediction: DefaultMaxPrediction,
				FrameDuration: DefaultFrameDuration, InterruptTimeout: DefaultInterruptTimeout,
				DisconnectTimeout: DefaultDisconnectTimeout, KeepAlive: DefaultKeepAlive,
				ChecksumInterval: DefaultChecksumInterval, SyncRoundTrips: DefaultSyncRoundTrips,
			},
		},
		{
			name: "set fields stay",
			in: Config{Players: 3, InputSize: 1, InputDelay: 2, MaxPrediction: 4, FrameDuration: time.Second / 30,
				InterruptTimeout: time.Second, DisconnectTimeout: 2 * time.Second, KeepAlive: time.Millisecond,
				ChecksumInterval: -1, SyncRoundTrips: 9, Game: "g", Seed: 1, Nonce: 2},
			want: Config{Players: 3, InputSize: 1, InputDelay: 2, MaxPrediction: 4, FrameDuration: time.Second / 30,
				InterruptTimeout: time.Second, DisconnectTimeout: 2 * time.Second, KeepAlive: time.Millisecond,
				ChecksumInterval: -1, SyncRoundTrips: 9, Game: "g", Seed: 1, Nonce: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			got := in.WithDefaults()
			if diff := cmp.Diff(tc.want, got, configCmp); diff != "" {
				t.Errorf("WithDefaults (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.in, in, configCmp); diff != "" {
				t.Errorf("WithDefaults changed its receiver (-before +after):\n%s", diff)
			}
			if again := got.WithDefaults(); !cmp.Equal(got, again, configCmp) {
				t.Errorf("WithDefaults is not idempotent: %s", cmp.Diff(got, again, configCmp))
			}
		})
	}
}

// TestConfigValidateIsPure: Validate reads zero fields as their defaults but changes nothing,
// and it judges a Config the same before and after WithDefaults.
func TestConfigValidateIsPure(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{InputSize: 5}, true},
		{"no input size", Config{}, false},
		{"input too big", Config{InputSize: MaxInputSize + 1}, false},
		{"too many players", Config{InputSize: 1, Players: MaxPlayers + 1}, false},
		{"delay past the limit", Config{InputSize: 1, InputDelay: MaxInputDelay + 1}, false},
		{"prediction past the limit", Config{InputSize: 1, MaxPrediction: MaxPrediction + 1}, false},
		{"negative duration", Config{InputSize: 1, KeepAlive: -1}, false},
		// The default interrupt timeout (750 ms) is longer than this disconnect timeout.
		{"interrupt after disconnect by default", Config{InputSize: 1, DisconnectTimeout: time.Millisecond}, false},
		{"game too long", Config{InputSize: 1, Game: string(make([]byte, 201))}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.cfg
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if diff := cmp.Diff(before, tc.cfg, configCmp); diff != "" {
				t.Errorf("Validate changed the Config (-before +after):\n%s", diff)
			}
			if err2 := tc.cfg.WithDefaults().Validate(); (err2 == nil) != (err == nil) {
				t.Errorf("Validate() = %v, but after WithDefaults %v", err, err2)
			}
		})
	}
}
