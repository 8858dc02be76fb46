package peer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"p2pa/game"
	"p2pa/lockstep"
)

// A replay file is
//
//	"P2PAREPLAY" | format version (1) | protocol version (1) | mode (1) | players (1) |
//	coins (4, LE) | seed (8, LE) | input size (1) | frames (4, LE) | end checksum (8, LE) |
//	frames × players × input size bytes of confirmed inputs
//
// so a replay re-runs exactly the inputs both peers confirmed and ends on the checksum the
// live match printed. It is written once, at the end, through a temporary file.
const (
	replayMagic   = "P2PAREPLAY"
	replayVersion = 1
	replayHeader  = len(replayMagic) + 1 + 1 + 1 + 1 + 4 + 8 + 1 + 4 + 8
	maxReplay     = 64 << 20
)

// Replay is a decoded replay file.
type Replay struct {
	Mode     game.Mode
	Players  int
	Coins    int
	Seed     uint64
	Frames   int
	Checksum uint64 // of the state at Frames, as the live match printed it
	Inputs   []byte // Frames × Players × game.InputSize
}

type recorder struct {
	path   string
	replay Replay
	next   lockstep.Frame
	err    error
}

func newRecorder(o Options, seed uint64) *recorder {
	return &recorder{path: o.Record, replay: Replay{Mode: o.Mode, Players: o.Players, Coins: o.Coins, Seed: seed}}
}

// confirmed records in, the inputs of frame f-1 that led to confirmed state f (the
// runner's OnConfirmed). After a rejoin the match goes on from an earlier frame than the
// last one recorded: the inputs from there on are replaced.
func (r *recorder) confirmed(f lockstep.Frame, in []byte) {
	if r.err != nil || f == 0 {
		return
	}
	row := f - 1
	width := r.replay.Players * game.InputSize
	switch {
	case row > r.next && r.next == 0:
		r.err = fmt.Errorf("we rejoined the match at frame %d and hold none of its inputs before it; nothing recorded (the players who stayed have the whole match)", f)
	case row > r.next:
		r.err = fmt.Errorf("frames %d..%d were never confirmed here", r.next, row-1)
	case len(in) != width:
		r.err = fmt.Errorf("inputs of frame %d were forgotten before they were recorded", row)
	case (int(row)+1)*width > maxReplay:
		r.err = fmt.Errorf("recording longer than %d MiB", maxReplay>>20)
	default:
		r.replay.Inputs = append(r.replay.Inputs[:int(row)*width], in...)
		r.next = row + 1
	}
}

// finish writes the recording up to frame end, the match's end, with the checksum the live
// match computed for it, so a replay is checked against the match, not against itself.
func (r *recorder) finish(end lockstep.Frame, sum uint64) error {
	if r.err != nil {
		return r.err
	}
	width := r.replay.Players * game.InputSize
	frames := min(int(end), len(r.replay.Inputs)/width)
	if frames < 0 {
		frames = 0
	}
	if frames != int(end) {
		return fmt.Errorf("recorded %d frames, but the match ended at frame %d", frames, end)
	}
	r.replay.Frames = frames
	r.replay.Inputs = r.replay.Inputs[:frames*width]
	r.replay.Checksum = sum
	if err := WriteFileAtomic(r.path, r.replay.Encode()); err != nil {
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	return nil
}

// Encode returns the file form.
func (r *Replay) Encode() []byte {
	b := make([]byte, 0, replayHeader+len(r.Inputs))
	b = append(b, replayMagic...)
	b = append(b, replayVersion, lockstep.ProtocolVersion, byte(r.Mode), byte(r.Players))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Coins))
	b = binary.LittleEndian.AppendUint64(b, r.Seed)
	b = append(b, game.InputSize)
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Frames))
	b = binary.LittleEndian.AppendUint64(b, r.Checksum)
	return append(b, r.Inputs...)
}

// ErrReplay wraps every reason a replay file is refused.
var ErrReplay = errors.New("not a usable replay")

// DecodeReplay parses a replay file, refusing other formats and versions with a clear error.
func DecodeReplay(b []byte) (*Replay, error) {
	r, err := decodeReplayHeader(b)
	if err != nil {
		return nil, err
	}
	body := b[replayHeader:]
	// Divide rather than multiply: on 32-bit platforms frames × width can wrap around to
	// the length of a short body, and playing it would run off the end of the inputs.
	if w := r.Players * game.InputSize; r.Frames < 0 || len(body)%w != 0 || len(body)/w != r.Frames {
		return nil, fmt.Errorf("%w: %d bytes of inputs for %d frames", ErrReplay, len(body), r.Frames)
	}
	r.Inputs = body
	return r, nil
}

// decodeReplayHeader parses and checks a replay file's header (b may hold more, or only
// the header): everything but the inputs, so ReadReplay knows what to expect before it
// reads them.
func decodeReplayHeader(b []byte) (*Replay, error) {
	if len(b) < len(replayMagic) || !bytes.Equal(b[:len(replayMagic)], []byte(replayMagic)) {
		return nil, fmt.Errorf("%w: not a p2pa replay file", ErrReplay)
	}
	if len(b) < replayHeader {
		return nil, fmt.Errorf("%w: truncated header (%d bytes)", ErrReplay, len(b))
	}
	p := b[len(replayMagic):]
	if p[0] != replayVersion {
		return nil, fmt.Errorf("%w: replay format %d, this p2pa reads format %d", ErrReplay, p[0], replayVersion)
	}
	if p[1] != lockstep.ProtocolVersion {
		return nil, fmt.Errorf("%w: recorded with protocol %d, this p2pa runs protocol %d", ErrReplay, p[1], lockstep.ProtocolVersion)
	}
	r := &Replay{Mode: game.Mode(p[2]), Players: int(p[3])}
	r.Coins = int(binary.LittleEndian.Uint32(p[4:]))
	r.Seed = binary.LittleEndian.Uint64(p[8:])
	size := int(p[16])
	r.Frames = int(binary.LittleEndian.Uint32(p[17:]))
	r.Checksum = binary.LittleEndian.Uint64(p[21:])
	// game.Config reads 0 players or coins as "the default"; in a file they are garbage.
	// Taken as defaults they would play another game than recorded, and zero players
	// need no input bytes, so a bare header could ask for four billion frames.
	if r.Players < 1 || r.Players > game.MaxPlayers {
		return nil, fmt.Errorf("%w: %d players, want 1..%d", ErrReplay, r.Players, game.MaxPlayers)
	}
	if r.Coins < 1 || r.Coins > game.MaxCoins {
		return nil, fmt.Errorf("%w: %d coins, want 1..%d", ErrReplay, r.Coins, game.MaxCoins)
	}
	if err := (game.Config{Mode: r.Mode, Coins: r.Coins, Players: r.Players, Seed: r.Seed}).Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReplay, err)
	}
	if size != game.InputSize {
		return nil, fmt.Errorf("%w: %d-byte inputs, want %d", ErrReplay, size, game.InputSize)
	}
	return r, nil
}

// ReadReplay reads and decodes a replay file. It reads the header first and refuses a
// file that is not a replay, or whose length is not what its header says, before reading
// the inputs, and then reads exactly those: a large file that is not a replay costs
// nothing (it used to be read up to 64 MiB first and then called too large).
func ReadReplay(path string) (*Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, replayHeader)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	r, err := decodeReplayHeader(head[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// In int64: frames (a uint32 on file) × width does not wrap on 32-bit platforms.
	want := int64(r.Frames) * int64(r.Players*game.InputSize)
	if want > maxReplay {
		return nil, fmt.Errorf("%s: %w: %d frames of inputs, larger than %d MiB", path, ErrReplay, r.Frames, maxReplay>>20)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() != int64(replayHeader)+want {
		// A pipe has no size to check; it is read up to the length the header says.
		return nil, fmt.Errorf("%s: %w: %d bytes of inputs for %d frames", path, ErrReplay, fi.Size()-int64(replayHeader), r.Frames)
	}
	b := make([]byte, int64(replayHeader)+want)
	copy(b, head)
	if n, err := io.ReadFull(f, b[replayHeader:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w: %d bytes of inputs for %d frames", path, ErrReplay, n, r.Frames)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var extra [1]byte
	if n, err := f.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("%s: %w: more than the %d bytes of inputs of %d frames", path, ErrReplay, want, r.Frames)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	r, err = DecodeReplay(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// NewState is the game at frame 0 of the replay.
func (r *Replay) NewState() (*game.State, error) {
	return game.New(game.Config{Mode: r.Mode, Coins: r.Coins, Players: r.Players, Seed: r.Seed})
}

// FrameInputs is every player's input of frame f.
func (r *Replay) FrameInputs(f int) []byte {
	w := r.Players * game.InputSize
	return r.Inputs[f*w : (f+1)*w]
}

// Run plays the whole replay and returns the final checksum; each, if not nil, sees the
// state after every frame.
func (r *Replay) Run(each func(*game.State)) (uint64, error) {
	st, err := r.NewState()
	if err != nil {
		return 0, err
	}
	for f := range r.Frames {
		st.AdvanceFrame(r.FrameInputs(f))
		if each != nil {
			each(st)
		}
	}
	return st.Checksum(), nil
}

// RunReplay is p2pa -replay headless: it prints the same result line as the live match.
func RunReplay(path string, out io.Writer) error { return RunReplayFrames(path, 0, out) }

// RunReplayFrames is p2pa -replay with -frames: frames > 0 stops the replay at that frame
// and prints its checksum (the recorded one is only for the end, so nothing is compared).
func RunReplayFrames(path string, frames int, out io.Writer) error {
	r, err := ReadReplay(path)
	if err != nil {
		return err
	}
	if frames > r.Frames {
		return fmt.Errorf("%s: -frames %d: the recording has %d frames", path, frames, r.Frames)
	}
	if frames > 0 && frames < r.Frames {
		r.Frames = frames
		r.Inputs = r.Inputs[:frames*r.Players*game.InputSize]
		sum, err := r.Run(nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, FormatResult(int64(r.Frames), sum, 0, 0))
		return nil
	}
	sum, err := r.Run(nil)
	if err != nil {
		return err
	}
	if sum != r.Checksum {
		return fmt.Errorf("replay of %d frames ends on checksum %016x, but the match recorded %016x", r.Frames, sum, r.Checksum)
	}
	fmt.Fprintln(out, FormatResult(int64(r.Frames), sum, 0, 0))
	return nil
}
