// Package web is the browser page of p2pa-window: index.html (which make web copies into
// bin/web beside the window built for js/wasm and the toolchain's wasm_exec.js) and its
// test, which builds that folder, serves it on loopback and opens the page in headless
// Chromium (chromedp). It has no code of its own outside the tests.
//
// The test is skipped with -short (building the wasm takes a minute on a small machine)
// and when no Chromium is installed (Debian: apt-get install chromium-headless-shell;
// make deps does). P2PA_WEB_DIR=bin/web tests a folder make web already built, instead of
// building one. go test -artifacts keeps the screenshots it takes (t.ArtifactDir);
// either way, their paths are logged.
package web
