// Command broken does not compile: the web package's tests check that its
// build error reaches the page.
package main

func main() { undefinedOnPurpose() }
