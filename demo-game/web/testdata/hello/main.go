// Command hello is the small js/wasm program the web package's tests build
// instead of the whole demo (seconds instead of a minute).
package main

func main() { println("hello from wasm") }
