// Package delaynet makes a network slower on purpose: a transport.Net (give
// it to netcode.Config.Net) whose UDP sockets hold every datagram for half a
// round trip on its way out and half on its way in, with optional jitter.
// The demo puts its bot peer behind it, so a match on one machine has the
// latency of one over the internet and rollback has something to do.
//
// Datagrams keep their order unless Config.Reorder allows jitter to let one
// overtake another; none is dropped except when more than Config.QueueLen
// wait in one direction of one socket, as a router's queue would drop them.
package delaynet
