package boltstore_test

import (
	"fmt"
	"os"
)

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

func benchName(trainsN int) string { return fmt.Sprintf("trains=%d", trainsN) }
