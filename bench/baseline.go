//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// echoer is one side of a round-trip measurement: send a payload, get it
// back. Each path under test (raw UDP, bare pion, lyn) provides one.
type echoer interface {
	roundTrip(payload []byte) error
	close()
}

// udpEcho is the floor: two UDP sockets on loopback, one echoing.
type udpEcho struct {
	client, server *net.UDPConn
	done           chan struct{}
	buf            []byte
}

// udpPair opens a server socket on loopback and a client connected to it.
func udpPair() (client, server *net.UDPConn, err error) {
	server, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, err
	}
	client, err = net.DialUDP("udp4", nil, server.LocalAddr().(*net.UDPAddr))
	if err != nil {
		server.Close()
		return nil, nil, err
	}
	return client, server, nil
}

func newUDPEcho() (*udpEcho, error) {
	client, server, err := udpPair()
	if err != nil {
		return nil, err
	}
	e := &udpEcho{client: client, server: server, done: make(chan struct{}), buf: make([]byte, 2048)}
	go func() {
		defer close(e.done)
		b := make([]byte, 2048)
		for {
			n, from, err := server.ReadFromUDPAddrPort(b)
			if err != nil {
				return
			}
			server.WriteToUDPAddrPort(b[:n], from)
		}
	}()
	return e, nil
}

func (e *udpEcho) roundTrip(p []byte) error {
	if _, err := e.client.Write(p); err != nil {
		return err
	}
	e.client.SetReadDeadline(time.Now().Add(time.Second))
	_, err := e.client.Read(e.buf)
	return err
}

func (e *udpEcho) close() {
	e.client.Close()
	e.server.Close()
	<-e.done
}

// loopbackSettings keeps pion on the loopback interface with the tuning the
// anchors measured (no candidate waits, short DTLS retransmission), so the
// bare-pion baseline is as fast as pion gets, not a strawman.
func loopbackSettings() webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetHostAcceptanceMinWait(0)
	se.SetSrflxAcceptanceMinWait(0)
	se.SetPrflxAcceptanceMinWait(0)
	se.SetRelayAcceptanceMinWait(0)
	se.SetDTLSRetransmissionInterval(50 * time.Millisecond)
	return se
}

// pionEcho is a bare pion pair: one unreliable, unordered data channel,
// OnMessage callbacks, the far side echoing. No lyn code is involved.
type pionEcho struct {
	a, b    *webrtc.PeerConnection
	chA     *webrtc.DataChannel
	replies chan []byte
	timer   *time.Timer // reused, as the lyn paths' are: allocs compare fairly
}

func newPionEcho(ctx context.Context) (*pionEcho, error) {
	api := webrtc.NewAPI(webrtc.WithSettingEngine(loopbackSettings()))
	a, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	b, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		a.Close()
		return nil, err
	}
	e := &pionEcho{a: a, b: b, replies: make(chan []byte, 16), timer: newStoppedTimer()}
	id, zero, no := uint16(0), uint16(0), false
	init := &webrtc.DataChannelInit{Negotiated: &[]bool{true}[0], ID: &id, Ordered: &no, MaxRetransmits: &zero}
	if e.chA, err = a.CreateDataChannel("input", init); err != nil {
		e.close()
		return nil, err
	}
	chB, err := b.CreateDataChannel("input", init)
	if err != nil {
		e.close()
		return nil, err
	}
	opened := make(chan struct{}, 2)
	e.chA.OnOpen(func() { opened <- struct{}{} })
	chB.OnOpen(func() { opened <- struct{}{} })
	chB.OnMessage(func(m webrtc.DataChannelMessage) { chB.Send(m.Data) })
	e.chA.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case e.replies <- m.Data:
		default:
		}
	})
	if err := connectPair(ctx, a, b); err != nil {
		e.close()
		return nil, err
	}
	for range 2 {
		select {
		case <-opened:
		case <-ctx.Done():
			e.close()
			return nil, fmt.Errorf("bare pion: channels did not open: %w", ctx.Err())
		}
	}
	return e, nil
}

// connectPair does offer/answer in-process, trickling candidates directly.
func connectPair(ctx context.Context, a, b *webrtc.PeerConnection) error {
	a.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			b.AddICECandidate(c.ToJSON())
		}
	})
	b.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			a.AddICECandidate(c.ToJSON())
		}
	})
	offer, err := a.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := a.SetLocalDescription(offer); err != nil {
		return err
	}
	if err := b.SetRemoteDescription(offer); err != nil {
		return err
	}
	answer, err := b.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := b.SetLocalDescription(answer); err != nil {
		return err
	}
	return a.SetRemoteDescription(answer)
}

func (e *pionEcho) roundTrip(p []byte) error {
	if err := e.chA.Send(p); err != nil {
		return err
	}
	e.timer.Reset(time.Second)
	defer e.timer.Stop()
	select {
	case <-e.replies:
		return nil
	case <-e.timer.C:
		return errors.New("bare pion: no echo within 1 s (lost)")
	}
}

func (e *pionEcho) close() {
	if e.a != nil {
		e.a.Close()
	}
	if e.b != nil {
		e.b.Close()
	}
}

// udpHandoffEcho is raw UDP in lyn's shape, without lyn's code: on each
// side a reader goroutine reads the socket and hands the datagram over a
// channel to another goroutine (the "game"), which replies or returns. It
// shows what the two extra goroutine hand-offs per round trip cost on this
// machine, so lyn over UDP's overhead can be split into architecture and
// code.
type udpHandoffEcho struct {
	client, server *net.UDPConn
	got            chan struct{}
	timer          *time.Timer
	wg             sync.WaitGroup
}

func newUDPHandoffEcho() (*udpHandoffEcho, error) {
	client, server, err := udpPair()
	if err != nil {
		return nil, err
	}
	e := &udpHandoffEcho{client: client, server: server, got: make(chan struct{}, 1), timer: newStoppedTimer()}
	type dgram struct {
		n    int
		from netip.AddrPort
	}
	toEcho := make(chan dgram, 1)
	e.wg.Go(func() { // server's reader
		defer close(toEcho)
		b := make([]byte, 2048)
		for {
			n, from, err := server.ReadFromUDPAddrPort(b)
			if err != nil {
				return
			}
			toEcho <- dgram{n, from}
		}
	})
	e.wg.Go(func() { // server's game goroutine
		b := make([]byte, 32)
		for d := range toEcho {
			server.WriteToUDPAddrPort(b[:min(d.n, len(b))], d.from)
		}
	})
	e.wg.Go(func() { // client's reader
		b := make([]byte, 2048)
		for {
			if _, err := client.Read(b); err != nil {
				return
			}
			select {
			case e.got <- struct{}{}:
			default:
			}
		}
	})
	return e, nil
}

func (e *udpHandoffEcho) roundTrip(p []byte) error {
	if _, err := e.client.Write(p); err != nil {
		return err
	}
	e.timer.Reset(time.Second)
	defer e.timer.Stop()
	select {
	case <-e.got:
		return nil
	case <-e.timer.C:
		return errLost
	}
}

func (e *udpHandoffEcho) close() {
	e.client.Close()
	e.server.Close()
	e.wg.Wait()
}
