package projectkit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/capd-dev/capd/internal/capability"
)

// maxArtifactBytes bounds an artifact's content after decoding. Its
// manifests raise the request body limit so that this much fits as base64.
const maxArtifactBytes = 5 << 20

// Artifact content encodings on the wire.
const (
	encodingText   = "text"
	encodingBase64 = "base64"
)

func attachTaskRunArtifact(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		RunID       string `json:"run_id"`
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Content     string `json:"content"`
		Encoding    string `json:"encoding"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, capability.InvalidInput("name must not be blank",
			capability.Issue{Path: "/name", Message: "must contain a non-space character, e.g. report.md", Keyword: "minLength"})
	}
	if _, _, err := mime.ParseMediaType(in.ContentType); err != nil {
		return nil, capability.InvalidInput(fmt.Sprintf("content_type %q is not a media type: %v", in.ContentType, err),
			capability.Issue{Path: "/content_type", Message: "must be a media type such as text/plain, text/markdown; charset=utf-8, application/json or image/png; use application/octet-stream when unsure"})
	}
	content, err := decodeContent(in.Content, in.Encoding)
	if err != nil {
		return nil, err
	}
	r, err := findRun(ctx, c.Tx, in.RunID)
	if err != nil {
		return nil, err
	}
	if capability.RunFinished(r.Status) {
		return nil, runFinished(r, "take artifacts")
	}
	sum := sha256.Sum256(content)
	a := &capability.RunArtifact{
		RunID: r.ID, Name: in.Name, ContentType: in.ContentType,
		Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Content: content,
		CreatedAt: c.Now,
	}
	if err := c.Tx.CreateRunArtifact(ctx, a); err != nil {
		return nil, err
	}
	return map[string]any{"artifact": artifactJSON(a)}, nil
}

// decodeContent turns the content as sent into the bytes to store and
// refuses content over maxArtifactBytes.
func decodeContent(content, encoding string) ([]byte, error) {
	var b []byte
	if encoding == encodingBase64 {
		// Standard alphabet, padded or not; the decoder skips line
		// breaks, as base64 tools write them.
		var err error
		if b, err = base64.StdEncoding.DecodeString(content); err != nil {
			var rawErr error
			if b, rawErr = base64.RawStdEncoding.DecodeString(content); rawErr != nil {
				return nil, capability.InvalidInput("content is not valid base64: "+err.Error(),
					capability.Issue{Path: "/content", Message: "is not base64 (standard alphabet A-Z a-z 0-9 + /, optional = padding); send the bytes base64-encoded, or plain text with encoding text"})
			}
		}
	} else {
		b = []byte(content)
	}
	if len(b) > maxArtifactBytes {
		return nil, capability.InvalidInput(fmt.Sprintf("content is %d bytes; an artifact holds at most %d bytes (5 MiB)", len(b), maxArtifactBytes),
			capability.Issue{Path: "/content", Message: fmt.Sprintf("is %d bytes after decoding; at most %d bytes (5 MiB) are allowed: compress it or split it into several artifacts", len(b), maxArtifactBytes)})
	}
	return b, nil
}

func getTaskRunArtifact(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		ArtifactID string `json:"artifact_id"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	a, err := c.Tx.FindRunArtifactByID(ctx, in.ArtifactID)
	if errors.Is(err, capability.ErrNotFound) {
		return nil, &capability.Error{
			Code:    capability.CodeUnknownArtifact,
			Message: fmt.Sprintf("artifact %q does not exist in this tenant; call projects.get_task_run with the run's run_id to list its artifacts", in.ArtifactID),
			Issues:  []capability.Issue{{Path: "/artifact_id", Message: "no such artifact"}},
		}
	}
	if err != nil {
		return nil, err
	}
	out := artifactJSON(a)
	if isTextual(a.ContentType) && utf8.Valid(a.Content) {
		out["encoding"], out["content"] = encodingText, string(a.Content)
	} else {
		out["encoding"], out["content"] = encodingBase64, base64.StdEncoding.EncodeToString(a.Content)
	}
	return map[string]any{"artifact": out}, nil
}

// isTextual reports whether a media type names text, so that its content
// can travel as a JSON string rather than as base64.
func isTextual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/xml",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}
