//go:build linux

package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"p2pa/game"
	"p2pa/internal/netns"
	"p2pa/internal/proctest"
)

// The rooms tests play the page against desktop players and other pages across emulated
// NATs (internal/netns), with `p2pa -serve -web` on the public segment serving both the
// page and the rooms, as a friend's link would be opened. Chromium ignores loopback for
// WebRTC, so each browser runs inside a host's namespace: the test binary runs itself there
// (TestBrowserHelper, through `ip netns exec`), and that helper drives its own Chromium
// with chromedp and reports on its stdout, line by line.

const (
	roomsSeed   = "7"
	roomsFrames = "1200"
	// A page may stall for seconds on a loaded machine (software WebGL, two cores shared):
	// a long -disconnect keeps a stall from dropping a player, so the outcome (frame and
	// checksum) does not depend on the machine's load.
	roomsPatience = "60s"
	// roomsKill: every process is killed if it still runs after this. A match takes 20 s
	// at full speed; a page rendering in software on a loaded machine can take five times
	// that.
	roomsKill  = 4 * time.Minute
	serverPort = 8080
	turnPort   = 3478
)

// Lines the helper prints (helperXxx) and the page's console lines it passes on.
var (
	helperDrawn  = regexp.MustCompile(`^drawn: ([0-9.]+) s$`)
	helperResult = regexp.MustCompile(`^result: (.*)$`)
	helperShot   = regexp.MustCompile(`^screenshot: (\S+) colours=(\d+)$`)
	roomOpened   = regexp.MustCompile(`^console: p2pa: room (\S+); the others run: p2pa -p 1 -server (\S+) -room (\S+)$`)
	reachedRelay = regexp.MustCompile(`p2pa: reached player \d through the relay at [0-9.]+:\d+`)
)

// rooms is one topology with the server on its public segment.
type rooms struct {
	t      *testing.T
	n      *netns.Net
	url    string
	cli    string // the p2pa binary
	server *proctest.Proc
}

func newRooms(t *testing.T, web string, withRelay bool, nats ...netns.NAT) *rooms {
	t.Helper()
	n := netns.New(t, nats...)
	cli := filepath.Join(proctest.Build(t, "p2pa/cmd/p2pa"), "p2pa")
	pub := netns.PublicAddr.String()
	args := []string{"-serve", fmt.Sprintf("%s:%d", pub, serverPort), "-web", web}
	if withRelay {
		args = append(args, "-turn", fmt.Sprintf("%s:%d", pub, turnPort), "-public", pub)
	}
	bin, argv := n.Command(n.Public.Name, cli, args...)
	server := proctest.Start(t, "server", bin, argv, proctest.KillAfter(roomsKill))
	t.Cleanup(func() { // before proctest's own cleanup, which would kill it
		server.Signal(syscall.SIGTERM)
		select {
		case <-server.Exited():
		case <-time.After(10 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := server.WaitLine(ctx, regexp.MustCompile(`rooms at`)); err != nil {
		t.Fatalf("the server did not start: %v\n%v", err, server)
	}
	return &rooms{t: t, n: n, url: fmt.Sprintf("http://%s:%d", pub, serverPort), cli: cli, server: server}
}

// native starts a desktop player, headless with the seeded bot, on host h.
func (r *rooms) native(name string, h int, args ...string) *proctest.Proc {
	r.t.Helper()
	argv := append([]string{"-server", r.url, "-headless", "-bot", "-seed", roomsSeed, "-frames", roomsFrames,
		"-disconnect", roomsPatience, "-rejoin", roomsPatience}, args...)
	bin, argv := r.n.Command(r.n.Hosts[h].Name, r.cli, argv...)
	return proctest.Start(r.t, name, bin, argv, proctest.KillAfter(roomsKill))
}

// browser opens the page at query (after the server's URL) in Chromium on host h, as a
// bot playing roomsFrames frames.
func (r *rooms) browser(name string, h int, query string) *proctest.Proc {
	r.t.Helper()
	sep := "?"
	if query != "" {
		sep = "&"
	}
	url := r.url + "/" + query + sep + "bot=1&frames=" + roomsFrames + "&seed=" + roomsSeed +
		"&disconnect=" + roomsPatience + "&rejoin=" + roomsPatience
	shot := filepath.Join(r.t.ArtifactDir(), strings.ReplaceAll(r.t.Name(), "/", "-")+"-"+strings.ReplaceAll(name, " ", "-")+".png")
	bin, argv := r.n.Command(r.n.Hosts[h].Name, os.Args[0], "-test.run=^TestBrowserHelper$")
	return proctest.Start(r.t, name, bin, argv, proctest.KillAfter(roomsKill),
		proctest.Env("P2PA_HELPER_URL="+url, "P2PA_HELPER_SHOT="+shot, "P2PA_CHROMIUM="+findBrowser()))
}

// line waits for a line of p's matching re and returns its submatches.
func line(t *testing.T, p *proctest.Proc, re *regexp.Regexp, d time.Duration, others ...*proctest.Proc) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	m, err := p.WaitLine(ctx, re)
	if err != nil {
		t.Fatalf("%s never printed %v: %v\n%v\n%v", p.Name(), re, err, p, others)
	}
	return m
}

// resultOf is "frame=N checksum=X" of a result line, or "" when it is not one.
func resultOf(l string) string {
	m := resultLine.FindStringSubmatch(l)
	if m == nil {
		return ""
	}
	return m[1] + " " + m[2]
}

// finish waits for every process to exit 0 and checks they all end on one result line's
// frame (roomsFrames) and checksum: natives' last stdout line, browsers' "result: " line.
func finish(t *testing.T, natives, browsers []*proctest.Proc) {
	t.Helper()
	all := append(append([]*proctest.Proc{}, natives...), browsers...)
	var got []string
	for _, p := range all {
		<-p.Exited()
		if p.ExitCode() != 0 {
			t.Errorf("%s exited %d:\n%v", p.Name(), p.ExitCode(), p)
		}
	}
	for _, p := range natives {
		l := p.LastLine()
		t.Logf("%s: %s", p.Name(), l)
		got = append(got, resultOf(l))
	}
	for _, p := range browsers {
		m := line(t, p, helperResult, time.Second, all...)
		t.Logf("%s: %s", p.Name(), m[1])
		got = append(got, resultOf(m[1]))
		if d := line(t, p, helperDrawn, time.Second, all...); d != nil {
			t.Logf("%s: first frame %s s after opening the link", p.Name(), d[1])
		}
		if s := line(t, p, helperShot, time.Second, all...); s != nil {
			t.Logf("%s: screenshot %s (%s colours)", p.Name(), s[1], s[2])
		}
	}
	for i, g := range got {
		if g == "" || !strings.HasPrefix(g, roomsFrames+" ") || g != got[0] {
			t.Fatalf("the result lines disagree or are missing (%s: %q, first %q):\n%v", all[i].Name(), g, got[0], all)
		}
	}
}

// TestRooms plays 1,200-frame matches of seeded bots through the rooms, each page in
// headless Chromium behind an emulated NAT: a page joins a desktop player's room (hole
// punched through port-restricted NATs) while another page watches; the same pair, whose
// direct path works only after the link opened through the relay, moves to it; a page
// behind a symmetric NAT opens a room a desktop player joins, through the relay (so both
// directions of who hosts); two pages meet, and go on playing when the server stops.
// Every side must end on the same frame and checksum and exit 0; timings are logged, not
// checked. The cases run one after the other: two browsers rendering in software already
// load a small machine.
func TestRooms(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: plays whole matches in browsers across emulated NATs")
	}
	if findBrowser() == "" {
		t.Skip("no Chromium here (Debian: apt-get install chromium-headless-shell, or set P2PA_CHROMIUM)")
	}
	if err := netns.Available(); err != nil {
		t.Skipf("the browser's rooms tests need network namespaces: %v", err)
	}
	web := webDir(t)
	for _, tc := range []struct {
		name  string
		nats  []netns.NAT
		relay bool
		play  func(t *testing.T, r *rooms)
	}{
		// A page joins a desktop player's room, and another page watches it, linked to
		// both players.
		{"native-hosts", []netns.NAT{netns.PortRestricted, netns.PortRestricted, netns.PortRestricted}, true, func(t *testing.T, r *rooms) {
			p0 := r.native("player 0", 0, "-p", "0", "-room", "native-hosts")
			line(t, p0, regexp.MustCompile(`(?i)room native-hosts`), 30*time.Second)
			b := r.browser("browser", 1, "?room=native-hosts")
			line(t, b, regexp.MustCompile(`(?i)^console: p2pa: in room native-hosts as player 1$`), time.Minute, p0)
			// Two port-restricted NATs: the hole is punched, no relay.
			line(t, b, regexp.MustCompile(`^console: p2pa: reached player 0 directly$`), time.Minute, p0)
			w := r.browser("spectator", 2, "?room=native-hosts&spectate=1")
			line(t, w, regexp.MustCompile(`(?i)^console: p2pa: in room native-hosts as a spectator$`), time.Minute, p0, b)
			// Linked to player 1 (a page) too, whom it would watch on through if
			// player 0 left.
			line(t, w, regexp.MustCompile(`^console: p2pa: reached player 1 directly$`), time.Minute, p0, b)
			finish(t, []*proctest.Proc{p0}, []*proctest.Proc{b, w})
		}},
		// The direct path between the page and the desktop player works only once their
		// link is open through the relay, as when the checks through the NATs come back
		// late on a loaded machine: Chromium (it offers, so it runs ICE's nomination)
		// moves the link to the direct pair, and both sides say so again.
		{"native-hosts-late-hole", []netns.NAT{netns.PortRestricted, netns.PortRestricted}, true, func(t *testing.T, r *rooms) {
			mend, err := r.n.Cut(0, 1)
			if err != nil {
				t.Fatal(err)
			}
			p0 := r.native("player 0", 0, "-p", "0", "-room", "late-hole")
			line(t, p0, regexp.MustCompile(`(?i)room late-hole`), 30*time.Second)
			b := r.browser("browser", 1, "?room=late-hole")
			line(t, b, regexp.MustCompile(`^console: p2pa: reached player 0 through the relay at [0-9.]+:\d+$`), time.Minute, p0)
			line(t, p0, regexp.MustCompile(`^p2pa: reached player 1 through the relay at [0-9.]+:\d+$`), time.Minute, b)
			if err := mend(); err != nil {
				t.Fatal(err)
			}
			mended := time.Now()
			line(t, b, regexp.MustCompile(`^console: p2pa: reached player 0 directly$`), time.Minute, p0)
			t.Logf("browser: direct %.1f s after the path was mended", time.Since(mended).Seconds())
			line(t, p0, regexp.MustCompile(`^p2pa: reached player 1 directly$`), time.Minute, b)
			t.Logf("player 0: direct %.1f s after the path was mended", time.Since(mended).Seconds())
			finish(t, []*proctest.Proc{p0}, []*proctest.Proc{b})
		}},
		// The page hosts from behind a symmetric NAT, the desktop player too: no hole can
		// be punched, so this is also the relay's case.
		{"browser-hosts-relayed", []netns.NAT{netns.Symmetric, netns.Symmetric}, true, func(t *testing.T, r *rooms) {
			b := r.browser("browser", 0, "")
			m := line(t, b, roomOpened, time.Minute)
			if m[2] != r.url || m[1] != m[3] {
				t.Errorf("the page's command for a desktop player: %q, want the server %s and the room %s", m[0], r.url, m[1])
			}
			p1 := r.native("player 1", 1, "-p", "1", "-room", m[1])
			line(t, b, regexp.MustCompile(`^console: `+reachedRelay.String()), time.Minute, p1)
			finish(t, []*proctest.Proc{p1}, []*proctest.Proc{b})
			if !reachedRelay.MatchString(strings.Join(stdout(p1), "\n")) {
				t.Errorf("player 1 did not say it reached the page through the relay:\n%v", p1)
			}
		}},
		// Two pages meet; then the server stops, which each page says under the field,
		// and their match goes on over its own link.
		{"two-browsers", []netns.NAT{netns.PortRestricted, netns.PortRestricted}, true, func(t *testing.T, r *rooms) {
			b0 := r.browser("browser 0", 0, "")
			m := line(t, b0, roomOpened, time.Minute)
			// No p=: the link takes the first free seat.
			b1 := r.browser("browser 1", 1, "?room="+m[1])
			line(t, b1, regexp.MustCompile(`^console: p2pa: in room \S+ as player 1$`), time.Minute, b0)
			line(t, b0, regexp.MustCompile(`^console: p2pa: reached player 1 directly$`), time.Minute, b1)
			line(t, b1, regexp.MustCompile(`^console: p2pa: reached player 0 directly$`), time.Minute, b0)
			r.server.Signal(syscall.SIGTERM)
			<-r.server.Exited()
			finish(t, nil, []*proctest.Proc{b0, b1})
			for _, b := range []*proctest.Proc{b0, b1} {
				m := line(t, b, regexp.MustCompile(`^status: "lost the server http://\S+ .*`), time.Second, b0, b1)
				t.Logf("%s: %s", b.Name(), m[0])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.play(t, newRooms(t, web, tc.relay, tc.nats...))
		})
	}
}

func stdout(p *proctest.Proc) []string {
	lines, _ := p.Output()
	return lines
}

// TestBrowserHelper is the browser of TestRooms, run by it inside a host's namespace
// (P2PA_HELPER_URL set; skipped otherwise): it opens the page in Chromium (the real binary,
// which chromedp starts and ends), passes the console on ("console: LINE"), and says when
// the first frame was drawn ("drawn: S s"), where the screenshot taken a few seconds into
// play went ("screenshot: PATH colours=N", checked to be the game, not a blank or error
// page), and the result line the page shows in #result ("result: LINE"), which it checks the
// console had exactly once.
func TestBrowserHelper(t *testing.T) {
	url := os.Getenv("P2PA_HELPER_URL")
	if url == "" {
		t.Skip("run by TestRooms inside a network namespace")
	}
	ctx, cancel := context.WithTimeout(context.Background(), roomsKill-10*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(findBrowser()),
			chromedp.NoSandbox, // CI runs as root, where Chromium starts only without its sandbox
			// Half the game's size: the page scales the field down, and software WebGL
			// draws a quarter of the pixels, which leaves a small machine's cores to the
			// matches (two pages at full size could not keep 60 frames a second here).
			chromedp.WindowSize(game.Width/2, game.Height/2),
			chromedp.Flag("use-angle", "swiftshader"),
			chromedp.Flag("enable-unsafe-swiftshader", true),
			chromedp.Flag("disable-gpu", true),
			// A hidden or busy page must not be throttled: the other player waits on it.
			chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-renderer-backgrounding", true),
		)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	console := collectEcho(bctx)
	opened := time.Now()
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.body.dataset.p2pa === "drawn"`, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatalf("%s: the window never started: %v", url, err)
	}
	fmt.Printf("drawn: %.2f s\n", time.Since(opened).Seconds())
	if err := console.wait(bctx, "p2pa-window: playing at frame"); err != nil {
		t.Fatalf("%s: never played: %v", url, err)
	}
	if err := sleep(bctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := os.Getenv("P2PA_HELPER_SHOT")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := colours(shot)
	fmt.Printf("screenshot: %s colours=%d\n", path, n)
	if err != nil || n < 16 {
		t.Errorf("%s: the screenshot has %d colours (%v): a blank or error page?", url, n, err)
	}
	got, err := chromedp.Run(bctx, chromedp.Poll[string](`document.getElementById("result").textContent`, chromedp.WithPollingTimeout(roomsKill-30*time.Second)))
	if err != nil {
		t.Fatalf("%s: no result line: %v", url, err)
	}
	if err := sleep(bctx, time.Second); err != nil { // a second line would come now
		t.Fatal(err)
	}
	if n := console.count(got); n != 1 {
		t.Errorf("%s: the console has the result line %d times, want once", url, n)
	}
	fmt.Printf("result: %s\n", got)
	status, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
	if err != nil {
		t.Fatalf("%s: reading #status: %v", url, err)
	}
	if strings.TrimSpace(status) != "" {
		fmt.Printf("status: %s\n", strconv.Quote(status))
	}
}

// collectEcho is collect, which also prints every console line as it comes, for the
// test that runs the helper.
func collectEcho(ctx context.Context) *consoleLog {
	c := collect(ctx)
	c.mu.Lock()
	c.echo = func(l string) { fmt.Printf("console: %s\n", l) }
	c.mu.Unlock()
	return c
}
