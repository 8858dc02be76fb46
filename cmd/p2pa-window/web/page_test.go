//go:build !js

// The test drives a browser from the host; chromedp does not build for js/wasm.

package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"p2pa/game"
	"p2pa/internal/peer"
	"p2pa/internal/proctest"
	"p2pa/transport"
)

// browsers are the Chromium programs the test tries, in order. The first is the real
// binary of Debian's chromium-headless-shell: /usr/bin/chromium-headless-shell is a shell
// script that starts it as a child, so a kill of the script's PID would leave the browser
// running (chromedp also cleans up by user data directory, but the real binary needs no
// cleaning up).
var browsers = []string{
	"/usr/lib/chromium/chromium-headless-shell",
	"chromium-headless-shell",
	"chromium",
	"chromium-browser",
}

func findBrowser() string {
	if p := os.Getenv("P2PA_CHROMIUM"); p != "" {
		return p
	}
	for _, b := range browsers {
		if p, err := exec.LookPath(b); err == nil {
			return p
		}
	}
	return ""
}

// TestMain lets the tests build binaries (proctest.Build: p2pa, and the page's folder
// beside it) and removes them afterwards.
func TestMain(m *testing.M) { proctest.Main(m) }

// webDir returns a folder laid out as make web lays out bin/web: P2PA_WEB_DIR if set,
// else one built here from the sources, with the wasm_exec.js of the go that builds it,
// once for all the tests (a minute of building each time otherwise). It lives in the
// directory of proctest's builds, which proctest.Main removes after the tests.
func webDir(t *testing.T) string {
	if d := os.Getenv("P2PA_WEB_DIR"); d != "" {
		for _, f := range []string{"index.html", "wasm_exec.js", "p2pa-window.wasm"} {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				t.Fatalf("P2PA_WEB_DIR=%s: %v (run make web)", d, err)
			}
		}
		return d
	}
	built.once.Do(func() {
		built.dir, built.err = buildWeb(filepath.Join(proctest.Build(t, "p2pa/cmd/p2pa"), "web"))
	})
	if built.err != nil || built.dir == "" {
		t.Fatalf("building the page's folder: %v", built.err) // nil: the first test's failure says why
	}
	return built.dir
}

var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildWeb builds the page's folder into dir.
func buildWeb(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	goRoot := strings.TrimSpace(string(root))
	build := exec.Command(filepath.Join(goRoot, "bin", "go"), "build", "-o", filepath.Join(dir, "p2pa-window.wasm"), "p2pa/cmd/p2pa-window")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the window for js/wasm: %w\n%s", err, out)
	}
	for from, to := range map[string]string{
		filepath.Join(goRoot, "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
		"index.html": "index.html",
	} {
		data, err := os.ReadFile(from)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// resultLine is the result line's shape, as p2pa prints it (peer.FormatResult).
var resultLine = regexp.MustCompile(`^frame=(\d+) checksum=([0-9a-f]{16}) rollbacks=\d+ rtt_ms=\d+\.\d\d$`)

// TestPage opens the page in headless Chromium for each case: it must draw (a screenshot,
// kept, with enough colours to be the game or a panel rather than a blank or error page),
// never say it listens on a socket, and say what the case expects in #status or #result.
func TestPage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: building the window for js/wasm takes a minute")
	}
	browser := findBrowser()
	if browser == "" {
		t.Skip("no Chromium here (Debian: apt-get install chromium-headless-shell, or set P2PA_CHROMIUM)")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(webDir(t)))) // 127.0.0.1: loopback only
	defer srv.Close()

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(browser),
			chromedp.NoSandbox, // CI runs as root, where Chromium starts only without its sandbox
			chromedp.WindowSize(game.Width, game.Height),
			// WebGL (ebiten) in software: SwiftShader, as on a machine without a GPU.
			chromedp.Flag("use-angle", "swiftshader"),
			chromedp.Flag("enable-unsafe-swiftshader", true),
			chromedp.Flag("disable-gpu", true),
		)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // start the browser, without a deadline
		t.Fatalf("starting %s: %v", browser, err)
	}

	want := localResult(t, 7, 300)
	for _, tc := range []struct {
		name, query string
		// status, if set, must appear in #status; result, if set, must be #result.
		status, result string
		// playing: take the screenshot a few seconds into play, not on the first screen.
		playing bool
	}{
		// Served by a plain file server, not p2pa -serve: the page finds no rooms at its
		// origin, and says so.
		{name: "no-server", query: "", status: "cannot reach the server"},
		{name: "bad-option", query: "?coins=0", status: "coins=0: must be"},
		{name: "local-bots", query: "?local=1&bot=1&frames=300&seed=7", result: want, playing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(bctx) // a tab of its own
			defer cancel()
			ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
			defer cancelTimeout()
			console := collect(ctx)
			url := srv.URL + "/" + tc.query
			opened := time.Now()
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatalf("open %s: %v", url, err)
			}
			// The window marks the page once it has drawn its first frame.
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.dataset.p2pa === "drawn"`, chromedp.WithPollingTimeout(time.Minute))); err != nil {
				t.Fatalf("%s: the window never started: %v\nconsole:\n%s", url, err, console.text())
			}
			// Loading and compiling the wasm, then the first frame: a figure, not a check
			// (the machine may be busy); the goal is 3 s.
			t.Logf("%s: first frame drawn %.1f s after opening the page", url, time.Since(opened).Seconds())
			if tc.playing {
				if err := console.wait(ctx, "p2pa-window: playing at frame"); err != nil {
					t.Fatalf("%s: never played: %v\nconsole:\n%s", url, err, console.text())
				}
			}
			if err := sleep(ctx, 2*time.Second); err != nil { // a few frames drawn
				t.Fatal(err)
			}
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			path := filepath.Join(t.ArtifactDir(), "page-"+tc.name+".png")
			if err := os.WriteFile(path, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot of %s: %s", url, path)
			if n, err := colours(shot); err != nil || n < 16 {
				t.Errorf("%s: the screenshot has %d colours (%v): a blank or error page?", url, n, err)
			}
			if tc.status != "" {
				got, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("status")))
				if err != nil || !strings.Contains(got, tc.status) {
					t.Errorf("%s: #status = %q (%v), want it to say %q", url, got, err, tc.status)
				}
			}
			if tc.result != "" {
				got, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("result").textContent`, chromedp.WithPollingTimeout(2*time.Minute)))
				if err != nil {
					t.Fatalf("%s: no result line: %v\nconsole:\n%s", url, err, console.text())
				}
				m := resultLine.FindStringSubmatch(got)
				if m == nil || m[1]+" "+m[2] != tc.result {
					t.Errorf("%s: #result = %q, want the shape of p2pa's line with frame and checksum %q\nconsole:\n%s", url, got, tc.result, console.text())
				}
				if err := sleep(ctx, time.Second); err != nil { // a second line would come now
					t.Fatal(err)
				}
				if n := console.count(got); n != 1 {
					t.Errorf("%s: the console has the result line %d times, want once\nconsole:\n%s", url, n, console.text())
				}
			}
			if strings.Contains(console.text(), "listening on") {
				t.Errorf("%s: the page says it listens on a socket, which in a browser nobody can reach\nconsole:\n%s", url, console.text())
			}
		})
	}
}

// localResult is "frame=N checksum=X" of the match the page's local mode plays with these
// options, played here natively: two bots over the emulator through peer.StartLink. The
// page, in wasm, must end on the same frame and checksum.
func localResult(t *testing.T, seed uint64, frames int) string {
	clock := transport.NewVirtualClock(0)
	network := transport.NewNetwork(clock, 1)
	addrs := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:7000"), netip.MustParseAddrPort("10.0.0.2:7000")}
	var ms []*peer.Match
	var out [2]bytes.Buffer
	for p, a := range addrs {
		c, err := network.Listen(a)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := peer.ParseQuery(fmt.Sprintf("?local=1&bot=1&seed=%d&frames=%d&p=%d", seed, frames, p))
		if err != nil {
			t.Fatal(err)
		}
		link := peer.Link{Conn: c, Name: "the emulator", Clock: clock}
		if p > 0 {
			link.Host = addrs[0]
		}
		m, err := peer.StartLink(pg.Options, link, &out[p])
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	for i := 0; i < 100*frames && !(ms[0].Done() && ms[1].Done()); i++ {
		for _, m := range ms {
			m.Tick(game.Input{})
		}
		clock.Advance(time.Second / 60)
	}
	if err := errors.Join(ms[0].Close(), ms[1].Close()); err != nil {
		t.Fatalf("the native match: %v\n%s\n%s", err, &out[0], &out[1])
	}
	m := resultLine.FindStringSubmatch(ms[0].ResultLine())
	if m == nil {
		t.Fatalf("the native match's result line %q", ms[0].ResultLine())
	}
	return m[1] + " " + m[2]
}

// colours counts the distinct colours of a PNG, up to 1000.
func colours(shot []byte) (int, error) {
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		return 0, err
	}
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X && len(seen) < 1000; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	if b.Dx() < game.Width/2 || b.Dy() < game.Height/2 {
		return len(seen), fmt.Errorf("the screenshot is %v, smaller than the page's window", b)
	}
	return len(seen), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// consoleLog collects a tab's console lines as they come.
type consoleLog struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced on each line
	echo  func(string)  // if set, told each line as it comes (in order, under mu)
}

func collect(ctx context.Context) *consoleLog {
	c := &consoleLog{more: make(chan struct{})}
	msgs := chromedp.Console(ctx) // subscribed now, before the page loads
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.lines = append(c.lines, m.Text)
			if c.echo != nil {
				for _, l := range strings.Split(m.Text, "\n") {
					c.echo(l)
				}
			}
			close(c.more)
			c.more = make(chan struct{})
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *consoleLog) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// count is how many lines are exactly line.
func (c *consoleLog) count(line string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if l == line {
			n++
		}
	}
	return n
}

// wait returns once a line contains s.
func (c *consoleLog) wait(ctx context.Context, s string) error {
	for {
		c.mu.Lock()
		for _, l := range c.lines {
			if strings.Contains(l, s) {
				c.mu.Unlock()
				return nil
			}
		}
		more := c.more
		c.mu.Unlock()
		select {
		case <-more:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q: %w", s, ctx.Err())
		}
	}
}
