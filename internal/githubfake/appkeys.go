package githubfake

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
)

// appKeys are two RSA keys made once per test binary: a 2048-bit key
// takes tens of milliseconds to make.
var appKeys struct {
	once       sync.Once
	app, other *rsa.PrivateKey
	err        error
}

// AppKeys returns an RSA key for a test's GitHub App (give its public half
// to InstallApp, its private half to trainbot) and another key, which
// GitHub would refuse for that app. Both are made once per test binary.
func AppKeys(t testing.TB) (app, other *rsa.PrivateKey) {
	t.Helper()
	appKeys.once.Do(func() {
		if appKeys.app, appKeys.err = rsa.GenerateKey(rand.Reader, 2048); appKeys.err == nil {
			appKeys.other, appKeys.err = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if appKeys.err != nil {
		t.Fatalf("make the test app's RSA keys: %v", appKeys.err)
	}
	return appKeys.app, appKeys.other
}
