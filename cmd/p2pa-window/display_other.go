//go:build !linux

package main

// watchDisplay watches nothing where the X display check does not run either (see
// internal/xdisplay): elsewhere the window system ends a window whose display goes away.
func watchDisplay() (<-chan error, error) { return nil, nil }

func releaseDisplayHold() {}
