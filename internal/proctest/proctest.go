// Package proctest runs real processes in tests: it builds the project's commands once per
// test binary, starts them with their stdout collected line by line, and waits for a line
// or for the exit without polling. It is for _test.go files only; no other code imports it
// (TestNotImportedOutsideTests checks).
//
// A test package that uses Build calls Main from its TestMain, which removes the built
// binaries once all the tests (every -count round) have run:
//
//	func TestMain(m *testing.M) { proctest.Main(m) }
package proctest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// builds holds what Build built in this test binary, one directory per package set, all
// under root.
var builds struct {
	mu   sync.Mutex
	main bool   // Main is running the tests
	root string // created on the first Build, removed by Main
	sets map[string]*build
}

type build struct {
	once sync.Once
	dir  string
	err  error
}

// Main runs the tests and then removes the binaries Build made, and exits with the tests'
// status. Call it from TestMain in every test package that uses Build.
func Main(m *testing.M) {
	builds.mu.Lock()
	builds.main = true
	builds.mu.Unlock()
	code := m.Run()
	builds.mu.Lock()
	if builds.root != "" {
		if err := os.RemoveAll(builds.root); err != nil {
			fmt.Fprintln(os.Stderr, "proctest:", err)
		}
	}
	builds.mu.Unlock()
	os.Exit(code)
}

// Build builds the named packages (import paths such as "p2pa/cmd/p2pa") with go build,
// into one directory, and returns that directory: the binary of p2pa/cmd/p2pa is
// filepath.Join(dir, "p2pa"). Each set of packages is built once per test binary, however
// many tests (parallel or not, over any -count) ask for it; the directory lives until Main
// removes it, so no test may delete or change what is in it. Packages built together are
// beside each other, which is where p2pa looks for p2pa-window.
//
// The build is a plain one, without -race, whatever flags the tests run with: the tests are
// about the processes, and this keeps it to one compile of each package.
func Build(t testing.TB, pkgs ...string) (dir string) {
	t.Helper()
	return BuildTags(t, "", pkgs...)
}

// BuildTags is Build with build tags (go build -tags tags; "" for none): a binary built
// with a test-only feature, such as p2pa's p2pa_diverge. Each set of tags and packages is
// built once, into a directory of its own.
func BuildTags(t testing.TB, tags string, pkgs ...string) (dir string) {
	t.Helper()
	if len(pkgs) == 0 {
		t.Fatal("proctest.Build: no packages")
	}
	key := tags + "|" + strings.Join(slices.Sorted(slices.Values(pkgs)), " ")
	builds.mu.Lock()
	if !builds.main {
		builds.mu.Unlock()
		t.Fatal("proctest.Build: call proctest.Main from TestMain, which removes the binaries after the tests")
	}
	if builds.sets == nil {
		builds.sets = map[string]*build{}
	}
	b := builds.sets[key]
	if b == nil {
		b = &build{}
		builds.sets[key] = b
	}
	var err error
	if builds.root == "" {
		builds.root, err = os.MkdirTemp("", "p2pa-proctest-")
	}
	root := builds.root
	builds.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	b.once.Do(func() {
		b.dir, b.err = goBuild(root, tags, pkgs)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir
}

func goBuild(root, tags string, pkgs []string) (string, error) {
	dir, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return "", err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	// The test runs in its package's directory, inside the module, so import paths resolve.
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, pkgs...)
	if out, err := exec.Command(goTool, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	return dir, nil
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago: it listens on
// port 0, reads the port the system chose and closes the socket. That is racy — another
// process may take the port before the test's process binds it — so a caller that can
// should retry with another port when the process fails with "address already in use".
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// Substring is a regular expression matching s literally, for WaitLine.
func Substring(s string) *regexp.Regexp {
	return regexp.MustCompile(regexp.QuoteMeta(s))
}
