//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lynnet/lyn/netcode"
	"github.com/lynnet/lyn/rollback"
	rt "github.com/lynnet/lyn/rollback/rollbacktest"
)

// inputCodec is the reference game's input codec.
var inputCodec = rollback.UintCodec[rt.Input]{}

// inputMessage fills m as a 2-player peer's typical input message in a
// running game on a fast link: two unacknowledged frames of input (the
// redundancy lyn sends until acked), the ack of the other's inputs, both
// players' status. Frame is the sequence number the echo is matched by.
func inputMessage(m *rollback.Message[rt.Input], frame rollback.Frame, player rollback.Player) {
	in := latencyInput
	m.Reset()
	m.Kind = rollback.KindInput
	m.Frame = frame
	m.PerFrame = 1
	m.Inputs = append(m.Inputs[:0], in(player, frame), in(player, frame+1))
	m.Ack = frame - 1
	m.Status = append(m.Status[:0],
		rollback.PlayerStatus{LastFrame: frame + 1}, rollback.PlayerStatus{LastFrame: frame - 1})
}

// latencyInput gives the latency messages realistic inputs.
var latencyInput = rt.ReferenceInput(7)

// errLost is a round trip whose reply did not come within a second.
var errLost = errors.New("no reply within 1 s (lost)")

// connectMeshes connects peers 1 and 2 through an in-memory signaler.
func connectMeshes(ctx context.Context, cfgs [2]netcode.Config) ([2]*netcode.Mesh, error) {
	hub := netcode.NewMemorySignaling()
	ids := []netcode.PeerID{1, 2}
	var meshes [2]*netcode.Mesh
	var errs [2]error
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { meshes[i], errs[i] = netcode.Connect(ctx, id, ids, hub.Signaler(id), cfgs[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		for _, m := range meshes {
			if m != nil {
				m.Close()
			}
		}
		return meshes, err
	}
	return meshes, nil
}

// listenUDPPair opens two lyn UDP transports on loopback, peers 1 and 2.
func listenUDPPair() ([2]*netcode.UDP, error) {
	var us [2]*netcode.UDP
	for i := range us {
		u, err := netcode.ListenUDP(netcode.UDPConfig{ListenAddr: "127.0.0.1:0"})
		if err != nil {
			if us[0] != nil {
				us[0].Close()
			}
			return us, err
		}
		us[i] = u
	}
	if err := errors.Join(us[0].AddPeer(2, us[1].LocalAddr()), us[1].AddPeer(1, us[0].LocalAddr())); err != nil {
		us[0].Close()
		us[1].Close()
		return us, fmt.Errorf("lyn UDP: %w", err)
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

// lynEcho is lyn's input path over WebRTC or plain UDP: peer A's Transport
// encodes an input message and sends it; peer B's game goroutine, woken by
// Arrived, decodes it with its Transport and replies with an input message
// of its own; A, woken the same way, decodes the reply. This is the path a
// rollback session's inputs take, minus the engine. (Busy-polling Receive
// instead would measure the Go scheduler: a spinning goroutine keeps the
// network poller from waking the socket reader promptly.)
type lynEcho struct {
	peers [2]arrivingPackets
	trA   *netcode.Transport[rt.Input]
	out   rollback.Message[rt.Input]
	seq   rollback.Frame
	timer *time.Timer // reused: a timer per round trip would be counted as lyn's allocation
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newMeshEcho(ctx context.Context) (*lynEcho, error) {
	meshes, err := connectMeshes(ctx, [2]netcode.Config{{LoopbackOnly: true}, {LoopbackOnly: true}})
	if err != nil {
		return nil, err
	}
	return newLynEcho([2]arrivingPackets{meshes[0], meshes[1]})
}

func newUDPLynEcho() (*lynEcho, error) {
	us, err := listenUDPPair()
	if err != nil {
		return nil, err
	}
	return newLynEcho([2]arrivingPackets{us[0], us[1]})
}

// newLynEcho starts peer B's game goroutine over peers (A, B).
func newLynEcho(peers [2]arrivingPackets) (*lynEcho, error) {
	e := &lynEcho{peers: peers, stop: make(chan struct{}), timer: newStoppedTimer()}
	var err error
	if e.trA, err = netcode.NewTransport(peers[0], inputCodec, nil); err != nil {
		e.close()
		return nil, err
	}
	trB, err := netcode.NewTransport(peers[1], inputCodec, nil)
	if err != nil {
		e.close()
		return nil, err
	}
	e.wg.Go(func() { // peer B's game goroutine
		var reply rollback.Message[rt.Input]
		for {
			select {
			case <-e.stop:
				return
			case <-peers[1].Arrived():
			}
			for {
				from, m, ok := trB.Receive()
				if !ok {
					break
				}
				inputMessage(&reply, m.Frame, 1)
				trB.Send(from, &reply)
			}
		}
	})
	return e, nil
}

func (e *lynEcho) roundTrip([]byte) error {
	e.seq++
	inputMessage(&e.out, e.seq, 0)
	e.trA.Send(2, &e.out)
	e.timer.Reset(time.Second)
	defer e.timer.Stop()
	for {
		for {
			_, m, ok := e.trA.Receive()
			if !ok {
				break
			}
			if m.Frame == e.seq {
				return nil
			}
		}
		select {
		case <-e.peers[0].Arrived():
		case <-e.timer.C:
			return errLost
		}
	}
}

func (e *lynEcho) packetBytes() float64 {
	s := e.trA.Stats()
	return float64(s.BytesSent) / float64(max(1, s.PacketsSent))
}

func (e *lynEcho) close() {
	close(e.stop)
	e.wg.Wait()
	for _, p := range e.peers {
		if p != nil {
			p.Close()
		}
	}
}

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}
