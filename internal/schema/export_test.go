package schema

// CompileAsWritten compiles doc without inlining shared refs, so a test can
// compare it with what Compile builds.
func (c *Compiler) CompileAsWritten(url string, doc any) (*Schema, error) {
	doc = normalize(doc)
	if err := c.c.AddResource(url, doc); err != nil {
		return nil, err
	}
	s, err := c.c.Compile(url)
	if err != nil {
		return nil, err
	}
	return &Schema{s: s, doc: doc, allowed: topLevelProperties(doc)}, nil
}
