// Package xdisplay stops p2pa-window with a one-line message, before ebiten starts, when
// no X display can be reached.
//
// Why a package of its own: ebiten v2.8 initialises GLFW in a package init() and panics
// there (a stack trace, exit status 2) when it cannot connect to an X server. Nothing in
// package main runs before that. Go initialises packages in import-path order among those
// whose imports are ready (Go 1.21 spec), so a package that imports only syscall and whose
// path sorts before "sync" and "time" (which ebiten's ui package needs) is initialised
// before ebiten's ui package. main imports it for that side effect; TestNoDisplay in
// cmd/p2pa-window checks the outcome on the built binary.
//
// P2PA_SKIP_DISPLAY_CHECK=1 turns the check off, for a display this check misjudges.
//
// The check runs on Linux only; elsewhere ebiten needs no X server (or, on the BSDs, the
// check is left to GLFW).
package xdisplay
