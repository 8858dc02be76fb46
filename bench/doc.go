// Package bench holds the figures p2pa publishes. Run them all with make bench (six runs
// to bench/latest.txt, then benchstat's table and the goal table of bench/goals), or
// go test ./bench -run '^$' -bench . -benchmem for one pass.
//
// A benchmark line reads: the benchmark's name and its sub-benchmark's parameters (coins=50
// is the game's size, rollback=8 the rollback depth forced on every frame, rtt= and loss=
// the emulated link, input= who moves the mouse, enc= the stream's encoding), the CPU count
// suffix (-2), the iterations, then one "value metric" pair per figure. Go's own metrics:
//
//	ns/op                one iteration; what an iteration is differs per benchmark (below)
//	B/op, allocs/op      bytes and allocations per iteration (-benchmem)
//	MB/s                 bytes encoded per second (BenchmarkStream)
//
// The metrics the benchmarks add with b.ReportMetric, by benchmark:
//
// BenchmarkFrame (frame_test.go), one session frame of a peer, with and without a rollback:
//
//	ns/frame             that peer's tick alone: Receive, AddLocalInput, Advance with the
//	                     rollback and re-simulation, the game's requests, Outgoing
//	%budget              ns/frame as a percentage of a 60 Hz frame (16.67 ms)
//
// BenchmarkSyncTest8 (frame_test.go), one frame of synctest.Test with 8 frames rolled
// back and re-simulated:
//
//	%budget              ns/op as a percentage of a 60 Hz frame
//
// BenchmarkHandshake (udp_test.go), two sessions getting in sync over loopback UDP:
//
//	handshake-ms         from both sessions created to both running, in milliseconds
//
// BenchmarkFirstFrame (loop_test.go), two peers on loopback UDP through the loop the
// headless binary runs, from both sockets bound to both peers' first advanced frame:
//
//	first-frame-ms       mean over the runs, in milliseconds
//
// BenchmarkFrameJitter (loop_test.go), how evenly that loop paces its frames on the real
// clock (two peers, five seconds of play):
//
//	frame-jitter-ms      p99 distance of a frame's start from the nearest 60 Hz grid point
//	skipped/min          grid slots with no frame per minute: time-sync waits (or ticks the
//	                     loop missed), each a visible 16.67 ms stutter
//
// BenchmarkInputLatency (udp_test.go), how soon a remote input counts, over loopback UDP:
//
//	p50-ms, p99-ms       median and 99th percentile, in milliseconds, from A adding its
//	                     input to B having simulated a frame with it in hand (the engine,
//	                     the kernel and the socket reader; no frame pacing)
//	delay-ms             the input delay's share, d frames at 60 Hz, by design; it is not
//	                     in p50-ms and p99-ms and is to be added to them
//
// BenchmarkWire (match_test.go), what one player sends during a one-minute match played
// over the emulated network:
//
//	wire-B/frame         UDP payload bytes per player per 1/60 s tick
//	datagrams/frame      datagrams per player per tick
//	udp-B/s              payload plus 28 bytes of IPv4 and UDP header per datagram, per
//	                     player per second
//
// BenchmarkBadLink (match_test.go), a 10,000-frame bot match on a perfect and on bad links,
// as the players would feel it:
//
//	rollbacks/frame      rollbacks per frame played, both peers together
//	rollback-depth-max   the deepest rollback either peer made, in frames
//	stall-frames         ticks a peer could not advance for want of remote input (mean of
//	                     the two peers)
//	wait-frames          ticks a peer skipped to let the other catch up (time sync; mean)
//	desyncs              desync events; must be 0
//
// BenchmarkStream (stream_test.go), the 2020 prototype's design (every coin's position
// every frame) against p2pa's (inputs only), on the same bot match:
//
//	stream-B/frame       bytes of one frame's stream while every coin is in play
//	stream/input         stream-B/frame divided by what a player sends per frame (the
//	                     wire-B/frame of BenchmarkWire's bot play on a perfect link)
//	match-B/frame        the stream's mean bytes over every frame of the match
//	match/input          match-B/frame divided by the same
//	coins/frame          coins in play per frame, averaged over the match
//
// BenchmarkRejoin (rejoin_test.go), a killed player's fresh runner back in a match of
// 10,000 coins (a 200 KB state) on loopback UDP, with and without 5% loss; one iteration is
// a whole match (start, kill, a second away, rejoin, end), so ns/op is not the figure:
//
//	rejoin-ms            from the fresh runner's start to the state handed over loaded in
//	                     its game (handshake, handover, load)
//	handover-ms          the handover alone, RejoinJoining to RejoinResumed
//	state-B              the state's size in bytes
//
// BenchmarkResync (resync_test.go), a desync mended while the match goes on: player 1's
// game diverges at frame 60 in a match of 50 or 10,000 coins on loopback UDP, with and
// without 5% loss on its socket; one iteration is a whole 180-frame match:
//
//	ms/resync            from the first runner confirming frame 60 (the checksum that
//	                     differs goes out) to player 1 holding player 0's state and
//	                     having replayed on it (the exchange, the vote, the handover and
//	                     the replay)
//
// BenchmarkRoomConnect (internet_test.go; needs root for network namespaces, skipped
// otherwise), two real p2pa processes behind emulated NATs meeting in a room of
// p2pa -serve -turn: path=direct through two port-restricted cones (hole punched),
// path=relayed through two symmetric NATs (only the relay connects them):
//
//	connect-ms           from player 1's start (player 0 waiting in the room) to both
//	                     players connected and playing
//
// The links' own figures (round trip over raw UDP, ICE-only and a data channel; datagrams
// and bytes per frame on each path; time to open a link) are transport/rtc's benchmarks:
// go test ./transport/rtc -run '^$' -bench .
//
// BenchmarkStep, BenchmarkSaveLoad and BenchmarkRollbackFrame (game_bench_test.go) time
// the game alone (one Step; one SaveState and LoadState; an 8-frame rollback) and report
// only Go's metrics.
//
// The goals these figures are judged by, and their thresholds, are in bench/goals.
package bench
