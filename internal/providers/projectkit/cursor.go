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

// listByQuery serves a list capability whose only filter is a text query:
// {query, limit, cursor} in, {items, next_cursor} out. The capability name
// is part of the cursor's filters, so one list's cursor is refused by
// another.
func listByQuery[T any](c *capability.Call, capabilityName string, find func(query string, page capability.Page) ([]T, error), id func(T) string, render func(T) map[string]any) (map[string]any, error) {
	var in struct {
		Query  string `json:"query"`
		Limit  int    `json:"limit"`
		Cursor string `json:"cursor"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	filters := []string{capabilityName, in.Query}
	after, err := parseCursor(in.Cursor, filters)
	if err != nil {
		return nil, err
	}
	limit := limitOr(in.Limit)
	rows, err := find(in.Query, capability.Page{AfterID: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	rows, next := page(rows, limit, id, filters)
	return map[string]any{"items": mapEach(rows, render), "next_cursor": next}, nil
}
