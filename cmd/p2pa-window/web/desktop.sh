#!/usr/bin/env bash
# desktop.sh: a person's view of the page, checked by hand. A real (not headless) Chromium
# under Xvfb opens the page of `p2pa -serve -web bin/web` as player 0 of room DEMO, a
# desktop p2pa joins it (versus: each steers a collector), and xdotool plays with the mouse; screenshots of the whole X
# screen (imagemagick's import) go to OUT (default /tmp/p2pa-desktop): waiting.png (the
# waiting screen with the link and the command), playing-N.png, end.png.
#
# Chromium ignores loopback for WebRTC, so the browser and the server sit in two network
# namespaces joined by a veth (10.77.0.1: server and desktop player; 10.77.0.2: browser),
# each with a default route. Needs root, iproute2, xvfb, xdotool, imagemagick, Debian's
# chromium, and make build-headless web first. Run from the repository's root.
set -euo pipefail
OUT=${OUT:-/tmp/p2pa-desktop}
FRAMES=${FRAMES:-1800}
mkdir -p "$OUT"
A=p2paD0 B=p2paD1 DISP=:77
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 1
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
	rm -rf "${profile:-}"
}
trap cleanup EXIT
ip netns add $A
ip netns add $B
ip link add p2paDa netns $A type veth peer name p2paDb netns $B
ip -n $A addr add 10.77.0.1/24 dev p2paDa
ip -n $B addr add 10.77.0.2/24 dev p2paDb
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set p2paDa up
ip -n $B link set p2paDb up
ip -n $A route add default via 10.77.0.2
ip -n $B route add default via 10.77.0.1

ip netns exec $A bin/p2pa -serve 10.77.0.1:8080 -web bin/web >"$OUT/server.log" 2>&1 &
pids+=($!)
ip netns exec $B Xvfb $DISP -screen 0 840x660x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
pids+=($!)
sleep 2
profile=$(mktemp -d)
# The real binary, not the /usr/bin/chromium wrapper script, so that its PID is the browser's.
ip netns exec $B env DISPLAY=$DISP /usr/lib/chromium/chromium --no-sandbox --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync --disable-quic \
	--use-angle=swiftshader --enable-unsafe-swiftshader --ignore-gpu-blocklist --test-type \
	--user-data-dir="$profile" --window-position=0,0 --window-size=840,660 \
	--app="http://10.77.0.1:8080/?room=demo&p=0&mode=versus&frames=$FRAMES" >"$OUT/chromium.log" 2>&1 &
pids+=($!)
# Loading and compiling 30 MB of wasm takes a while on a busy machine: the page has drawn
# its waiting screen once it has opened the room.
for _ in $(seq 120); do grep -q '"room created" room=DEMO' "$OUT/server.log" && break; sleep 0.5; done
sleep 3
ip netns exec $B env DISPLAY=$DISP import -window root "$OUT/waiting.png"

ip netns exec $A bin/p2pa -p 1 -server http://10.77.0.1:8080 -room demo -mode versus -headless -bot -seed 7 \
	-frames "$FRAMES" -disconnect 60s >"$OUT/desktop.log" 2>&1 &
desktop=$!
pids+=($desktop)
# The mouse plays: circles over the field, the right button held now and then.
x() { ip netns exec $B env DISPLAY=$DISP xdotool "$@"; }
for i in $(seq 0 11); do
	for a in 0 1 2 3 4 5 6 7; do
		cx=$((420 + (a % 4) * 60 - 90)) cy=$((330 + (a / 4) * 120 - 60 + (i % 3) * 40))
		x mousemove $cx $cy
		sleep 0.25
	done
	if [ $((i % 3)) = 1 ]; then x mousedown 3; sleep 1; x mouseup 3; fi
	if [ $((i % 4)) = 2 ]; then ip netns exec $B env DISPLAY=$DISP import -window root "$OUT/playing-$i.png"; fi
done
wait $desktop || echo "desktop p2pa exited $?"
sleep 8 # the page's end screen
ip netns exec $B env DISPLAY=$DISP import -window root "$OUT/end.png"
echo "desktop p2pa: $(tail -n 1 "$OUT/desktop.log")"
echo "screenshots in $OUT: $(cd "$OUT" && ls ./*.png | tr '\n' ' ')"
