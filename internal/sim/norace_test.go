//go:build !race

package sim

// raceDetector: the tests run without the race detector (see race_test.go).
const raceDetector = false
