package testtool

import (
	"runtime"
	"testing"
	"time"
)

// CheckGoroutines fails t when goroutines started since before (a
// runtime.NumGoroutine taken before the test started its work) are still
// running up to 10 s after it stopped everything: libraries such as pion
// end some of theirs asynchronously after Close returns. The failure
// lists every goroutine's stack.
func CheckGoroutines(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left running:\n%s", n-before, buf[:runtime.Stack(buf, true)])
	}
}
