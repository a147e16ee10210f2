package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/demo"
)

// demoKey is one demo tenant's API key.
type demoKey struct {
	Tenant string `json:"tenant"`
	Token  string `json:"token"`
}

func demoKeysFile(dataDir string) string { return filepath.Join(dataDir, "demo-keys.json") }

// demoKeys returns a working full-access key per demo tenant. Keys are kept
// (mode 0600) in the data directory, because only their hashes are in the
// database and a demo should print the same keys on every start so client
// configurations keep working. A key that no longer authenticates (revoked,
// say) is replaced.
func demoKeys(ctx context.Context, control capability.ControlStore, dataDir string) ([]demoKey, error) {
	file := demoKeysFile(dataDir)
	stored := map[string]string{}
	if b, err := os.ReadFile(file); err == nil {
		var list []demoKey
		if err := json.Unmarshal(b, &list); err == nil {
			for _, k := range list {
				stored[k.Tenant] = k.Token
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var out []demoKey
	changed := false
	for _, slug := range demo.Tenants {
		token := stored[slug]
		if p, err := control.Authenticate(ctx, token); token == "" || err != nil || p.Tenant != slug {
			token, _, err = control.CreateKey(ctx, slug, capability.AllScopes, time.Time{})
			if err != nil {
				return nil, err
			}
			changed = true
		}
		out = append(out, demoKey{Tenant: slug, Token: token})
	}
	if changed {
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			return nil, err
		}
	}
	return out, nil
}
