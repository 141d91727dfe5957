package web_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lynnet/lyn/demo-game/web"
)

func TestParseOptions(t *testing.T) {
	def := web.Options{Room: "lyn", Players: 2, Delay: 2, Timeout: 5 * time.Second}
	with := func(f func(*web.Options)) web.Options { o := def; f(&o); return o }
	for _, tc := range []struct {
		url, path string
		want      web.Options
	}{
		{"http://h:8080/", "/signal/", with(func(o *web.Options) { o.Signal = "ws://h:8080/signal/lyn" })},
		{"https://h/?room=duel", "signal", with(func(o *web.Options) { o.Room, o.Signal = "duel", "wss://h/signal/duel" })},
		{"http://h/?room=a.b_c-1&players=8&delay=0&name=%20Ana%20&bot&loopback=1&timeout=60&frames=600", "/",
			with(func(o *web.Options) {
				o.Room, o.Signal, o.Players, o.Delay, o.Name, o.Bot, o.LoopbackOnly, o.Timeout, o.Frames = "a.b_c-1", "ws://h/a.b_c-1", 8, 0, "Ana", true, true, time.Minute, 600
			})},
		{"file:///x/index.html?signal=wss://example.test/signal/r&bot=0", "/signal/",
			with(func(o *web.Options) { o.Room, o.Signal = "", "wss://example.test/signal/r" })},
	} {
		got, err := web.ParseOptions(tc.url, tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.url, got, tc.want)
		}
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for url, says := range map[string]string{
		"http://h/?players=1":                       "players",
		"http://h/?players=9":                       "players",
		"http://h/?delay=31":                        "delay",
		"http://h/?delay=-1":                        "delay",
		"http://h/?frames=-1":                       "frames",
		"http://h/?timeout=0":                       "timeout",
		"http://h/?name=" + strings.Repeat("x", 17): "name",
		"http://h/?name=a%07":                       "printable",
		"http://h/?name=%ff":                        "UTF-8",
		"http://h/?bot=maybe":                       "bot",
		"http://h/?room=" + strings.Repeat("r", 65): "room",
		"http://h/?room=a%2Fb":                      "room",
		"http://h/?room=a&signal=ws://x/b":          "not both",
		"http://h/?signal=http://x/b":               "ws://",
		"http://h/?signal=ws:///b":                  "no host",
		"http://h/?signal=ws://x/":                  "room name",
		"http://h/?players=2&players=3":             "2 times",
		"http://h/?colour=red":                      "unknown option",
		"http://h/?a=%zz":                           "query",
		"file:///index.html":                        "signal=ws",
		"http:///?room=a":                           "no host",
		"http://h/?" + strings.Repeat("a", 5000):    "longer",
	} {
		_, err := web.ParseOptions(url, "/signal/")
		if !errors.Is(err, web.ErrBadOptions) || !strings.Contains(err.Error(), says) {
			t.Errorf("%.60s: %v, want ErrBadOptions saying %q", url, err, says)
		}
	}
}

func TestJoinURLRoundTrip(t *testing.T) {
	for _, o := range []web.Options{
		{},
		{Room: "duel", Players: 4, Delay: 0, Name: "Zoë", Bot: true, LoopbackOnly: true, Timeout: time.Minute, Frames: 600},
		{Signal: "wss://example.test/signal/r", Players: 3, Delay: 5},
	} {
		u := web.JoinURL("http://h:1/", o)
		got, err := web.ParseOptions(u, "/signal/")
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if o.Room != "" && got.Room != o.Room || o.Room == "" && o.Signal != "" && got.Signal != o.Signal ||
			o.Players != 0 && got.Players != o.Players || got.Delay != o.Delay || got.Name != o.Name ||
			got.Bot != o.Bot || got.Frames != o.Frames || got.LoopbackOnly != o.LoopbackOnly || o.Timeout != 0 && got.Timeout != o.Timeout {
			t.Errorf("%s: %+v from %+v", u, got, o)
		}
	}
}

// FuzzParseOptions: any query either fails with ErrBadOptions or gives
// options within their bounds that JoinURL writes back to the same options.
func FuzzParseOptions(f *testing.F) {
	for _, q := range []string{"", "room=duel&players=4", "signal=wss://x/s/r&bot", "name=%E2%98%83&delay=0&timeout=600", "frames=600&bot",
		"players=2&players=3", "room=a%2Fb", "loopback=1&name=+a+", "a=%zz", ";&=", "signal=ws://h/%2e"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		o, err := web.ParseOptions("http://example.test:8080/?"+query, "/signal/")
		if err != nil {
			if !errors.Is(err, web.ErrBadOptions) {
				t.Fatalf("error %v does not wrap ErrBadOptions", err)
			}
			return
		}
		if o.Players < 2 || o.Players > web.MaxPlayers || o.Delay < 0 || o.Delay > web.MaxDelay ||
			o.Timeout < time.Second || o.Timeout > web.MaxTimeout || o.Frames < 0 || o.Frames > web.MaxFrames || o.Signal == "" || len([]rune(o.Name)) > web.MaxNameLen {
			t.Fatalf("out of bounds: %+v", o)
		}
		again, err := web.ParseOptions(web.JoinURL("http://example.test:8080", o), "/signal/")
		if err != nil {
			t.Fatalf("JoinURL of %+v: %v", o, err)
		}
		if again != o {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, o)
		}
	})
}

// FuzzParseOptionsURL: any page URL and signaling path (the Host header of
// a request ends up in the URL) either fails with ErrBadOptions or gives a
// ws:// or wss:// room URL.
func FuzzParseOptionsURL(f *testing.F) {
	for _, u := range []string{"http://h:8080/?room=a", "https://[::1]:443/", "file:///x", "http://h/%zz", "http://a b/", "//h/?room=x", "http://h/?signal=ws://x/%2e"} {
		f.Add(u, "/signal/")
	}
	f.Fuzz(func(t *testing.T, pageURL, signalPath string) {
		o, err := web.ParseOptions(pageURL, signalPath)
		if err != nil {
			if !errors.Is(err, web.ErrBadOptions) {
				t.Fatalf("error %v does not wrap ErrBadOptions", err)
			}
			return
		}
		if !strings.HasPrefix(o.Signal, "ws://") && !strings.HasPrefix(o.Signal, "wss://") {
			t.Fatalf("signal %q", o.Signal)
		}
	})
}
