package rendezvous

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"
)

// TURNCredentials makes a TURN REST credential (draft-uberti-behave-turn-rest, what coturn's
// use-auth-secret and pion's LongTermTURNRESTAuthHandler check): the username is the
// expiry as Unix seconds, a colon and user; the password is the base64 HMAC-SHA1 of the
// username under secret. Whoever knows the secret can check it without asking us, and it
// stops working at expires, so a relay is never open to strangers for long.
func TURNCredentials(secret, user string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10)
	if user != "" {
		username += ":" + user
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username)) // a hash.Hash never returns an error
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
