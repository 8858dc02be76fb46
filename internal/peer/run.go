package peer

import (
	"github.com/pkg/profile"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"p2pa/game"
	"p2pa/internal/bot"
	"p2pa/lockstep"
	"p2pa/lockstep/synctest"
)

// UsageError marks errors the command line reports with exit status 2: the arguments (an
// address, a port in use) were wrong, not the game.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// StartProfile starts -profile cpu|mem (written to the current directory) and returns the
// function that stops it; "" profiles nothing.
func StartProfile(kind string) (stop func()) {
	switch kind {
	case "cpu":
		return profile.Start(profile.CPUProfile, profile.ProfilePath("."), profile.Quiet).Stop
	case "mem":
		return profile.Start(profile.MemProfile, profile.ProfilePath("."), profile.Quiet).Stop
	}
	return func() {}
}

// RunHeadless plays a match without a window: the bot (or a still mouse) gives the input,
// 60 frames a second, until -frames is confirmed, the peer leaves, or SIGINT/SIGTERM
// (which end it as cleanly as Quit; Close then reports *Interrupted, see ExitCode).
func RunHeadless(o Options, out io.Writer) error {
	if o.Server != "" {
		return runRoomHeadless(o, out)
	}
	if o.Player != 0 && o.Peer == "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		var err error
		o, _, err = FindGame(ctx, o, out)
		stop()
		if err != nil {
			return err
		}
	}
	m, err := Start(o, out)
	if err != nil {
		return &UsageError{err}
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	m.Serve(sig, nil)
	return m.Close()
}

// runRoomHeadless is RunHeadless through a room (-server): the room gives the links.
func runRoomHeadless(o Options, out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	link, err := JoinRoom(ctx, o, out)
	stop()
	if err != nil {
		return err
	}
	m, err := StartLink(o, link, out)
	if err != nil {
		return errors.Join(err, link.Conn.Close())
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	m.Serve(sig, nil)
	return m.Close()
}

// RunSyncTest is p2pa -synctest: scripted bot inputs for every player, a forced rollback of
// -check frames every frame, checksums compared. The last line it prints is the summary.
func RunSyncTest(o Options, out, errOut io.Writer) error {
	st, err := game.New(game.Config{Mode: o.Mode, Coins: o.Coins, Players: o.Players, Seed: o.Seed})
	if err != nil {
		return &UsageError{err}
	}
	return runSyncTest(o, st, st, out, errOut)
}

// runSyncTest runs the sync test on g, whose state st reports the final checksum; tests
// pass a deliberately broken g around st to show the check can fail.
func runSyncTest(o Options, st *game.State, g lockstep.Game, out, errOut io.Writer) error {
	frames := o.Frames
	if frames == 0 {
		frames = 10000
	}
	players := o.Players
	test, err := synctest.New(lockstep.Config{
		Players:       players,
		InputSize:     game.InputSize,
		MaxPrediction: max(o.MaxPred, o.CheckDistance),
		DiffStates:    diffStates,
	}, o.CheckDistance)
	if err != nil {
		return &UsageError{err}
	}
	bots := make([]*bot.Bot, players)
	for p := range bots {
		bots[p] = bot.NewBot(o.Seed*31 + uint64(p) + 1)
	}
	in := make([]byte, 0, game.InputSize)
	mismatches := 0
	var runErr error
	for range frames {
		for p, b := range bots {
			var err error
			if in, err = b.Next().AppendBinary(in[:0]); err != nil {
				return fmt.Errorf("bot of player %d: %w", p, err)
			}
			if err := test.AddLocalInput(p, in); err != nil {
				return err
			}
		}
		reqs, err := test.AdvanceFrame()
		if err == nil {
			err = lockstep.Apply(g, reqs)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	if runErr == nil {
		runErr = test.Verify()
	}
	var mm *synctest.MismatchError
	if errors.As(runErr, &mm) {
		mismatches = 1
		fmt.Fprintf(errOut, "p2pa: %v\n", runErr)
	} else if runErr != nil {
		return runErr
	}
	fmt.Fprintf(out, "synctest frames=%d rollbacks=%d mismatches=%d checksum=%016x\n", test.Frame(), test.Rollbacks(), mismatches, st.Checksum())
	if mismatches > 0 {
		return fmt.Errorf("synctest: %d mismatch", mismatches)
	}
	return nil
}

// RunDiff is p2pa -diff a b: the field-by-field difference of two saved states. It reports
// whether they differ.
func RunDiff(a, b string, out io.Writer) (bool, error) {
	da, err := readState(a)
	if err != nil {
		return false, err
	}
	db, err := readState(b)
	if err != nil {
		return false, err
	}
	d, err := game.Diff(da, db)
	if err != nil {
		return false, err
	}
	if d == "" {
		fmt.Fprintf(out, "%s and %s are the same state\n", a, b)
		return false, nil
	}
	fmt.Fprintf(out, "--- %s\n+++ %s\n%s", a, b, d)
	return true, nil
}

// readState reads a saved state for -diff: its header first, which says how long the state
// is, so a file that is not a state, or not as long as its header says, is refused before
// the rest is read; then exactly that many bytes.
func readState(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, game.HeaderSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	size, err := game.EncodedSize(head[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() != int64(size) {
		return nil, fmt.Errorf("%s: %w: %d bytes, its header says %d", path, game.ErrState, fi.Size(), size)
	}
	data := make([]byte, size)
	copy(data, head)
	if n, err := io.ReadFull(f, data[len(head):]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w: %d bytes, its header says %d", path, game.ErrState, len(head)+n, size)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var extra [1]byte
	if n, err := f.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("%s: %w: longer than the %d bytes its header says", path, game.ErrState, size)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if _, err := game.Decode(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}
