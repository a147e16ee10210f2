package projectkit

import (
	"encoding/base64"
	"encoding/json"
	"hash/fnv"

	"github.com/capd-dev/capd/internal/capability"
)

// defaultLimit is the page size when a list call gives none.
const defaultLimit = 25

// cursor is the opaque position a list call hands back: the last id of the
// page, and a hash of the filters, so a cursor replayed with other filters
// is refused instead of silently skipping rows.
type cursor struct {
	After   string `json:"a"`
	Filters uint64 `json:"f"`
}

func filterHash(filters any) uint64 {
	b, _ := json.Marshal(filters)
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// parseCursor returns the id to start after; "" for the first page.
func parseCursor(s string, filters any) (string, error) {
	if s == "" {
		return "", nil
	}
	bad := func(why string) error {
		return capability.InvalidInput("cursor is not usable: "+why,
			capability.Issue{Path: "/cursor", Message: why + "; pass next_cursor from the previous page unchanged, with the same filters, or omit cursor to start from the first page"})
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", bad("not a cursor issued by this capability")
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.After == "" {
		return "", bad("not a cursor issued by this capability")
	}
	if c.Filters != filterHash(filters) {
		return "", bad("it was issued for different filters")
	}
	return c.After, nil
}

// page trims the extra row a store returns and renders the next cursor,
// or nil on the last page.
func page[T any](rows []T, limit int, id func(T) string, filters any) ([]T, any) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	b, _ := json.Marshal(cursor{After: id(rows[len(rows)-1]), Filters: filterHash(filters)})
	return rows, base64.RawURLEncoding.EncodeToString(b)
}

func limitOr(n int) int {
	if n <= 0 {
		return defaultLimit
	}
	return n
}
