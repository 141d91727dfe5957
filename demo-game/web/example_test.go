//go:build !js

package web_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/lynnet/lyn/demo-game/web"
	"github.com/lynnet/lyn/signaling"
)

// Serve the browser build next to a signaling server, as demo-game's -host
// does: the page joins rooms at /signal/<room> on the same origin.
func ExampleNewHandler() {
	sig := signaling.NewServer(signaling.Config{})
	page, err := web.NewHandler(web.Config{}) // builds ./demo-game on first use
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(web.DefaultSignalPath, http.StripPrefix("/signal", sig))
	mux.Handle("/", page)
	_ = &http.Server{Addr: ":8080", Handler: mux} // ListenAndServe in a real program

	fmt.Println(web.JoinURL("http://localhost:8080", web.Options{Room: "duel", Delay: web.DefaultDelay, Name: "ana"}))
	// Output: http://localhost:8080/?name=ana&room=duel
}

func ExampleParseOptions() {
	o, err := web.ParseOptions("https://play.example.test/?room=duel&players=3", web.DefaultSignalPath)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(o.Signal, o.Players, o.Delay)
	// Output: wss://play.example.test/signal/duel 3 2
}
