//go:build js

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall/js"

	"github.com/hajimehoshi/ebiten/v2"

	"p2pa/game"
	"p2pa/game/render"
	"p2pa/internal/peer"
)

// main is the browser page's (make web): options from the page's address
// (location.search, through peer.ParseQuery: the command line's checks), the session
// startPage picks, and the window's loop. The window stays open on its end screen; the
// page learns the outcome through the #result element (and stdout, which wasm_exec.js
// writes to the console line by line: the result line there is printed once, by the
// match's Close, as p2pa prints it). <body data-p2pa="drawn"> says the first frame is
// drawn.
func main() {
	doc := js.Global().Get("document")
	page, err := peer.ParseQuery(js.Global().Get("location").Get("search").String())
	if err != nil {
		fmt.Fprintf(os.Stderr, "p2pa-window: %v\n", err)
		setText(doc, "status", err.Error())
	}
	r, rerr := render.New()
	if rerr != nil {
		// Nothing can be drawn: say it on the page, in words.
		fmt.Fprintf(os.Stderr, "p2pa-window: %v\n", rerr)
		setText(doc, "status", "cannot draw: "+rerr.Error())
		return
	}
	stdout := newsWriter{doc: doc, w: os.Stdout}
	sess := startPage(page, err, stdout)
	w := newWindow(page.Options, sess, r, stdout)
	w.keepOpen = true
	w.onEnd = func(result string, err error) {
		if result != "" {
			setText(doc, "result", result)
		}
		if err != nil {
			setText(doc, "status", err.Error())
		}
	}
	w.onFirstDraw = func() {
		// data-p2pa="drawn" on <body>: the page's first frame is drawn (tests wait on it).
		doc.Get("body").Get("dataset").Set("p2pa", "drawn")
	}
	ebiten.SetWindowSize(game.Width, game.Height)
	w.updateTitle(sess.View())
	ebiten.SetTPS(tps)
	// A page in a background tab keeps ticking (as far as the browser lets it), or the
	// other player would stall waiting for our inputs.
	ebiten.SetRunnableOnUnfocused(true)
	stopReceiving := w.receive()
	err = runGame(w)
	stopReceiving()
	if err != nil {
		fmt.Fprintf(os.Stderr, "p2pa-window: %v\n", err)
		setText(doc, "status", "the game stopped: "+err.Error())
	}
}

// setText sets the text of the page's element id, if the page has one (index.html does).
func setText(doc js.Value, id, text string) {
	if el := doc.Call("getElementById", id); el.Truthy() {
		el.Set("textContent", text)
	}
}

// newsWriter is the page's stdout: every line goes to the console (wasm_exec.js), and
// the room's news a player must see without opening the console goes to #status too: that
// the server is lost (the match goes on, but nobody can join or rejoin), or that a player
// cannot be reached.
type newsWriter struct {
	doc js.Value
	w   io.Writer
}

// news are the starts of the lines newsWriter shows, as peer's room prints them.
var news = [][]byte{[]byte("p2pa: lost the server"), []byte("p2pa: could not reach")}

func (n newsWriter) Write(b []byte) (int, error) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		for _, s := range news {
			if bytes.HasPrefix(line, s) {
				setText(n.doc, "status", strings.TrimPrefix(string(line), "p2pa: "))
			}
		}
	}
	return n.w.Write(b)
}
