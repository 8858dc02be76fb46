// Package e2e holds end-to-end tests that run p2pa's real binaries: two windowed peers on
// loopback, driven by xdotool under an X server (Xvfb in make test). It has no code of
// its own outside the tests.
package e2e
