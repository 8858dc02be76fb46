package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"p2pa/internal/proctest"
)

// The test binary doubles as the processes the tests start: with PROCTEST_HELPER set, it
// runs helper instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PROCTEST_HELPER"); mode != "" {
		helper(mode)
		os.Exit(0)
	}
	proctest.Main(m)
}

func helper(mode string) {
	switch mode {
	case "lines":
		fmt.Print("one\ntwo\r\nthr")
		fmt.Fprint(os.Stderr, "trouble\n")
		fmt.Print("ee\nfour") // the last line has no line end
		os.Exit(3)
	case "ticks":
		for i := range 5 {
			fmt.Printf("tick %d\n", i)
			time.Sleep(20 * time.Millisecond)
		}
		fmt.Println("ready 42")
		select {}
	case "sleep":
		select {}
	case "env":
		fmt.Println(os.Getenv("PROCTEST_A") + "," + os.Getenv("PROCTEST_B"))
	case "parent":
		// A child in the same process group, holding our stdout.
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), "PROCTEST_HELPER=sleep")
		child.Stdout, child.Stderr = os.Stdout, os.Stderr
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("child started")
		select {}
	}
}

func startHelper(t *testing.T, mode string, opts ...proctest.Option) *proctest.Proc {
	t.Helper()
	// GORACE: under -race, a program exiting with 0 otherwise waits a second.
	env := proctest.Env("PROCTEST_HELPER="+mode, "GORACE=atexit_sleep_ms=0")
	return proctest.Start(t, "helper "+mode, os.Args[0], nil, append([]proctest.Option{env}, opts...)...)
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestOutputAndExitCode(t *testing.T) {
	p := startHelper(t, "lines")
	m, err := p.WaitLine(timeout(t, time.Minute), regexp.MustCompile(`^t(..)$`))
	if err != nil || !slices.Equal(m, []string{"two", "wo"}) {
		t.Errorf("WaitLine: %q, %v; want [two wo]", m, err)
	}
	code, err := p.Wait(timeout(t, time.Minute))
	if code != 3 || err != nil {
		t.Errorf("Wait: %d, %v; want 3, nil", code, err)
	}
	if p.ExitCode() != 3 {
		t.Errorf("ExitCode %d, want 3", p.ExitCode())
	}
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) {
		t.Errorf("Err %v, want an exit error", p.Err())
	}
	stdout, stderr := p.Output()
	if want := []string{"one", "two", "three", "four"}; !slices.Equal(stdout, want) || stderr != "trouble\n" {
		t.Errorf("Output: %q, %q; want %q, %q", stdout, stderr, want, "trouble\n")
	}
	if p.LastLine() != "four" {
		t.Errorf("LastLine %q", p.LastLine())
	}
	// A line that came before the exit is still found afterwards; one that never came is
	// reported as such.
	if m, err := p.WaitLine(timeout(t, time.Minute), proctest.Substring("four")); err != nil || m[0] != "four" {
		t.Errorf("WaitLine after the exit: %q, %v", m, err)
	}
	if _, err := p.WaitLine(timeout(t, time.Minute), proctest.Substring("five")); !errors.Is(err, proctest.ErrExited) {
		t.Errorf("WaitLine for a line that never came: %v, want ErrExited", err)
	}
	if s := p.String(); !strings.Contains(s, "exit 3") || !strings.Contains(s, "one\ntwo\nthree\nfour\n") || !strings.Contains(s, "trouble") {
		t.Errorf("String:\n%s", s)
	}
}

func TestWaitLineAsLinesCome(t *testing.T) {
	p := startHelper(t, "ticks")
	m, err := p.WaitLine(timeout(t, time.Minute), regexp.MustCompile(`^ready (\d+)$`))
	if err != nil || m[1] != "42" {
		t.Fatalf("WaitLine: %q, %v", m, err)
	}
	if p.ExitCode() != -1 || p.Err() != nil {
		t.Errorf("running: ExitCode %d, Err %v; want -1, nil", p.ExitCode(), p.Err())
	}
	_, err = p.WaitLine(timeout(t, 50*time.Millisecond), proctest.Substring("never"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, proctest.ErrExited) {
		t.Errorf("WaitLine past its deadline: %v", err)
	}
	// The cleanup kills it.
}

func TestWaitTimeout(t *testing.T) {
	p := startHelper(t, "sleep")
	start := time.Now()
	code, err := p.Wait(timeout(t, 100*time.Millisecond))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait: %d, %v; want a deadline error", code, err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Wait returned with the process running")
	}
	if runtime.GOOS != "windows" {
		// SIGQUIT: the Go runtime dumps the goroutines and exits with 2, well before the kill.
		if _, stderr := p.Output(); code != 2 || !strings.Contains(stderr, "goroutine ") {
			t.Errorf("exit %d, stderr %q; want 2 and a goroutine dump", code, stderr)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("took %v", d)
		}
	}
}

func TestKillAfter(t *testing.T) {
	p := startHelper(t, "sleep", proctest.KillAfter(50*time.Millisecond))
	select {
	case <-p.Exited():
	case <-time.After(time.Minute):
		t.Fatal("still running a minute after KillAfter(50ms)")
	}
	if p.ExitCode() != -1 {
		t.Errorf("exit %d, want -1", p.ExitCode())
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("PROCTEST_A", "inherited")
	t.Setenv("PROCTEST_B", "inherited")
	p := startHelper(t, "env", proctest.Env("PROCTEST_B=replaced"))
	if code, err := p.Wait(timeout(t, time.Minute)); code != 0 || err != nil {
		t.Fatalf("%d, %v\n%v", code, err, p)
	}
	if got := p.LastLine(); got != "inherited,replaced" {
		t.Errorf("got %q", got)
	}
}

// TestGroup: ending a process ends what it started too, so that its output is complete at
// once rather than waiting for the pipe to close.
func TestGroup(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are Unix")
	}
	var p *proctest.Proc
	t.Run("started", func(t *testing.T) {
		p = startHelper(t, "parent")
		if _, err := p.WaitLine(timeout(t, time.Minute), proctest.Substring("child started")); err != nil {
			t.Fatal(err)
		}
		// The end of the subtest kills the process.
	})
	select {
	case <-p.Exited():
	default:
		t.Fatal("still running after the subtest's cleanup")
	}
	if errors.Is(p.Err(), exec.ErrWaitDelay) {
		t.Errorf("the child outlived its parent: %v", p.Err())
	}

	p = startHelper(t, "parent")
	if _, err := p.WaitLine(timeout(t, time.Minute), proctest.Substring("child started")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(timeout(t, 50*time.Millisecond)); err == nil {
		t.Fatal("it exited by itself")
	}
	if errors.Is(p.Err(), exec.ErrWaitDelay) {
		t.Errorf("the child outlived its parent: %v", p.Err())
	}
	if _, stderr := p.Output(); strings.Count(stderr, "SIGQUIT") != 2 {
		t.Errorf("want two goroutine dumps, got stderr:\n%s", stderr)
	}
}

func TestFreeUDPPort(t *testing.T) {
	if port := proctest.FreeUDPPort(t); port <= 0 || port > 65535 {
		t.Errorf("port %d", port)
	}
}

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds p2pa")
	}
	dirs := make([]string, 3)
	t.Run("parallel", func(t *testing.T) {
		for i := range dirs {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				dirs[i] = proctest.Build(t, "p2pa/cmd/p2pa")
			})
		}
	})
	if dirs[0] == "" || dirs[1] != dirs[0] || dirs[2] != dirs[0] {
		t.Fatalf("built into %q", dirs)
	}
	p := proctest.Start(t, "p2pa -h", filepath.Join(dirs[0], "p2pa"), []string{"-h"})
	if code, err := p.Wait(timeout(t, time.Minute)); code != 0 || err != nil {
		t.Errorf("p2pa -h: %d, %v\n%v", code, err, p)
	}
}

// TestNotImportedOutsideTests: proctest is for tests only.
func TestNotImportedOutsideTests(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "p2pa/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains(string(out), "\np2pa/internal/proctest: ") {
		t.Fatalf("go list does not list proctest:\n%s", out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if slices.Contains(strings.Fields(l), "p2pa/internal/proctest") {
			t.Errorf("imported by non-test code: %s", l)
		}
	}
}
