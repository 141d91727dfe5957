//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// inputCodec is the reference game's input codec.
var inputCodec = rollback.UintCodec[rt.Input]{}

// connectMeshes connects n lyn meshes (peers 1..n) through an in-memory
// signaler, cfgs[i] configuring peer i+1.
func connectMeshes(ctx context.Context, cfgs []netcode.Config) ([]*netcode.Mesh, error) {
	hub := netcode.NewMemorySignaling()
	ids := nodeIDs(len(cfgs))
	meshes := make([]*netcode.Mesh, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { meshes[i], errs[i] = netcode.Connect(ctx, id, ids, hub.Signaler(id), cfgs[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, m := range meshes {
			if m != nil {
				m.Close()
			}
		}
		return nil, err
	}
	return meshes, nil
}

// listenUDPMesh opens n lyn UDP transports on loopback, peers 1..n, each
// knowing every other.
func listenUDPMesh(n int) ([]*netcode.UDP, error) {
	us := make([]*netcode.UDP, 0, n)
	closeAll := func() {
		for _, u := range us {
			u.Close()
		}
	}
	for range n {
		u, err := netcode.ListenUDP(netcode.UDPConfig{ListenAddr: "127.0.0.1:0"})
		if err != nil {
			closeAll()
			return nil, err
		}
		us = append(us, u)
	}
	for i, u := range us {
		for j, v := range us {
			if i != j {
				if err := u.AddPeer(netcode.PeerID(j+1), v.LocalAddr()); err != nil {
					closeAll()
					return nil, fmt.Errorf("lyn UDP: %w", err)
				}
			}
		}
	}
	return us, nil
}

// arrivingPackets is a packet layer that says when packets arrived:
// *netcode.Mesh and *netcode.UDP.
type arrivingPackets interface {
	netcode.Packets
	Arrived() <-chan struct{}
	Close() error
}
