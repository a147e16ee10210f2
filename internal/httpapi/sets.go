package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/sets"
)

func (a *API) setView(set *capability.CapabilitySet, p capability.Principal) sets.View {
	return sets.NewView(a.Registry, set, &p)
}

// setsOrg checks that {org} is the key's tenant; any other org answers
// 404, exactly like an org that does not exist.
func (a *API) setsOrg(w http.ResponseWriter, r *http.Request) (capability.Principal, bool) {
	p, _ := capability.PrincipalFrom(r.Context())
	if r.PathValue("org") != p.Tenant {
		WriteError(w, http.StatusNotFound, "not_found", "no organisation "+r.PathValue("org")+" for this API key")
		return p, false
	}
	return p, true
}

// canWrite requires projects.write to change sets.
func canWrite(w http.ResponseWriter, p capability.Principal) bool {
	if p.Allows(capability.ScopeProjectsWrite) {
		return true
	}
	WriteError(w, http.StatusForbidden, "forbidden", "changing capability sets requires scope projects.write; this key has "+capability.JoinScopes(p.Scopes))
	return false
}

// setsCollection serves GET (list) and POST (create) on
// /api/v1/org/{org}/capability-sets.
func (a *API) setsCollection(w http.ResponseWriter, r *http.Request) {
	p, ok := a.setsOrg(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPost {
		a.createSet(w, r, p)
		return
	}
	q := r.URL.Query()
	limit, offset := 50, 0
	var bad []FieldError
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			bad = append(bad, FieldError{Loc: []string{"query", "limit"}, Msg: "must be an integer from 1 to 500", Type: "range"})
		}
		limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			bad = append(bad, FieldError{Loc: []string{"query", "offset"}, Msg: "must be an integer of 0 or more", Type: "range"})
		}
		offset = n
	}
	if len(bad) > 0 {
		writeEnvelope(w, Envelope{Code: http.StatusUnprocessableEntity, Type: "validation_error", Detail: "invalid query parameters", Errors: bad})
		return
	}
	list, err := a.Sets.List(r.Context(), p.Tenant, q.Get("tag"), limit+1, offset)
	if err != nil {
		a.internalError(w, "list sets", err)
		return
	}
	var next *int
	if len(list) > limit {
		list = list[:limit]
		n := offset + limit
		next = &n
	}
	items := make([]sets.View, 0, len(list))
	for _, s := range list {
		items = append(items, a.setView(s, p))
	}
	writeJSON(w, map[string]any{"items": items, "limit": limit, "offset": offset, "next_offset": next})
}

// setBody is what POST and PATCH accept; members may be strings or objects.
type setBody struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	IsPublic    *bool             `json:"is_public"`
	Members     []json.RawMessage `json:"members"`
	Source      *string           `json:"source"`
	Tags        []string          `json:"tags"`
}

// decodeSetBody reads the JSON body strictly: unknown fields and malformed
// members are 422 naming them.
func decodeSetBody(w http.ResponseWriter, r *http.Request) (*setBody, []FieldError, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the set as JSON with Content-Type: application/json")
		return nil, nil, false
	}
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(r.Body); err != nil || !json.Valid(raw.Bytes()) {
		WriteError(w, http.StatusBadRequest, "bad_request", "the request body is not valid JSON")
		return nil, nil, false
	}
	var b setBody
	dec := json.NewDecoder(&raw)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		fe := FieldError{Loc: []string{"body"}, Msg: err.Error(), Type: "type"}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			fe = FieldError{Loc: []string{"body", strings.Trim(f, `"`)}, Msg: "is not a field of a capability set (name, description, is_public, members, source, tags)", Type: "additionalProperties"}
		}
		writeEnvelope(w, Envelope{Code: http.StatusUnprocessableEntity, Type: "validation_error", Detail: "the capability set is not valid; see errors", Errors: []FieldError{fe}})
		return nil, nil, false
	}
	var bad []FieldError
	if b.Description != nil && len(*b.Description) > 2000 {
		bad = append(bad, FieldError{Loc: []string{"body", "description"}, Msg: "must be at most 2000 characters", Type: "maxLength"})
	}
	if len(b.Tags) > 20 {
		bad = append(bad, FieldError{Loc: []string{"body", "tags"}, Msg: "must have at most 20 tags", Type: "maxItems"})
	}
	if len(b.Members) > 200 {
		bad = append(bad, FieldError{Loc: []string{"body", "members"}, Msg: "must have at most 200 members", Type: "maxItems"})
	}
	return &b, bad, true
}

func (a *API) createSet(w http.ResponseWriter, r *http.Request, p capability.Principal) {
	if !canWrite(w, p) {
		return
	}
	b, bad, ok := decodeSetBody(w, r)
	if !ok {
		return
	}
	set := &capability.CapabilitySet{Owner: p.Tenant, CreatedBy: p.KeyPrefix, Tags: b.Tags}
	if b.Name == nil || !sets.NameRE.MatchString(*b.Name) {
		bad = append(bad, FieldError{Loc: []string{"body", "name"}, Msg: "is required: a slug of lowercase letters, digits and dashes, 1 to 63 characters", Type: "pattern"})
	} else {
		set.Name = *b.Name
	}
	members, issues := sets.ParseMembers(b.Members, "/members")
	bad = append(bad, fieldErrors(issues)...)
	if len(bad) > 0 {
		writeEnvelope(w, Envelope{Code: http.StatusUnprocessableEntity, Type: "validation_error", Detail: "the capability set is not valid; see errors", Errors: bad})
		return
	}
	set.Members = members
	if b.Description != nil {
		set.Description = *b.Description
	}
	if b.IsPublic != nil {
		set.IsPublic = *b.IsPublic
	}
	if b.Source != nil {
		set.Source = *b.Source
	}
	if err := a.Sets.Create(r.Context(), set); err != nil {
		a.setError(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/org/"+p.Tenant+"/capability-sets/"+set.Name)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(a.setView(set, p))
}

// setsItem serves GET, PATCH and DELETE on .../capability-sets/{name}.
func (a *API) setsItem(w http.ResponseWriter, r *http.Request) {
	p, ok := a.setsOrg(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		set, err := a.Sets.Find(r.Context(), p.Tenant, name)
		if err != nil {
			a.setError(w, err)
			return
		}
		writeJSON(w, a.setView(set, p))
	case http.MethodDelete:
		if !canWrite(w, p) {
			return
		}
		if err := a.Sets.Delete(r.Context(), p.Tenant, name); err != nil {
			a.setError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		if !canWrite(w, p) {
			return
		}
		a.patchSet(w, r, p, name)
	}
}

func (a *API) patchSet(w http.ResponseWriter, r *http.Request, p capability.Principal, name string) {
	set, err := a.Store().FindSet(r.Context(), p.Tenant, name)
	if err != nil && !errors.Is(err, capability.ErrNotFound) {
		a.internalError(w, "find set", err)
		return
	}
	if set == nil {
		// Not ours: built-in, another tenant's, or missing; Update says which.
		a.setError(w, a.Sets.Update(r.Context(), p.Tenant, &capability.CapabilitySet{Name: name}))
		return
	}
	b, bad, ok := decodeSetBody(w, r)
	if !ok {
		return
	}
	if b.Name != nil && *b.Name != name {
		bad = append(bad, FieldError{Loc: []string{"body", "name"}, Msg: "a set cannot be renamed; create a new set instead", Type: "const"})
	}
	if b.Members != nil {
		members, issues := sets.ParseMembers(b.Members, "/members")
		bad = append(bad, fieldErrors(issues)...)
		set.Members = members
	}
	if len(bad) > 0 {
		writeEnvelope(w, Envelope{Code: http.StatusUnprocessableEntity, Type: "validation_error", Detail: "the change is not valid; nothing was changed", Errors: bad})
		return
	}
	if b.Description != nil {
		set.Description = *b.Description
	}
	if b.IsPublic != nil {
		set.IsPublic = *b.IsPublic
	}
	if b.Source != nil {
		set.Source = *b.Source
	}
	if b.Tags != nil {
		set.Tags = b.Tags
	}
	if err := a.Sets.Update(r.Context(), p.Tenant, set); err != nil {
		a.setError(w, err)
		return
	}
	writeJSON(w, a.setView(set, p))
}

// Store is the set store behind the service.
func (a *API) Store() capability.SetStore { return a.Sets.Store }

func (a *API) setError(w http.ResponseWriter, err error) {
	if err == nil {
		return
	}
	var ae *capability.Error
	if errors.As(err, &ae) {
		writeAppError(w, ae, nil)
		return
	}
	a.internalError(w, "capability set", err)
}
