//go:build race

package sim

// raceDetector: the tests run under the race detector, which makes the coin game's loops
// some hundred times slower; the longest scenarios shorten their runs (see rejoinFrames).
const raceDetector = true
