//go:build !unix

package httpserver

// openFileLimit is unknown here: the connection limit is taken as given.
func openFileLimit() int { return 0 }
