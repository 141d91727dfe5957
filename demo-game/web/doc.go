// Package web serves the browser build of the lyn demo: an http.Handler
// (NewHandler) for the page at /, wasm_exec.js and the demo compiled with
// GOOS=js GOARCH=wasm. demo-game's -host mode mounts it next to the
// signaling server, so a friend opens one URL and plays a native peer.
//
// With the Go toolchain and the lyn source tree at hand the handler builds
// the .wasm itself, once per hash of the sources (go list), caching it on
// disk under the user cache directory; elsewhere it serves a prebuilt one
// (Config.Wasm). The .wasm's URL holds its hash, so browsers cache it for
// good; it is served gzip-compressed to clients that accept it.
//
// The page reads its options (room, players, input delay, name, ...) from
// its query string with ParseOptions, the same decoder the Go side in the
// browser uses; JoinURL writes them. A page URL with bad options gets a
// 400 page saying which key is wrong, and a server that can neither build
// nor serve a .wasm says so on the page (503).
package web
