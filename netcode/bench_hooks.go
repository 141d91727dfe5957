//go:build !js

package netcode

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/lynnet/lyn/netcode/internal/wire"
)

// ListenUDPNotify is ListenUDP whose reader also sends a value on arrived
// (without blocking, so values coalesce as Mesh.Arrived's do) after each
// datagram it handled. It exists for `go run ./bench`: UDP has no arrival
// signal of its own, and a benchmark that busy-polls Receive measures the
// Go scheduler (a spinning goroutine keeps the network poller from waking
// the reader promptly) rather than lyn. It is not part of the supported
// API: it goes away when UDP gets an Arrived channel like Mesh's.
func ListenUDPNotify(cfg UDPConfig, arrived chan<- struct{}) (*UDP, error) {
	if arrived == nil {
		return nil, fmt.Errorf("%w: nil arrived channel", ErrInvalidConfig)
	}
	if cfg.QueueLen < 0 || cfg.Retransmit < 0 || cfg.MaxControlQueue < 0 {
		return nil, fmt.Errorf("%w: negative UDP setting", ErrInvalidConfig)
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = ":0"
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if cfg.Retransmit == 0 {
		cfg.Retransmit = 50 * time.Millisecond
	}
	if cfg.MaxControlQueue == 0 {
		cfg.MaxControlQueue = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	addr, err := net.ResolveUDPAddr("udp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen address %q: %w", ErrInvalidConfig, cfg.ListenAddr, err)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("netcode: listen udp %s: %w", cfg.ListenAddr, err)
	}
	u := &UDP{
		cfg: cfg, conn: conn, log: cfg.Logger,
		input: newPacketQueue(cfg.QueueLen, inputSlotBytes), ctl: newPacketQueue(cfg.QueueLen, controlSlotBytes),
		byAddr: map[netip.AddrPort]PeerID{}, peers: map[PeerID]*udpPeer{},
		stop: make(chan struct{}), sendBuf: make([]byte, wire.MaxPacketSize),
	}
	u.wg.Add(2)
	go u.notifyReadLoop(arrived)
	go u.retransmitLoop()
	return u, nil
}

// notifyReadLoop is readLoop plus the arrival signal.
func (u *UDP) notifyReadLoop(arrived chan<- struct{}) {
	defer u.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := u.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		u.handle(from, buf[:n])
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
}
