package catalog

import (
	"embed"
	"io/fs"
)

//go:embed assets/templates/*.html assets/static/*
var embedded embed.FS

// Assets holds the catalog's templates (templates/*.html) and static files
// (static/*), rooted at the assets folder. Pass it to New; a development
// build can pass os.DirFS("internal/catalog/assets") instead, to edit
// templates without rebuilding.
var Assets fs.FS = mustSub(embedded, "assets")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // only on an invalid dir name, fixed at compile time
	}
	return sub
}
