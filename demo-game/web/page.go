//go:build !js

package web

import "html/template"

// pageData fills indexTemplate. With Error set the page shows it and loads
// nothing.
type pageData struct {
	SignalPath string
	WasmURL    string
	Building   bool // the .wasm is being built: say why the page waits
	Error      string
	Hint       string
}

// indexTemplate is the page. It loads wasm_exec.js and the .wasm, and keeps
// in window.lyn what the Go side (main_js.go) reads and reports: the
// signaling path, the loopback-only ICE filter, and a status object
// (state, frame, checksums, timings) that tests and curious people read.
var indexTemplate = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lyn demo</title>
{{if .WasmURL}}<link rel="preload" href="{{.WasmURL}}" as="fetch" type="application/wasm" crossorigin>{{end}}
<style>
html, body { margin: 0; height: 100%; background: #14161c; color: #e8e8e8; font: 16px system-ui, sans-serif; overflow: hidden; }
#status { position: fixed; left: 0; right: 0; top: 40%; text-align: center; white-space: pre-wrap; padding: 0 1em; }
#status.error { color: #ff8080; top: 10%; text-align: left; font-family: ui-monospace, monospace; font-size: 14px; }
canvas { display: block; }
</style>
</head>
<body>
{{if .Error}}<div id="status" class="error">lyn demo: {{.Error}}

{{.Hint}}</div>
<script>window.lyn = {status: {state: "error", error: {{.Error}}}};</script>
{{else}}<div id="status">{{if .Building}}building the game for the browser (the first build takes a few minutes)…{{else}}loading the game…{{end}}</div>
<script src="wasm_exec.js"></script>
<script>
"use strict";
(function () {
  const statusEl = document.getElementById("status");
  const lyn = window.lyn = {
    signalPath: {{.SignalPath}},
    status: {state: "loading", frame: 0, confirmed: 0},
    times: {},
    show(text, isError) {
      statusEl.textContent = text;
      statusEl.className = isError ? "error" : "";
      statusEl.style.display = text ? "" : "none";
    },
    fail(text) {
      lyn.status.state = "error";
      lyn.status.error = text;
      lyn.show("lyn demo: " + text, true);
      console.error("lyn: " + text);
    },
    mark(name) { lyn.times[name] = performance.now(); },
    // loopbackOnly keeps WebRTC on 127.0.0.1: local candidates for other
    // addresses are not signaled, remote ones are not added.
    loopbackOnly() {
      const keep = (c) => {
        const f = String(c).split(" ");
        // candidate:<foundation> <component> <proto> <priority> <address> <port> typ ...
        return f.length > 5 && f[2].toLowerCase() === "udp" && f[4] === "127.0.0.1";
      };
      const Base = window.RTCPeerConnection;
      class LoopbackPeerConnection extends Base {
        set onicecandidate(f) {
          super.onicecandidate = f && ((e) => { if (!e.candidate || !e.candidate.candidate || keep(e.candidate.candidate)) f(e); });
        }
        get onicecandidate() { return super.onicecandidate; }
        addIceCandidate(c, ...rest) {
          if (c && c.candidate && !keep(c.candidate)) return Promise.resolve();
          return super.addIceCandidate(c, ...rest);
        }
      }
      window.RTCPeerConnection = LoopbackPeerConnection;
    },
  };
  lyn.mark("start");
  const go = new Go();
  const wasm = fetch({{.WasmURL}}).then((resp) => {
    if (!resp.ok) return resp.text().then((t) => { throw new Error("loading " + {{.WasmURL}} + ": " + resp.status + " " + t); });
    return WebAssembly.instantiateStreaming(resp, go.importObject);
  });
  wasm.then((result) => {
    lyn.mark("instantiated");
    lyn.show("joining…");
    return go.run(result.instance);
  }).then(() => {
    if (lyn.status.state !== "error") lyn.fail("the game exited");
  }).catch((err) => lyn.fail(String(err && err.message || err)));
})();
</script>
{{end}}
</body>
</html>
`))
