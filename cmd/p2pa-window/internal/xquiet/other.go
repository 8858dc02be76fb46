//go:build !((linux || freebsd || netbsd || openbsd || dragonfly) && !android)

package xquiet

// Elsewhere ebiten does not go through the X protocol library, so there is nothing to
// silence; this file only lets the package build on every system.
