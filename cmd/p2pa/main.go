// Command p2pa plays the coin game with another player over UDP: both run the same
// deterministic simulation and only inputs cross the network, with rollback hiding the
// latency. p2pa itself links no graphics, so -headless, -synctest, -replay and -diff run on
// machines without a display; for a window it starts p2pa-window (installed beside it) with
// the same arguments.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"p2pa/internal/peer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := peer.ParseFlags("p2pa", args, stdout)
	if errors.Is(err, peer.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "p2pa: %v\n", err)
		return 2
	}
	if o.Serve.Addr != "" {
		defer peer.StartProfile(o.Profile)()
		return serve(o.Serve, stdout, stderr)
	}
	windowed := !o.Diff && !o.SyncTest && !o.Headless
	if !windowed { // a window profiles itself, in its own process
		defer peer.StartProfile(o.Profile)()
	}
	switch {
	case o.Diff:
		differ, err := peer.RunDiff(o.DiffA, o.DiffB, stdout)
		if err != nil {
			return fail(stderr, err)
		}
		if differ {
			return 1
		}
		return 0
	case o.SyncTest:
		return fail(stderr, peer.RunSyncTest(o, stdout, stderr))
	case o.Replay != "" && o.Headless:
		return fail(stderr, peer.RunReplayFrames(o.Replay, o.Frames, stdout))
	case o.Spectate != "" && o.Headless:
		return fail(stderr, peer.RunSpectate(o, stdout))
	case o.Headless:
		return fail(stderr, peer.RunHeadless(o, stdout))
	}
	return runWindow(o, args, stdout, stderr)
}

// fail prints err as one line and picks the exit status (peer.ExitCode): 2 for bad
// arguments, 130/143 for a match Ctrl-C or SIGTERM stopped before its end, 1 otherwise.
func fail(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "p2pa: %v\n", oneLine(err))
	return peer.ExitCode(err)
}

// oneLine joins the lines of a joined error with "; ".
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// runWindow starts the window binary with our arguments, after checking there is a display
// to open it on: the window binary links ebiten, which panics at start-up without one.
func runWindow(o peer.Options, args []string, stdout, stderr io.Writer) int {
	if msg := noDisplay(); msg != "" {
		hint := "run with -headless (add -bot for a bot player)"
		if o.Replay != "" {
			hint = "add -headless to replay without a window"
		}
		fmt.Fprintf(stderr, "p2pa: %s; %s\n", msg, hint)
		return 1
	}
	bin, err := windowBinary()
	if err != nil {
		fmt.Fprintf(stderr, "p2pa: %v; run with -headless, or build it: go build -o %s ./cmd/p2pa-window\n", err, filepath.Dir(os.Args[0]))
		return 1
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	// The window handles Ctrl-C itself (it ends the match cleanly; the terminal sends it to
	// both processes), and we pass on a TERM or HUP aimed at us alone, so the window never
	// outlives its launcher.
	signal.Ignore(os.Interrupt)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "p2pa: start %s: %v\n", bin, err)
		return 1
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sig:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintf(stderr, "p2pa: %s: %v\n", bin, err)
		return 1
	}
	return 0
}

func noDisplay() string {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "android", "js":
		return ""
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return "no display to open a window on (DISPLAY is not set)"
	}
	return ""
}

// windowBinary finds p2pa-window next to this executable, then on PATH.
func windowBinary() (string, error) {
	name := "p2pa-window"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("the window program %s is not installed beside p2pa or on PATH", name)
}
