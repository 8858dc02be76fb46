package peer

import (
	"fmt"
	"time"
)

// FormatResult is the result line scripts read at the end of a match, replay or watch:
// `frame=N checksum=X rollbacks=N rtt_ms=X`. Every front end (p2pa -headless, the window,
// the browser page's console and its #result element) prints it through this one function,
// so a script comparing two peers, one of them in a browser, compares like with like.
func FormatResult(frame int64, checksum uint64, rollbacks int64, rtt time.Duration) string {
	return fmt.Sprintf("frame=%d checksum=%016x rollbacks=%d rtt_ms=%.2f", frame, checksum, rollbacks, float64(rtt)/float64(time.Millisecond))
}
