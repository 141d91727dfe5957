package relay

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the TURN REST scheme (and coturn) specifies.
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is the IANA STUN/TURN port, used when a port is not given.
const DefaultPort = 3478

// maxExpiryDigits bounds the decimal expiry: 19 digits always fit an int64
// length-wise; ParseInt still rejects the values above MaxInt64.
const maxExpiryDigits = 19

// Credentials returns time-limited TURN credentials for user in the TURN REST
// API scheme that coturn's use-auth-secret accepts:
//
//	username = "<unix-expiry>:<user>"   (expiry = now+ttl, in whole seconds)
//	password = base64(HMAC-SHA1(secret, username))
//
// user should be non-empty; a server built by this package refuses an empty
// user (coturn would accept it). A ttl ≤ 0 yields credentials that are
// already expired. The secret is never part of the output.
func Credentials(secret []byte, user string, ttl time.Duration, now time.Time) (username, password string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10) + ":" + user
	return username, password64(secret, username)
}

// ParseUsername splits a TURN REST username "<unix-expiry>:<user>" into its
// expiry and user. The expiry must be 1–19 ASCII digits (no sign, no spaces)
// that fit an int64; the user is everything after the first colon and must
// not be empty. It never panics; malformed input yields an error wrapping
// ErrMalformedUsername.
func ParseUsername(username string) (expiry time.Time, user string, err error) {
	ts, user, ok := strings.Cut(username, ":")
	if !ok {
		return time.Time{}, "", fmt.Errorf("%w: no ':' separator", ErrMalformedUsername)
	}
	if ts == "" || len(ts) > maxExpiryDigits {
		return time.Time{}, "", fmt.Errorf("%w: expiry must be 1-%d digits", ErrMalformedUsername, maxExpiryDigits)
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return time.Time{}, "", fmt.Errorf("%w: expiry is not a decimal number", ErrMalformedUsername)
		}
	}
	sec, perr := strconv.ParseInt(ts, 10, 64)
	if perr != nil {
		return time.Time{}, "", fmt.Errorf("%w: expiry out of range", ErrMalformedUsername)
	}
	if user == "" {
		return time.Time{}, "", fmt.Errorf("%w: empty user", ErrMalformedUsername)
	}
	return time.Unix(sec, 0), user, nil
}

// CheckCredentials verifies a username/password pair issued by Credentials
// under secret, as of now. It returns the user part on success, and otherwise
// an error wrapping ErrMalformedUsername, ErrExpired or ErrBadPassword.
// Credentials are expired from their expiry second on. The password
// comparison is constant-time.
//
// The TURN server does not need this (TURN never sends the password; the
// server derives the key and checks MESSAGE-INTEGRITY, also in constant
// time); it is for callers that receive credentials directly.
func CheckCredentials(secret []byte, username, password string, now time.Time) (user string, err error) {
	expiry, user, err := ParseUsername(username)
	if err != nil {
		return "", err
	}
	if !now.Before(expiry) {
		return "", ErrExpired
	}
	want := passwordMAC(secret, username)
	got, derr := base64.StdEncoding.DecodeString(password)
	if derr != nil || !hmac.Equal(got, want) {
		return "", ErrBadPassword
	}
	return user, nil
}

func passwordMAC(secret []byte, username string) []byte {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username)) // hash.Hash.Write never fails
	return mac.Sum(nil)
}

func password64(secret []byte, username string) string {
	return base64.StdEncoding.EncodeToString(passwordMAC(secret, username))
}

// ICEServerURLs returns the URLs under which a Server is reachable, for an
// RTCIceServer entry: "stun:host:port" and "turn:host:port?transport=udp".
// host is the public host name or IP that clients dial (IPv6 literals are
// bracketed); port ≤ 0 means DefaultPort. Pair the TURN URL with a username
// and credential from Credentials.
func ICEServerURLs(publicHost string, port int) []string {
	if port <= 0 {
		port = DefaultPort
	}
	hp := net.JoinHostPort(publicHost, strconv.Itoa(port))
	return []string{
		"stun:" + hp,
		"turn:" + hp + "?transport=udp",
	}
}
