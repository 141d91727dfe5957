//go:build !js

package main

func runConnect(trials int) bool { return true }
