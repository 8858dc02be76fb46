//go:build js

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall/js"

	"p2pa/internal/peer"
)

// The browser build's rooms: the page meets the others on the server it was loaded from
// (p2pa -serve ADDR -web DIR serves the page beside /ws, one origin), through
// peer.JoinRoom, whose links are WebRTC data channels in js/wasm (transport/rtc): nothing
// here opens a UDP socket or asks multicast DNS.
func init() { joinRoom = showFailure(joinPageRoom) }

// showFailure puts why the page could not join its room in #status too: the window shows
// it on the field and waits for Esc, but the page's text (and a script reading it) should
// not have to read pixels.
func showFailure(join func(context.Context, peer.Page, io.Writer) (roomJoin, error)) func(context.Context, peer.Page, io.Writer) (roomJoin, error) {
	return func(ctx context.Context, page peer.Page, stdout io.Writer) (roomJoin, error) {
		j, err := join(ctx, page, stdout)
		if err != nil {
			setText(js.Global().Get("document"), "status", "could not join the room: "+err.Error())
		}
		return j, err
	}
}

// joinPageRoom is the seam's browser side. The page's own address says who it is:
//   - no room=: a new room, as player 0 (p=0 and room=NAME claim a name instead);
//   - room=CODE: the first free player seat (1..3), without waiting on taken ones;
//   - room=CODE&p=K: seat K, waiting a while if it is held (a reloaded tab's old
//     connection still holds its own seat until the server notices it gone);
//   - room=CODE&spectate=1: watching.
func joinPageRoom(ctx context.Context, page peer.Page, stdout io.Writer) (roomJoin, error) {
	origin := js.Global().Get("location").Get("origin")
	if origin.Type() != js.TypeString || origin.String() == "" || origin.String() == "null" {
		// A page opened from a file:// has no server to meet anyone on.
		return roomJoin{}, errors.New("this page was not loaded from a p2pa server (p2pa -serve ADDR -web DIR), so it has no rooms")
	}
	o := page.Options
	o.Server, o.Room = origin.String(), page.Room
	if page.Watch {
		// JoinRoom watches when Spectate is set; its value is a UDP address otherwise,
		// which a room's spectator never uses.
		o.Spectate = "room " + page.Room
	}
	if page.Room != "" && !page.Seat && !page.Watch {
		j, err := peer.JoinFreeSeat(ctx, o, stdout)
		if err != nil {
			return roomJoin{}, err
		}
		return roomJoin{link: j.Link, player: j.Player, room: j.Room}, nil
	}
	joined, err := peer.JoinSeat(ctx, o, stdout)
	if err != nil {
		return roomJoin{}, err
	}
	j := roomJoin{link: joined.Link, player: joined.Player, room: joined.Room}
	if o.Player == 0 && !page.Watch {
		j.invite = []string{
			o.Server + "/?" + url.Values{"room": {joined.Room}}.Encode(),
			fmt.Sprintf("p2pa -p 1 -server %s -room %s", o.Server, joined.Room),
		}
	}
	return j, nil
}
