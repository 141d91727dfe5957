package relay

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

func TestCredentialsKnownVector(t *testing.T) {
	// Reference computed independently:
	//   printf '%s' 1700000000:alice | openssl dgst -sha1 -hmac north-wind -binary | base64
	user, pass := Credentials([]byte("north-wind"), "alice", time.Hour, time.Unix(1700000000-3600, 0))
	if user != "1700000000:alice" || pass != "Oko4dt8u/EbTRjRUJWQDFm/zTCc=" {
		t.Fatalf("Credentials = %q, %q", user, pass)
	}
}

// TestCredentialsMatchPion checks interoperability with pion's own TURN REST
// auth handler: both derive the same long-term key.
func TestCredentialsMatchPion(t *testing.T) {
	user, pass := Credentials(testSecret, "alice", time.Hour, time.Now())
	handler := turn.LongTermTURNRESTAuthHandler(string(testSecret), SlogLoggerFactory(nil).NewLogger("t"))
	id, key, ok := handler(&turn.RequestAttributes{Username: user, Realm: "lyn"})
	if !ok || id != "alice" {
		t.Fatalf("pion handler: ok=%v id=%q", ok, id)
	}
	if want := turn.GenerateAuthKey(user, "lyn", pass); string(key) != string(want) {
		t.Fatal("pion derives a different key from our credentials")
	}
}

func TestCheckCredentials(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	user, pass := Credentials(testSecret, "alice:with:colons", time.Minute, now)
	got, err := CheckCredentials(testSecret, user, pass, now)
	if err != nil || got != "alice:with:colons" {
		t.Fatalf("CheckCredentials = %q, %v", got, err)
	}
	for _, tc := range []struct {
		name, user, pass string
		now              time.Time
		want             error
	}{
		{"expired", user, pass, now.Add(time.Minute), ErrExpired},
		{"wrong secret", user, func() string { _, p := Credentials([]byte("x"), "alice:with:colons", time.Minute, now); return p }(), now, ErrBadPassword},
		{"tampered", strings.Replace(user, "alice", "alicf", 1), pass, now, ErrBadPassword},
		{"bad base64", user, "!!", now, ErrBadPassword},
		{"truncated password", user, pass[:len(pass)-4], now, ErrBadPassword},
		{"garbage", "abc", pass, now, ErrMalformedUsername},
		{"overflow", "99999999999999999999999:x", pass, now, ErrMalformedUsername},
	} {
		if _, err := CheckCredentials(testSecret, tc.user, tc.pass, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestParseUsername(t *testing.T) {
	for _, tc := range []struct {
		in      string
		sec     int64
		user    string
		wantErr bool
	}{
		{"1700000000:alice", 1700000000, "alice", false},
		{"0:x", 0, "x", false},
		{"9223372036854775807:x", 9223372036854775807, "x", false},
		{"1:a:b", 1, "a:b", false},
		{"9223372036854775808:x", 0, "", true},
		{"99999999999999999999999:x", 0, "", true},
		{"abc", 0, "", true},
		{"", 0, "", true},
		{":", 0, "", true},
		{"1:", 0, "", true},
		{":x", 0, "", true},
		{"-1:x", 0, "", true},
		{"+1:x", 0, "", true},
		{" 1:x", 0, "", true},
		{"1 :x", 0, "", true},
		{"0x10:x", 0, "", true},
		{"١٢:x", 0, "", true}, // non-ASCII digits
	} {
		exp, user, err := ParseUsername(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrMalformedUsername) {
				t.Errorf("ParseUsername(%q): err = %v, want ErrMalformedUsername", tc.in, err)
			}
			continue
		}
		if err != nil || exp.Unix() != tc.sec || user != tc.user {
			t.Errorf("ParseUsername(%q) = %v, %q, %v", tc.in, exp.Unix(), user, err)
		}
	}
}

func TestICEServerURLs(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want []string
	}{
		{"turn.example.com", 3478, []string{"stun:turn.example.com:3478", "turn:turn.example.com:3478?transport=udp"}},
		{"203.0.113.7", 0, []string{"stun:203.0.113.7:3478", "turn:203.0.113.7:3478?transport=udp"}},
		{"2001:db8::1", 5349, []string{"stun:[2001:db8::1]:5349", "turn:[2001:db8::1]:5349?transport=udp"}},
	} {
		if got := ICEServerURLs(tc.host, tc.port); !slices.Equal(got, tc.want) {
			t.Errorf("ICEServerURLs(%q, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}

// FuzzParseUsername: never panics; accepted usernames round-trip; whatever
// Credentials produces for a non-empty user parses back.
func FuzzParseUsername(f *testing.F) {
	for _, s := range []string{
		"1700000000:alice", "abc", "99999999999999999999999:x", "", ":", "1:", ":x",
		"-1:x", "+1:x", "9223372036854775807:x", "9223372036854775808:x", "0:a:b", "00012:\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exp, user, err := ParseUsername(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedUsername) {
				t.Fatalf("unexpected error type: %v", err)
			}
			if user != "" || !exp.IsZero() {
				t.Fatalf("error with non-zero results %v %q", exp, user)
			}
			return
		}
		if user == "" || exp.Unix() < 0 {
			t.Fatalf("accepted %q with user %q expiry %d", s, user, exp.Unix())
		}
		ts, rest, _ := strings.Cut(s, ":")
		if rest != user {
			t.Fatalf("user %q, want %q", user, rest)
		}
		if n, err := strconv.ParseInt(ts, 10, 64); err != nil || n != exp.Unix() {
			t.Fatalf("expiry %d does not match %q", exp.Unix(), ts)
		}
		// Credentials for the parsed parts verify against themselves.
		u2, p2 := Credentials(testSecret, user, 0, exp)
		if got, err := CheckCredentials(testSecret, u2, p2, exp.Add(-time.Second)); err != nil || got != user {
			t.Fatalf("round trip of %q: %q, %v", s, got, err)
		}
		// A forged password for the input never verifies.
		if _, err := CheckCredentials(testSecret, s, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", time.Unix(0, 0)); err == nil {
			t.Fatalf("forged password accepted for %q", s)
		}
	})
}
