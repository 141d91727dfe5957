// play.js drives Debian's chromium (playwright-core, no browser download)
// for demo-game/web's browser E2E test: it opens the demo page (whose URL
// says frames=N), waits until the page reports the confirmed checksum of
// frame N, saves a screenshot, and prints one line "RESULT <json>" with the
// page's status and timings. Exit status 0 only when the page got there.
//
// usage: node play.js <page URL> <screenshot.png> <timeout seconds>
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const [url, shot, timeoutArg] = process.argv.slice(2);
  if (!url || !shot) throw new Error("usage: node play.js <url> <screenshot.png> <timeout s>");
  const deadline = Date.now() + 1000 * Number(timeoutArg || 120);
  const browser = await chromium.launch({
    executablePath: process.env.LYN_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--allow-loopback-in-peer-connection",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      "--enable-unsafe-swiftshader",
      "--no-sandbox",
      "--disable-background-networking",
      // Real host addresses in candidates rather than mDNS names, which the
      // loopback-only page would drop.
      "--disable-features=WebRtcHideLocalIpsWithMdns",
    ],
  });
  let status = null;
  let failure = null;
  try {
    const page = await browser.newPage({ viewport: { width: 640, height: 400 } });
    page.on("console", (m) => console.log("console." + m.type() + ": " + m.text()));
    page.on("pageerror", (e) => console.log("pageerror: " + e.message));
    const resp = await page.goto(url);
    if (!resp || !resp.ok()) throw new Error("page load: HTTP " + (resp && resp.status()));
    for (;;) {
      status = await page.evaluate(() => window.lyn && { status: window.lyn.status, times: window.lyn.times });
      const s = status && status.status;
      if (s && s.state === "error") { failure = "page: " + s.error; break; }
      if (s && s.finalChecksum) break;
      if (Date.now() > deadline) { failure = "timeout: page status " + JSON.stringify(s); break; }
      await page.waitForTimeout(250);
    }
    await page.screenshot({ path: shot });
  } finally {
    await browser.close();
  }
  console.log("RESULT " + JSON.stringify(status));
  if (failure) throw new Error(failure);
}

main().catch((e) => { console.error("play.js: " + (e && e.stack || e)); process.exit(1); });
