package peer_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"p2pa/game"
	"p2pa/internal/peer"
	"p2pa/internal/sim"
	"p2pa/lockstep"
	"p2pa/transport"
)

// Offsets in the replay file's header (see replay.go).
const (
	replayOffFormat   = 10
	replayOffProtocol = 11
	replayOffMode     = 12
	replayOffPlayers  = 13
	replayOffCoins    = 14
	replayOffSize     = 26
	replayOffFrames   = 27
	replayOffChecksum = 31
	replayHeaderLen   = 39
)

// recordedSim is a match played by internal/sim whose confirmed inputs were recorded each
// tick through Session.ConfirmedInputs, as the live recorder does.
type recordedSim struct {
	sim    *sim.Sim
	replay *peer.Replay
}

// recordSim plays frames frames over link and returns the recording, cut at the last
// frame both peers confirmed. Both peers' recordings must be identical.
func recordSim(t testing.TB, frames int, seed uint64, link transport.LinkConfig) recordedSim {
	t.Helper()
	s, err := sim.New(sim.Scenario{Frames: frames, Seed: seed, Link: link}, sim.Coins{Mode: game.Versus, Coins: 40})
	if err != nil {
		t.Fatal(err)
	}
	var inputs [2][]byte
	var next [2]lockstep.Frame
	record := func() {
		for i, p := range s.Peers {
			for {
				var ok bool
				inputs[i], ok = p.Runner.Session().ConfirmedInputs(inputs[i], next[i])
				if !ok {
					break
				}
				next[i]++
			}
		}
	}
	for !s.Finished() {
		if s.Ticks > 4*frames+600 {
			t.Fatalf("not finished after %d ticks", s.Ticks)
		}
		if err := s.Step(); err != nil {
			t.Fatal(err)
		}
		record()
	}
	if _, err := s.Compare(); err != nil {
		t.Fatal(err)
	}
	// Inputs confirmed up to n-1 make state n final only once a pending rollback over them
	// is carried out, so cut at the confirmed frame too.
	n := min(next[0], next[1], s.Peers[0].Runner.Session().ConfirmedFrame(), s.Peers[1].Runner.Session().ConfirmedFrame())
	width := 2 * game.InputSize
	if !bytes.Equal(inputs[0][:int(n)*width], inputs[1][:int(n)*width]) {
		t.Fatal("the two peers confirmed different inputs")
	}
	// The state at frame n is the result of inputs 0..n-1; both peers must have it.
	sum, ok := s.Peers[0].Checksum(n)
	if sum1, ok1 := s.Peers[1].Checksum(n); !ok || !ok1 || sum != sum1 {
		t.Fatalf("confirmed checksums of frame %d: %016x (%v) and %016x (%v)", n, sum, ok, sum1, ok1)
	}
	return recordedSim{sim: s, replay: &peer.Replay{
		Mode: game.Versus, Players: 2, Coins: 40, Seed: agreedSeed(t, s.Peers[0].Runner.Session()),
		Frames: int(n), Checksum: sum, Inputs: inputs[0][:int(n)*width],
	}}
}

// TestReplayOfSimMatch: inputs recorded from a simulated match over a bad link, played
// again from game.New, give the peers' checksum at every 100th frame and at the end, and the
// recording survives its file form bit for bit.
func TestReplayOfSimMatch(t *testing.T) {
	t.Parallel()
	link := transport.LinkConfig{Latency: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05, Dup: 0.01, Reorder: 0.01}
	rec := recordSim(t, 1500, 4, link)
	r := rec.replay
	if r.Frames < 1400 {
		t.Fatalf("only %d frames confirmed", r.Frames)
	}
	rollbacks := 0
	for _, p := range rec.sim.Peers {
		rollbacks += int(p.Runner.Session().Stats(nil).Rollbacks)
	}
	if rollbacks == 0 {
		t.Error("no rollbacks: the link did not make the peers predict")
	}

	data := r.Encode()
	back, err := peer.DecodeReplay(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Encode(), data) || back.Frames != r.Frames || back.Seed != r.Seed || back.Checksum != r.Checksum {
		t.Fatal("replay does not survive Encode/DecodeReplay")
	}
	checked := 0
	sum, err := back.Run(func(st *game.State) {
		f := int(st.Frame())
		if f%100 != 0 {
			return
		}
		got := st.Checksum()
		for _, p := range rec.sim.Peers {
			want, ok := p.Checksum(lockstep.Frame(f))
			if !ok {
				t.Errorf("player %d has no checksum of frame %d", p.Player, f)
				continue
			}
			if got != want {
				t.Errorf("frame %d: replay %016x, player %d %016x", f, got, p.Player, want)
			}
			checked++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum != r.Checksum {
		t.Errorf("replay ends on %016x, the match on %016x", sum, r.Checksum)
	}
	if checked != 2*(r.Frames/100) {
		t.Errorf("checked %d checksums, want %d", checked, 2*(r.Frames/100))
	}

	// The same through the file and RunReplay, which prints the live result line's fields.
	path := filepath.Join(t.TempDir(), "m.replay")
	if err := peer.WriteFileAtomic(path, data); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := peer.RunReplay(path, &out); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("frame=%d checksum=%016x ", r.Frames, r.Checksum)
	if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("RunReplay printed %q, want one line starting %q", out.String(), want)
	}
}

// smallReplay is a real recording of a short simulated match, for the refusal tests and
// the fuzz seed.
func smallReplay(t testing.TB) []byte {
	t.Helper()
	return recordSim(t, 120, 9, transport.LinkConfig{Latency: 20 * time.Millisecond, Loss: 0.05}).replay.Encode()
}

func mutate(b []byte, off int, v ...byte) []byte {
	c := slices.Clone(b)
	copy(c[off:], v)
	return c
}

// TestReplayRefused: other versions, other configurations, truncated and garbage files are
// refused with an error that says why, never mis-played and never a panic.
func TestReplayRefused(t *testing.T) {
	t.Parallel()
	good := smallReplay(t)
	if _, err := peer.DecodeReplay(good); err != nil {
		t.Fatal(err)
	}
	if len(good) < replayHeaderLen || string(good[:10]) != "P2PAREPLAY" || good[replayOffProtocol] != lockstep.ProtocolVersion {
		t.Fatalf("the replay header is not laid out as this test expects: % x", good[:min(len(good), replayHeaderLen)])
	}
	stateBytes := must(game.New(game.Config{})).SaveState(nil)
	cases := []struct {
		name string
		data []byte
		want string // in the error
	}{
		{"format 2", mutate(good, replayOffFormat, 2), "replay format 2"},
		{"format 0", mutate(good, replayOffFormat, 0), "replay format 0"},
		{"protocol+1", mutate(good, replayOffProtocol, lockstep.ProtocolVersion+1), "protocol"},
		{"protocol 0", mutate(good, replayOffProtocol, 0), "protocol 0"},
		{"mode", mutate(good, replayOffMode, 7), "mode"},
		{"players 0", mutate(good, replayOffPlayers, 0), "players"},
		// Zero players or coins must not stand for a default: the file would be played
		// with another configuration than it says (and zero players need no inputs, so
		// a 39-byte file could ask for four billion frames).
		{"players 0 no inputs", mutate(good[:replayHeaderLen], replayOffPlayers, 0), "players"},
		{"players 0 max frames", mutate(mutate(good[:replayHeaderLen], replayOffPlayers, 0), replayOffFrames, 0xff, 0xff, 0xff, 0xff), "players"},
		{"players 5", mutate(good, replayOffPlayers, 5), "players"},
		{"players 1", mutate(good, replayOffPlayers, 1), "inputs"},
		{"coins 0", mutate(good, replayOffCoins, 0, 0, 0, 0), "coins"},
		{"coins huge", mutate(good, replayOffCoins, 0xff, 0xff, 0xff, 0x7f), "coins"},
		{"input size", mutate(good, replayOffSize, game.InputSize+1), "inputs"},
		{"frames+1", mutate(good, replayOffFrames, good[replayOffFrames]+1), "inputs"},
		{"frames max", mutate(good, replayOffFrames, 0xff, 0xff, 0xff, 0xff), "inputs"},
		{"one byte more", append(slices.Clone(good), 0), "inputs"},
		// 429496730 frames × 10 bytes wraps to 4 in 32-bit arithmetic (GOARCH=386).
		{"frames wrap", append(mutate(good[:replayHeaderLen], replayOffFrames, 0x9a, 0x99, 0x99, 0x19), 1, 2, 3, 4), "inputs"},
		{"empty", nil, "not a p2pa replay"},
		{"text", []byte("frame=600 checksum=0123456789abcdef\n"), "not a p2pa replay"},
		{"game state", stateBytes, "not a p2pa replay"},
		{"magic only", []byte("P2PAREPLAY"), "truncated"},
	}
	for cut := range len(good) {
		cases = append(cases, struct {
			name string
			data []byte
			want string
		}{"cut at " + strconv.Itoa(cut), good[:cut], ""})
	}
	dir := t.TempDir()
	for i, c := range cases {
		r, err := peer.DecodeReplay(c.data)
		if err == nil {
			t.Errorf("%s: decoded a replay of %d frames, %d players, %d coins, mode %v", c.name, r.Frames, r.Players, r.Coins, r.Mode)
			continue
		}
		if !errors.Is(err, peer.ErrReplay) || !strings.Contains(strings.ToLower(err.Error()), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want one line wrapping ErrReplay and mentioning %q", c.name, err, c.want)
		}
		if i >= 20 {
			continue // the cuts go through the file too only in the cases above
		}
		// Through a file and RunReplay: the error names the file and nothing is printed.
		path := filepath.Join(dir, "r"+strconv.Itoa(i)+".replay")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err = peer.RunReplay(path, &out)
		if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, peer.ErrReplay) {
			t.Errorf("%s: RunReplay error %v, want one naming %s and wrapping ErrReplay", c.name, err, path)
		}
		if out.Len() != 0 {
			t.Errorf("%s: RunReplay printed %q for a refused file", c.name, out.String())
		}
	}

	// A replay whose end checksum does not match its inputs: the file is well formed, but
	// RunReplay must not print a result line for it.
	tampered := mutate(good, replayOffChecksum, good[replayOffChecksum]^1)
	path := filepath.Join(dir, "tampered.replay")
	if err := os.WriteFile(path, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := peer.RunReplay(path, &out); err == nil || !strings.Contains(err.Error(), "checksum") || out.Len() != 0 {
		t.Errorf("tampered checksum: RunReplay returned %v and printed %q", err, out.String())
	}
	if err := peer.RunReplay(filepath.Join(dir, "missing.replay"), &out); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// FuzzDecodeReplay: any bytes either decode to a replay that is exactly what they say
// (re-encoding gives them back, the configuration is valid as written, the inputs fit the
// frames) or give an error wrapping ErrReplay. Never a panic.
func FuzzDecodeReplay(f *testing.F) {
	good := smallReplay(f)
	f.Add(good)
	f.Add(good[:replayHeaderLen])
	f.Add(mutate(good, replayOffFormat, 2))
	f.Add(mutate(good, replayOffPlayers, 0))
	// Found by this fuzz test: 0 players passed as "the default", with no inputs needed.
	f.Add([]byte("P2PAREPLAY\x01\x01\x01\x0000\x00\x0000000000\x05000000000000"))
	f.Add(append(mutate(good[:replayHeaderLen], replayOffFrames, 0x9a, 0x99, 0x99, 0x19), 1, 2, 3, 4))
	f.Add([]byte("P2PAREPLAY"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := peer.DecodeReplay(b)
		if err != nil {
			if r != nil || !errors.Is(err, peer.ErrReplay) {
				t.Fatalf("DecodeReplay returned %v and %v", r, err)
			}
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatal("re-encoding a decoded replay changes it")
		}
		if r.Players < 1 || r.Players > game.MaxPlayers || r.Coins < 1 || r.Coins > game.MaxCoins || r.Frames < 0 {
			t.Fatalf("decoded out-of-range header: %d players, %d coins, %d frames", r.Players, r.Coins, r.Frames)
		}
		if len(r.Inputs) != r.Frames*r.Players*game.InputSize {
			t.Fatalf("%d bytes of inputs for %d frames of %d players", len(r.Inputs), r.Frames, r.Players)
		}
		st, err := r.NewState()
		if err != nil {
			t.Fatalf("a decoded replay's game does not start: %v", err)
		}
		// The game plays the configuration written in the file, not a default for it.
		if st.Players() != r.Players || len(st.Coins()) != r.Coins || st.Mode() != r.Mode {
			t.Fatalf("file says %d players, %d coins, %v; the game has %d, %d, %v", r.Players, r.Coins, r.Mode, st.Players(), len(st.Coins()), st.Mode())
		}
		if r.Frames*r.Coins <= 1<<20 {
			if _, err := r.Run(nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestWriteFileAtomic: the file appears whole or not at all, and a failed write leaves no
// temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	entries := func(dir string) []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	data := bytes.Repeat([]byte("p2pa"), 1<<16)

	t.Run("ok", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "out.replay")
		if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := peer.WriteFileAtomic(name, data); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(name); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v", len(got), err)
		}
		if got := entries(dir); !slices.Equal(got, []string{"out.replay"}) {
			t.Errorf("directory holds %q", got)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "no", "such", "out.replay")
		if err := peer.WriteFileAtomic(name, data); err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("WriteFileAtomic into a missing directory: %v", err)
		}
		if got := entries(dir); len(got) != 0 {
			t.Errorf("left %q behind", got)
		}
	})
	t.Run("rename fails", func(t *testing.T) {
		// The target is a non-empty directory: the temporary file is written, then the
		// rename fails, and the temporary file must go.
		dir := t.TempDir()
		name := filepath.Join(dir, "out.replay")
		if err := os.MkdirAll(filepath.Join(name, "keep"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := peer.WriteFileAtomic(name, data); err == nil {
			t.Fatal("WriteFileAtomic over a non-empty directory succeeded")
		}
		if got := entries(dir); !slices.Equal(got, []string{"out.replay"}) {
			t.Errorf("directory holds %q, want only the untouched out.replay", got)
		}
		if got := entries(name); !slices.Equal(got, []string{"keep"}) {
			t.Errorf("target directory now holds %q", got)
		}
	})
	t.Run("read-only directory", func(t *testing.T) {
		dir := t.TempDir()
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
		if f, err := os.CreateTemp(ro, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Skip("this user can write into a read-only directory (root?)")
		}
		if err := peer.WriteFileAtomic(filepath.Join(ro, "out.replay"), data); err == nil || !errors.Is(err, os.ErrPermission) {
			t.Fatalf("WriteFileAtomic into a read-only directory: %v", err)
		}
		if got := entries(ro); len(got) != 0 {
			t.Errorf("left %q behind", got)
		}
	})
}

// agreedSeed is the session's seed, which the caller knows is agreed (it ran).
func agreedSeed(tb testing.TB, s *lockstep.Session) uint64 {
	seed, ok := s.Seed()
	if !ok {
		tb.Fatalf("player %d: no agreed seed (%v)", s.LocalPlayer(), s.State())
	}
	return seed
}

// TestReadReplayHeaderFirst: ReadReplay reads a file's header before the rest. A 1 GiB file
// that is not a replay is called that (not "larger than 64 MiB", as when 64 MiB of it were
// read first), one whose length is not what its header says is refused for it, and a
// header that asks for more than 64 MiB of inputs is refused before they are read.
func TestReadReplayHeaderFirst(t *testing.T) {
	t.Parallel()
	good := smallReplay(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		head []byte
		want string
	}{
		{"zeros", nil, "not a p2pa replay"},
		{"text", []byte("frame=600 checksum=0123456789abcdef\n"), "not a p2pa replay"},
		{"good header", good[:replayHeaderLen], "bytes of inputs for"},
		{"whole replay", good, "bytes of inputs for"},
		{"too many frames", mutate(good[:replayHeaderLen], replayOffFrames, 0xff, 0xff, 0xff, 0xff), "larger than 64 mib"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".replay")
		if err := os.WriteFile(path, c.head, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, 1<<30); err != nil { // sparse: no disk, no time
			t.Fatal(err)
		}
		_, err := peer.ReadReplay(path)
		if err == nil || !errors.Is(err, peer.ErrReplay) || !strings.Contains(strings.ToLower(err.Error()), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming %s and saying %q", c.name, err, path, c.want)
		}
	}
}
