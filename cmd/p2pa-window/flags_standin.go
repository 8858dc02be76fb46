package main

// TEMPORARY: the flags p2pa/internal/peer will parse, until it exists.

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"p2pa/game"
)

var errHelp = flag.ErrHelp

type options struct {
	Player     int
	Listen     string
	Peer       string
	Delay      int
	Mode       game.Mode
	Coins      int
	Frames     int
	Bot        bool
	Screenshot string
}

func parseFlags(name string, args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Player, "p", 0, "player number")
	fs.StringVar(&o.Listen, "listen", ":7000", "UDP address to listen on")
	fs.StringVar(&o.Peer, "peer", "", "the other player's address")
	fs.IntVar(&o.Delay, "delay", 2, "input delay in frames")
	mode := fs.String("mode", "classic", "classic or versus")
	fs.IntVar(&o.Coins, "coins", 0, "coins per round")
	fs.IntVar(&o.Frames, "frames", 0, "stop after N frames")
	fs.BoolVar(&o.Bot, "bot", false, "let a bot play")
	fs.StringVar(&o.Screenshot, "screenshot", "", "write the final playfield as PNG")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	m, err := game.ParseMode(*mode)
	if err != nil {
		return o, err
	}
	o.Mode = m
	if fs.NArg() > 0 {
		return o, errors.New(fmt.Sprint("unexpected arguments: ", fs.Args()))
	}
	return o, nil
}

func startSession(opts options, stdout io.Writer) (session, error) {
	return startLocal(opts, stdout)
}
