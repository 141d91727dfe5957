package signaling

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MintJoinToken returns a token that lets its holder join room until expires. A game
// backend mints it with the same secret as Config.JoinSecret and hands it to the client,
// which passes it as ?token=. Format: "<unix-expiry>.<base64url(HMAC-SHA256)>".
func MintJoinToken(secret []byte, room string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + base64.RawURLEncoding.EncodeToString(joinMAC(secret, room, exp))
}

func joinMAC(secret []byte, room, exp string) []byte {
	m := hmac.New(sha256.New, secret)
	// The NUL separators keep ("ab","1") and ("a","b1") apart.
	m.Write([]byte("lyn-join-v1\x00"))
	m.Write([]byte(room))
	m.Write([]byte{0})
	m.Write([]byte(exp))
	return m.Sum(nil)
}

// VerifyJoinToken checks a token minted by MintJoinToken for room at time now. It returns
// ErrBadJoinToken or ErrJoinTokenExpired (wrapped).
func VerifyJoinToken(secret []byte, room, token string, now time.Time) error {
	exp, sig, ok := strings.Cut(token, ".")
	if !ok || len(exp) == 0 || len(exp) > 19 {
		return fmt.Errorf("%w: malformed", ErrBadJoinToken)
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: malformed expiry", ErrBadJoinToken)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: malformed signature", ErrBadJoinToken)
	}
	// Check the signature before the expiry so a forged token never learns more.
	if !hmac.Equal(got, joinMAC(secret, room, exp)) {
		return fmt.Errorf("%w: signature mismatch", ErrBadJoinToken)
	}
	if !now.Before(time.Unix(unix, 0)) {
		return fmt.Errorf("%w", ErrJoinTokenExpired)
	}
	return nil
}
