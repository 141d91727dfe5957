package relay

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/transport/v5/vnet"
	"github.com/pion/turn/v5"
)

// TestVNet: with Config.Net the server lives on a simulated network. A
// client behind a NAT learns its public address by STUN, allocates a relay
// with REST credentials (the relay socket is on the vnet too, at the
// server's address) and reaches a public host through it, in a synctest
// bubble; Close leaves nothing running.
func TestVNet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "198.51.100.0/24", MinDelay: 10 * time.Millisecond, LoggerFactory: SlogLoggerFactory(nil)})
		if err != nil {
			t.Fatal(err)
		}
		lan, err := vnet.NewRouter(&vnet.RouterConfig{
			StaticIPs: []string{"198.51.100.20"}, CIDR: "10.1.0.0/24", LoggerFactory: SlogLoggerFactory(nil),
			NATType: &vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := wan.AddRouter(lan); err != nil {
			t.Fatal(err)
		}
		newNet := func(r *vnet.Router, ip string) *vnet.Net {
			n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.AddNet(n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		serverNet, peerNet, clientNet := newNet(wan, "198.51.100.2"), newNet(wan, "198.51.100.30"), newNet(lan, "10.1.0.2")
		if err := wan.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			wan.Stop()
			synctest.Wait()
		}()

		srv, err := Start(Config{ListenAddr: "198.51.100.2:3478", Secret: testSecret, Net: serverNet})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := srv.Close(); err != nil {
				t.Error(err)
			}
		}()
		conn, err := clientNet.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		user, pass := Credentials(testSecret, "vnet-user", time.Hour, time.Now())
		c, err := turn.NewClient(&turn.ClientConfig{
			STUNServerAddr: "198.51.100.2:3478", TURNServerAddr: "198.51.100.2:3478",
			Username: user, Password: pass, Conn: conn, Net: clientNet, LoggerFactory: SlogLoggerFactory(nil),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Listen(); err != nil {
			t.Fatal(err)
		}
		mapped, err := c.SendBindingRequest()
		if err != nil {
			t.Fatal(err)
		}
		if ip := mapped.(*net.UDPAddr).IP.String(); ip != "198.51.100.20" {
			t.Errorf("STUN says the client is at %v, want the NAT's address", mapped)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		relayed, err := c.AllocateWithContext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer relayed.Close()
		if ip := relayed.LocalAddr().(*net.UDPAddr).IP.String(); ip != "198.51.100.2" {
			t.Errorf("relayed address %v, want the server's", relayed.LocalAddr())
		}
		peer, err := peerNet.ListenPacket("udp4", "198.51.100.30:4000")
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		if _, err := relayed.WriteTo([]byte("through the relay"), peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, from, err := peer.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) != "through the relay" || from.String() != relayed.LocalAddr().String() {
			t.Fatalf("peer got %q from %v", buf[:n], from)
		}
		if srv.Allocations() != 1 {
			t.Errorf("%d allocations", srv.Allocations())
		}
	})
}
