package peer

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Page is what the browser page's address says (`?room=K7QF2M&p=1&bot=1&frames=1200`): the
// command line's options, checked by the same ParseFlags, plus what only a page has.
type Page struct {
	Options
	// Room is the room to join; "" asks the server for a new one.
	Room string
	// Watch: spectate=1, watch the room's match rather than take a seat.
	Watch bool
	// Local: local=1, both players in this page, over the in-process emulator (the page's
	// own player, or its bot, against a bot); no network at all.
	Local bool
	// Seat: p= was given. A page opened on a room's link without it takes the next free
	// seat; with it, that seat.
	Seat bool
}

// queryFlags maps each query key the page takes to its command-line flag; the value goes
// through ParseFlags as if typed after it. The others (listen, peer, netsim, record…) name
// files or sockets a browser does not have.
var queryFlags = map[string]string{
	"mode": "-mode", "coins": "-coins", "players": "-players", "secret": "-secret",
	"seed": "-seed", "frames": "-frames", "delay": "-delay", "p": "-p", "bot": "-bot",
	// A browser tab that is hidden or on a loaded machine may stall for seconds: these let
	// a page (or a test) give its match the patience a stall needs, as the flags do.
	"disconnect": "-disconnect", "rejoin": "-rejoin",
}

// QueryKeys lists the keys ParseQuery takes, for the page's help.
func QueryKeys() []string {
	keys := []string{"room", "spectate", "local"}
	for k := range queryFlags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// maxRoomLen bounds a room code; a code is letters, digits, '-' and '_'.
const maxRoomLen = 64

// ParseQuery reads the page's query string (location.search, with or without its "?").
// The address is outside input: an unknown key, a key given twice or a bad value is an
// error that names it, for the page to show; nothing here panics.
func ParseQuery(raw string) (Page, error) {
	var pg Page
	q, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		return pg, fmt.Errorf("the page address's query %q is malformed: %w", raw, err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad key reported is the same every time
	var args []string
	for _, k := range keys {
		vs := q[k]
		if len(vs) > 1 {
			return pg, fmt.Errorf("%s= is given %d times in the page address", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "room":
			if err := checkRoom(v); err != nil {
				return pg, err
			}
			pg.Room = v
		case "spectate", "local":
			b, err := parseBool(k, v)
			if err != nil {
				return pg, err
			}
			if k == "spectate" {
				pg.Watch = b
			} else {
				pg.Local = b
			}
		default:
			f, ok := queryFlags[k]
			if !ok {
				return pg, fmt.Errorf("unknown option %q in the page address (the page takes %s)", k, strings.Join(QueryKeys(), ", "))
			}
			if k == "p" {
				pg.Seat = true
			}
			if k == "bot" {
				b, err := parseBool(k, v)
				if err != nil {
					return pg, err
				}
				v = fmt.Sprint(b)
			}
			// -flag=value: a value starting with '-' stays a value.
			args = append(args, f+"="+v)
		}
	}
	o, err := ParseFlags("p2pa-page", args, io.Discard)
	if errors.Is(err, ErrHelp) {
		return pg, errors.New("the page address asks for help; the options are " + strings.Join(QueryKeys(), ", "))
	}
	if err != nil {
		return pg, fmt.Errorf("in the page address: %w", asQueryError(err))
	}
	// A page never listens or dials: the room (or the emulator) says where everyone is.
	o.Listen = ""
	pg.Options = o
	if pg.Local && (pg.Room != "" || pg.Watch) {
		return pg, errors.New("local=1 plays both sides in this page: it takes no room= or spectate=")
	}
	if pg.Local && o.Players != 2 {
		return pg, fmt.Errorf("local=1 plays a 2-player match, not players=%d", o.Players)
	}
	if !pg.Local && pg.Room == "" && (pg.Watch || o.Player != 0) {
		// Only player 0 opens a room; the others need its code.
		return pg, errors.New("spectate=1 and p=1..3 join a room: add room=CODE (the code player 0's page or p2pa shows)")
	}
	if pg.Watch && pg.Seat {
		return pg, errors.New("spectate=1 watches without a seat: it takes no p=")
	}
	return pg, nil
}

// parseBool reads a switch: 1, true or empty (`&bot`) turn it on; 0 or false off.
func parseBool(key, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s=%s: want 1 or 0", key, v)
}

// checkRoom accepts a room code of 1..maxRoomLen letters, digits, '-' and '_': it ends up
// in links and commands shown to the player, so nothing that needs quoting.
func checkRoom(v string) error {
	if v == "" || len(v) > maxRoomLen {
		return fmt.Errorf("room=%q: a room code has 1..%d characters", v, maxRoomLen)
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("room=%q: a room code has only letters, digits, '-' and '_'", v)
		}
	}
	return nil
}

// asQueryError words a ParseFlags error as the page's address does: "-coins 0: must
// be…" becomes "coins=0: must be…", "invalid value "x" for flag -coins" "coins=x: invalid
// value…". Anything else is left as it is.
func asQueryError(err error) error {
	msg := err.Error()
	for k, f := range queryFlags {
		if rest, ok := strings.CutPrefix(msg, f+" "); ok {
			return errors.New(k + "=" + rest)
		}
		// The flag package's own wording: `invalid value "x" for flag -coins: parse error`.
		rest, ok := strings.CutPrefix(msg, "invalid value ")
		if !ok {
			continue
		}
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			continue
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			continue
		}
		if why, ok := strings.CutPrefix(rest[len(q):], " for flag "+f+": "); ok {
			return fmt.Errorf("%s=%s: not a valid value (%s)", k, v, why)
		}
	}
	return err
}
