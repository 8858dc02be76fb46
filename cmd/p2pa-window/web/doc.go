// Package web is the browser page of p2pa-window: index.html (which make web copies into
// bin/web beside the window built for js/wasm and the toolchain's wasm_exec.js) and its
// tests, which drive the page in headless Chromium (chromedp) and have no code of their own
// outside the tests:
//
//   - TestPage serves the folder on loopback and opens the page without a room, with a bad
//     option, and in its local mode (two bots in the page), which must end on the checksum
//     the same match ends on natively.
//   - TestRooms plays 1,200-frame matches through the rooms of `p2pa -serve -web` across
//     emulated NATs (internal/netns, root only): a page against a desktop player whichever
//     hosts (hole punched, and relayed from behind symmetric NATs), and two pages. Chromium
//     ignores loopback for WebRTC, so each browser runs inside a host's namespace: the test
//     binary runs itself there (TestBrowserHelper) and reports the page's console, first
//     frame, screenshot and result line on its stdout.
//
// Both are skipped with -short (building the wasm takes a minute on a small machine) and
// when no Chromium is installed (Debian: apt-get install chromium-headless-shell; make deps
// does); TestRooms also without root, saying why. P2PA_WEB_DIR=bin/web tests a folder make
// web already built, instead of building one. go test -artifacts keeps the screenshots they
// take (t.ArtifactDir); either way, their paths are logged.
//
// desktop.sh is the check by hand of what a person sees: a real Chromium under Xvfb opens
// the page, a desktop p2pa joins, xdotool plays with the mouse, and imagemagick takes
// screenshots (docs/browser.png is two of them).
package web
