//go:build !unix

package proctest

import "os/exec"

func ownGroup(*exec.Cmd) {}

func startTracked(p *Proc) error { return p.cmd.Start() }

func untrack(*Proc) {}

func (p *Proc) kill() { _ = p.cmd.Process.Kill() }
func (p *Proc) quit() { p.kill() }
