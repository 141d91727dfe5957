//go:build !js

package netcode

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lynnet/lyn/internal/pionlog"
	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
)

// vnetPath is what the virtual network does to every datagram on its way
// into a peer (so to both directions of every pair): a fixed delay, a random
// extra delay, and loss.
type vnetPath struct {
	Delay time.Duration
	// Jitter: each datagram waits a further uniformly random [0, Jitter).
	// vnet's DelayFilter queue is first in, first out, so a datagram never
	// overtakes an earlier one into the same peer: a short draw behind a
	// long one waits for it (jitter without reordering; the effective
	// delays lean towards the long end).
	Jitter time.Duration
	// Loss is the percentage of datagrams dropped, independently, by a
	// seeded vnet.LossFilter.
	Loss int
}

func (p vnetPath) String() string {
	return fmt.Sprintf("%v+[0,%v) one way, %d%% loss", p.Delay, p.Jitter, p.Loss)
}

// vnetJitter gives every datagram its own delay. vnet's NIC interface has
// unexported methods, so a test cannot write its own NIC wrapper; instead
// this router chunk filter draws a delay from a seeded PRNG and sets it on
// the destination's DelayFilter just before the router hands the datagram
// over. That is sound because the router's one goroutine runs the filters
// and then delivers the same chunk (LossFilter → DelayFilter, which reads
// the delay on arrival) before it touches the next chunk. (RouterConfig's
// MaxJitter is no use here: it draws from the global rand and sleeps with
// the router's mutex held, delaying every chunk queued at once; untried in
// a bubble, but senders blocked on that mutex are not durably blocked, so
// by synctest's rules the clock could not advance to end the sleep.)
type vnetJitter struct {
	path vnetPath
	into map[string]*vnet.DelayFilter // by destination IP

	mu       sync.Mutex
	rng      *rand.Rand
	drop     func(vnet.Chunk) bool // optional: a test's own choice of datagrams to lose
	routed   int
	sum, max time.Duration
}

// setDrop makes the router drop every datagram drop returns true for (nil:
// none); drop runs on the router's goroutine.
func (j *vnetJitter) setDrop(drop func(vnet.Chunk) bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.drop = drop
}

func (j *vnetJitter) filter(c vnet.Chunk) bool {
	host, _, err := net.SplitHostPort(c.DestinationAddr().String())
	if err != nil {
		return true
	}
	df := j.into[host]
	if df == nil {
		return true
	}
	j.mu.Lock()
	if j.drop != nil && j.drop(c) {
		j.mu.Unlock()
		return false
	}
	d := j.path.Delay
	if j.path.Jitter > 0 {
		d += time.Duration(j.rng.Int64N(int64(j.path.Jitter)))
	}
	j.routed++
	j.sum += d
	j.max = max(j.max, d)
	j.mu.Unlock()
	df.SetDelay(d)
	return true
}

// String summarises the delays drawn.
func (j *vnetJitter) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.routed == 0 {
		return "no datagrams routed"
	}
	return fmt.Sprintf("%d datagrams routed, delay drawn mean %v max %v",
		j.routed, (j.sum / time.Duration(j.routed)).Round(100*time.Microsecond), j.max.Round(100*time.Microsecond))
}

// vnetMeshes connects peers 1..n over one vnet router whose paths follow
// path, with seeded loss and jitter; signals take path.Delay too. It must
// run in a synctest bubble (so the delays are virtual time and cost no wall
// time); cleanups close the meshes, then stop the network. It returns the
// meshes, the virtual time the connect took, and the jitter filter (for its
// summary).
func vnetMeshes(t *testing.T, n int, path vnetPath, seed uint64) ([]*Mesh, time.Duration, *vnetJitter) {
	t.Helper()
	jit := &vnetJitter{path: path, rng: rand.New(rand.NewPCG(seed, 0x6a17))}
	nets, delays := vnetNetwork(t, n, path.Delay, path.Loss, func(i int) int64 { return int64(seed)*1000 + int64(i) }, jit.filter)
	jit.into = delays // before any datagram flows: none does until the meshes connect
	meshes, elapsed, err := vnetConnectAll(t, nets, path.Delay, Config{})
	if err != nil {
		t.Fatalf("connect over %v: %v", path, err)
	}
	return meshes, elapsed, jit
}

// vnetNetwork starts a vnet router with hosts 10.0.0.1 to 10.0.0.n, each
// behind a DelayFilter of delay and, with loss > 0, a LossFilter seeded by
// lossSeed(i); filters run on the router's goroutine for every chunk. It
// returns each host's Net and its DelayFilter by IP. The cleanup it
// registers stops the network after later cleanups (the meshes) ran:
// vnet's Router.Stop does not wait for its goroutine, which may be handing
// a chunk to a DelayFilter, so inside the synctest bubble synctest.Wait
// lets it finish before the filters close.
func vnetNetwork(t *testing.T, n int, delay time.Duration, loss int, lossSeed func(i int) int64, filters ...vnet.ChunkFilter) ([]*vnet.Net, map[string]*vnet.DelayFilter) {
	t.Helper()
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: pionlog.Factory{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range filters {
		router.AddChunkFilter(f)
	}
	nets := make([]*vnet.Net, n)
	delays := make(map[string]*vnet.DelayFilter, n)
	var closers []interface{ Close() error }
	for i := range nets {
		ip := fmt.Sprintf("10.0.0.%d", i+1)
		nets[i], err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		df, err := vnet.NewDelayFilter(nets[i], vnet.WithDelay(delay))
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, df)
		delays[ip] = df
		var nic vnet.NIC = df
		if loss > 0 {
			lf, err := vnet.NewLossFilter(nic, loss, vnet.WithLossSeed(lossSeed(i)))
			if err != nil {
				t.Fatal(err)
			}
			nic = lf
		}
		if err := router.AddNet(nic); err != nil {
			t.Fatal(err)
		}
	}
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := router.Stop(); err != nil {
			t.Error(err)
		}
		synctest.Wait()
		for _, c := range closers {
			c.Close()
		}
	})
	return nets, delays
}

// vnetConnectAll connects peers 1..len(nets), peer i+1 on nets[i], through
// an in-memory signaler whose signals take delay, and says how long it
// took; cfg is the template of every peer's Config. A cleanup closes the
// meshes.
func vnetConnectAll(t *testing.T, nets []*vnet.Net, delay time.Duration, cfg Config) ([]*Mesh, time.Duration, error) {
	t.Helper()
	hub := NewMemorySignaling()
	hub.Delay = delay
	tn := make([]transport.Net, len(nets))
	for i, n := range nets {
		tn[i] = n
	}
	start := time.Now()
	meshes, err := connectNets(t, tn, hub.Signaler, cfg)
	return meshes, time.Since(start), err
}

// connectNets connects peers 1..len(nets), peer i+1 on nets[i] (UDP4, no
// mDNS) with Signaler sig(i+1); cfg is the template of every peer's
// Config. A cleanup closes the meshes that connected.
func connectNets(t *testing.T, nets []transport.Net, sig func(PeerID) Signaler, cfg Config) ([]*Mesh, error) {
	t.Helper()
	ids := make([]PeerID, len(nets))
	for i := range ids {
		ids[i] = PeerID(i + 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // virtual time
	defer cancel()
	meshes := make([]*Mesh, len(nets))
	errs := make([]error, len(nets))
	var wg sync.WaitGroup
	for i, id := range ids {
		c := cfg
		c.Net = nets[i]
		c.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
		c.MulticastDNSMode = ice.MulticastDNSModeDisabled
		wg.Go(func() { meshes[i], errs[i] = Connect(ctx, id, ids, sig(id), c) })
	}
	wg.Wait()
	t.Cleanup(func() { closeAll(t, meshes) })
	return meshes, errors.Join(errs...)
}
