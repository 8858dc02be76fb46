//go:build (linux || freebsd || netbsd || openbsd || dragonfly) && !android

// Package xquiet silences the X protocol library's package logger before ebiten uses it.
//
// ebiten asks the X server about monitors through github.com/jezek/xgb, in its ui
// package's init(). xgb logs through its package variable Logger to stderr, and in a
// working session its only lines are two that say ~/.Xauthority is missing and that it
// connects without it, twice: noise, since the X server then allows the connection or
// refuses it (and GLFW, which opens the window, reports a refusal itself). Its other lines
// are about connections that broke, which ebiten returns as errors as well.
//
// Why a package of its own: the logger must be replaced before ebiten's ui package is
// initialised, and package main's init runs after all of its imports'. Go initialises
// packages in import-path order among those whose imports are ready (Go 1.21 spec); this
// package imports only xgb, io and log, so it is ready as soon as xgb is, and its init is
// checked to run before ebiten's ui by TestNoXGBLines in cmd/p2pa-window.
package xquiet

import (
	"io"
	"log"

	"github.com/jezek/xgb"
)

func init() {
	xgb.Logger = log.New(io.Discard, "", 0)
}
