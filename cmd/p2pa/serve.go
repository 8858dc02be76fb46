package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"p2pa/internal/peer"
	"p2pa/rendezvous"
	"p2pa/rendezvous/relay"
)

// serve is p2pa -serve: the rendezvous server (and the relay with -turn) until SIGINT or
// SIGTERM. It prints where it serves, then one line per room event. A port that cannot be
// had is a bad argument (2), as for -listen; anything failing later is 1.
func serve(o peer.ServeOptions, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stdout, nil))
	cfg := rendezvous.ServerConfig{Logger: log, TURNSecret: o.TURNSecret}
	if o.TURN != "" {
		secret := o.TURNSecret
		if secret == "" {
			// Only this process hands out credentials for the relay: any secret will do.
			var b [32]byte
			if _, err := rand.Read(b[:]); err != nil {
				fmt.Fprintf(stderr, "p2pa: relay secret: %v\n", err)
				return 1
			}
			secret = base64.RawStdEncoding.EncodeToString(b[:])
			cfg.TURNSecret = secret
		}
		r, err := relay.New(relay.Config{Listen: o.TURN, Public: o.Public, Secret: secret, Allow: o.TURNAllow, Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "p2pa: -turn %s: %v\n", o.TURN, err)
			return 2
		}
		defer func() {
			if err := r.Close(); err != nil {
				fmt.Fprintf(stderr, "p2pa: %v\n", err)
			}
		}()
		cfg.ICE = append(cfg.ICE, rendezvous.ICEServer{URLs: r.URLs()})
		allowed := "public addresses only"
		if len(o.TURNAllow) > 0 {
			var s []string
			for _, p := range o.TURNAllow {
				s = append(s, p.String())
			}
			allowed = "public addresses and " + strings.Join(s, ", ")
		}
		fmt.Fprintf(stdout, "p2pa: relay (TURN and STUN; UDP, and TURN over TCP) at %v, relaying to %s\n", r.Addr(), allowed)
	}
	for _, u := range o.ICE {
		cfg.ICE = append(cfg.ICE, rendezvous.ICEServer{URLs: []string{u}})
	}
	if len(cfg.ICE) == 0 {
		fmt.Fprintln(stdout, "p2pa: no STUN or TURN server to hand out (add -turn or -ice): only players who can reach each other directly will meet")
	}
	srv, err := rendezvous.NewServer(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "p2pa: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "p2pa: -serve %s: %v\n", o.Addr, err)
		_ = srv.Close() // it served nobody
		return 2
	}
	var handler http.Handler = srv
	if o.Web != "" {
		handler = withWeb(srv, o.Web)
		fmt.Fprintf(stdout, "p2pa: the browser page from %s at / (open http://THIS-HOST:%d/)\n", o.Web, ln.Addr().(*net.TCPAddr).Port)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "p2pa: rooms at http://%v (players give -server http://THIS-HOST:%d)\n", ln.Addr(), ln.Addr().(*net.TCPAddr).Port)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		_ = srv.Close() // the listener's failure is the error to report
		fmt.Fprintf(stderr, "p2pa: -serve %s: %v\n", o.Addr, err)
		return 1
	case <-ctx.Done():
	}
	// Tell the members the server is going away before the listener stops, then give
	// plain HTTP requests a moment to finish.
	status := 0
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "p2pa: %v\n", err)
		status = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "p2pa: %v\n", err)
		status = 1
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "p2pa: %v\n", err)
		status = 1
	}
	fmt.Fprintln(stdout, "p2pa: server stopped")
	return status
}

// withWeb serves the rooms (the WebSocket and /healthz) and, everywhere else, the browser
// build in dir: one origin, so the page finds the rooms from its own address. The files are
// read from disk, never embedded: the wasm is tens of megabytes and most servers never
// serve it. A .wasm is sent gzipped when the build has the .gz copy and the browser takes it.
func withWeb(rooms http.Handler, dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ws", "/healthz":
			rooms.ServeHTTP(w, r)
			return
		}
		if strings.HasSuffix(r.URL.Path, ".wasm") && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			gz := filepath.Join(dir, filepath.FromSlash(path.Clean(r.URL.Path))+".gz")
			if _, err := os.Stat(gz); err == nil {
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", "application/wasm")
				w.Header().Add("Vary", "Accept-Encoding")
				http.ServeFile(w, r, gz)
				return
			}
		}
		files.ServeHTTP(w, r)
	})
}
