//go:build !js

package netcode

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
	"github.com/pion/webrtc/v4"
)

var updateNATTable = flag.Bool("update-nat-table", false, "rewrite NAT.md from TestNATMatrix's results")

// natTableFile is the generated results table, next to this file.
const natTableFile = "NAT.md"

// natFrames is how many frames each NAT pair plays.
const natFrames = 180

// natTableRuns is how many times -update-nat-table runs each pair.
const natTableRuns = 5

// natResult is how one pair of peers connected, seen from the first one.
type natResult struct {
	a, b          natKind
	local, remote webrtc.ICECandidateType
	connect       time.Duration // both Joins returned, on the bubble's clock
}

func (r natResult) relayed() bool {
	return r.local == webrtc.ICECandidateTypeRelay || r.remote == webrtc.ICECandidateTypeRelay
}

// natRow is one pair's row: every run of it. Its first three cells (pair,
// connected, path) are what a normal run checks against the committed
// table; the candidate types and the times are informative, because they
// vary from run to run (see TestNATMatrix).
func natRow(runs []natResult) []string {
	r := runs[0]
	path := "direct"
	if r.relayed() {
		path = "relay"
	}
	var pairs []string
	times := make([]time.Duration, len(runs))
	for i, r := range runs {
		if p := r.local.String() + " → " + r.remote.String(); !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
		}
		times[i] = r.connect
	}
	slices.Sort(pairs)
	slices.Sort(times)
	connect := fmt.Sprint(times[len(times)/2].Milliseconds())
	if len(times) > 1 {
		connect += fmt.Sprintf(" (%d–%d)", times[0].Milliseconds(), times[len(times)-1].Milliseconds())
	}
	return []string{r.a.String() + " ↔ " + r.b.String(), "yes", path, strings.Join(pairs, ", "), connect}
}

// TestNATMatrix joins two peers behind every pair of NAT kinds (none, full
// cone, address-restricted, port-restricted, symmetric: 15 pairs) to a room
// on a real lyn signaling server whose welcome hands out lyn's own
// STUN/TURN relay with time-limited credentials; both play the reference
// game and must confirm the same inputs and checksums. The selected
// candidate pair must be direct (host, srflx or prflx on both ends)
// wherever theory allows (natDirect) and relayed where it does not
// (symmetric ↔ symmetric, symmetric ↔ port-restricted).
//
// Everything runs in a synctest bubble over pion's vnet (routers with NAT
// and per-hop delays, see natWorld), so the connect times are virtual and
// do not depend on the machine's load; the signaling server is reached
// through in-memory pipes. The results are compared with the table in
// NAT.md (pair, connected, path); -update-nat-table runs every pair
// natTableRuns times and rewrites it with the candidate types and connect
// times seen. Those are informative, not checked: they vary from run to
// run (see natTable).
func TestNATMatrix(t *testing.T) {
	runs := 1
	if *updateNATTable {
		runs = natTableRuns
	}
	var results [][]natResult
	for i, a := range natKinds {
		for _, b := range natKinds[i:] {
			var pair []natResult
			for run := range runs {
				name := a.String() + "/" + b.String()
				if runs > 1 {
					name += fmt.Sprintf("/run%d", run)
				}
				t.Run(name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) { pair = append(pair, natPair(t, a, b)) })
				})
			}
			if len(pair) > 0 {
				results = append(results, pair)
			}
		}
	}
	if t.Failed() || len(results) != len(natKinds)*(len(natKinds)+1)/2 {
		return // a -run filter or a failure: no table
	}
	table := natTable(results)
	if *updateNATTable {
		if err := os.WriteFile(natTableFile, table, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	committed, err := os.ReadFile(natTableFile)
	if err != nil {
		t.Fatalf("%v (go test ./netcode -run TestNATMatrix -update-nat-table writes it)", err)
	}
	want, got := natTableCells(committed), natTableCells(table)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("NAT.md is out of date (go test ./netcode -run TestNATMatrix -update-nat-table rewrites it)\ncommitted:\n%s\nnow:\n%s",
			strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

// natPair connects peers behind a and b and plays; it runs in a bubble.
func natPair(t *testing.T, a, b natKind) natResult {
	w := newNATWorld(t, []natKind{a, b})
	recs := []*gameRecorder{{sums: map[rollback.Frame]uint64{}}, {sums: map[rollback.Frame]uint64{}}}
	cfgs := make([]JoinConfig[rt.Input], 2)
	for i := range cfgs {
		cfgs[i] = w.joinConfig(i, "nat", 2)
		cfgs[i].Session.Recorder = recs[i]
	}
	sessions, took := joinEach(t, cfgs)
	res := natResult{a: a, b: b, connect: took}
	for i, s := range sessions {
		ns := s.NetStats()
		if len(ns) != 1 {
			t.Fatalf("peer %d has %d connections", i, len(ns))
		}
		r := natResult{a: w.kinds[i], b: w.kinds[1-i], local: ns[0].LocalCandidateType, remote: ns[0].RemoteCandidateType}
		t.Logf("%-15s sees %-15s: %s %s → %s %s, channels open after %v", r.a, r.b, r.local, ns[0].LocalAddress,
			r.remote, ns[0].RemoteAddress, ns[0].Timeline.ChannelsOpen)
		if r.relayed() == natDirect(r.a, r.b) {
			t.Errorf("%s ↔ %s: selected pair %s → %s, want a %s one", r.a, r.b, r.local, r.remote,
				map[bool]string{true: "direct", false: "relayed"}[natDirect(r.a, r.b)])
		}
		if i == 0 {
			res.local, res.remote = r.local, r.remote
		}
	}
	frames := natFrames
	if raceEnabled {
		frames = 90 // the race detector slows pion's goroutines several times over
	}
	compared := playJoined(t, sessions, recs, frames)
	t.Logf("%s ↔ %s: connected in %v (virtual), %d frames played, %d checksums compared", a, b, took, frames, compared)
	return res
}

// natTable renders the results as NAT.md.
func natTable(results [][]natResult) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `# NAT traversal results

Generated by `+"`go test ./netcode -run TestNATMatrix -update-nat-table`"+`; do not edit.
The normal test run (`+"`go test ./netcode`"+`, one run per pair) fails when a
pair no longer connects or no longer takes the path (direct or relay) shown
here.

Two lyn peers behind each pair of NAT kinds join a room on a real lyn
signaling server, whose welcome hands out lyn's own STUN/TURN relay
(signaling/relay) with time-limited credentials, connect with lyn's default
netcode.Config, and play %d frames of the reference game, agreeing on every
input and checksum. The network is pion's vnet in a synctest bubble:
NAT'd peers sit behind their own router (%v per hop) on a WAN router
(%v per hop) that also carries the relay and the peers without NAT;
signaling is instantaneous. NAT kinds (RFC 4787): full cone = endpoint-
independent mapping and filtering; addr-restricted = independent mapping,
address-dependent filtering; port-restricted = independent mapping,
address- and port-dependent filtering; symmetric = address- and
port-dependent mapping and filtering.

Each pair ran %d times. Path is direct when neither end of the selected
candidate pair is a relay candidate. Candidates are the selected pair's
local → remote types seen from the first peer of the pair, every
combination seen over the runs: the same two sockets may be named host or
srflx locally (a NAT'd peer's srflx candidate is its host socket seen from
outside) and srflx or prflx remotely (prflx when the peer's check arrived
before its candidate), and in a relayed pair either peer may be the one
whose TURN allocation carries the traffic. Connect is the virtual time
from both peers calling Join to both sessions running (signaling, ICE,
DTLS, SCTP over the simulated delays; one round trip between two NAT'd
peers is %v), the median and (min–max) over the runs: the order in which
pion's goroutines act at the same virtual instant is not fixed, so a
first check may miss a hole punched a moment later and be retried.

| pair | connected | path | candidates | connect (virtual ms) |
|---|---|---|---|---|
`, natFrames, natLANDelay, natWANDelay, natTableRuns, 2*(2*natLANDelay+natWANDelay))
	for _, runs := range results {
		fmt.Fprintf(&buf, "| %s |\n", strings.Join(natRow(runs), " | "))
	}
	return buf.Bytes()
}

// natTableCells returns the checked cells (the first three) of each table
// row of a NAT.md, one string per row.
func natTableCells(md []byte) []string {
	var rows []string
	for _, line := range strings.Split(string(md), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| pair ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		cells = cells[:min(len(cells), 3)]
		rows = append(rows, strings.Join(cells, " | "))
	}
	return rows
}

// TestNATMesh is TestNATMatrix's check for a room of 4 players behind
// mixed NATs: every one of the 6 links connects, directly where theory
// allows and relayed where it does not, and the game agrees.
func TestNATMesh(t *testing.T) {
	for _, kinds := range [][]natKind{
		{natNone, natFullCone, natPortRestricted, natSymmetric},
		{natAddrRestricted, natPortRestricted, natSymmetric, natSymmetric},
	} {
		var names []string
		for _, k := range kinds {
			names = append(names, k.String())
		}
		t.Run(strings.Join(names, ","), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { natMesh(t, kinds) })
		})
	}
}

func natMesh(t *testing.T, kinds []natKind) {
	w := newNATWorld(t, kinds)
	recs := make([]*gameRecorder, len(kinds))
	cfgs := make([]JoinConfig[rt.Input], len(kinds))
	for i := range cfgs {
		recs[i] = &gameRecorder{sums: map[rollback.Frame]uint64{}}
		cfgs[i] = w.joinConfig(i, "mesh", len(kinds))
		cfgs[i].Session.Recorder = recs[i]
	}
	sessions, took := joinEach(t, cfgs)
	kindOf := map[PeerID]natKind{}
	for i, s := range sessions {
		kindOf[PeerID(s.LocalPlayer()+1)] = kinds[i]
	}
	direct, relayed := 0, 0
	for i, s := range sessions {
		ns := s.NetStats()
		if len(ns) != len(kinds)-1 {
			t.Fatalf("peer %d (%s) has %d connections", i, kinds[i], len(ns))
		}
		for _, n := range ns {
			r := natResult{a: kinds[i], b: kindOf[n.Peer], local: n.LocalCandidateType, remote: n.RemoteCandidateType}
			t.Logf("%-15s sees %-15s: %s → %s, channels open after %v", r.a, r.b, r.local, r.remote, n.Timeline.ChannelsOpen)
			if r.relayed() == natDirect(r.a, r.b) {
				t.Errorf("%s ↔ %s: selected pair %s → %s, want a %s one", r.a, r.b, r.local, r.remote,
					map[bool]string{true: "direct", false: "relayed"}[natDirect(r.a, r.b)])
			}
			if r.relayed() {
				relayed++
			} else {
				direct++
			}
		}
	}
	frames := 300
	if raceEnabled {
		frames = 90
	}
	compared := playJoined(t, sessions, recs, frames)
	t.Logf("%d links direct, %d relayed (each counted from both ends); all joined in %v (virtual); %d checksums compared",
		direct/2, relayed/2, took, compared)
}
