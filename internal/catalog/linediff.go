package catalog

import (
	"fmt"
	"strings"
)

// diffLine is one line of a unified diff. Op is "hunk" for an @@ header,
// "add", "del" or "same"; Text is the line as printed, its prefix included.
type diffLine struct {
	Op   string
	Text string
}

// diffContext is how many unchanged lines a unified diff shows around a
// change, as diff -u does.
const diffContext = 3

// maxDiffCells bounds the LCS table of unifiedDiff; beyond it the diff
// shows the whole old text removed and the new text added.
const maxDiffCells = 4_000_000

// unifiedDiff compares two texts line by line and returns their unified
// diff with diffContext lines of context, or nil when they are equal.
func unifiedDiff(before, after string) []diffLine {
	if before == after {
		return nil
	}
	a, b := splitLines(before), splitLines(after)
	ops := lineOps(a, b)

	var out []diffLine
	for i := 0; i < len(ops); {
		if ops[i].op == ' ' {
			i++
			continue
		}
		// A hunk: this change, any change within 2×context of it, and
		// context on both sides.
		start := max(i-diffContext, 0)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].op != ' ' {
				end = j
			} else if j-end > 2*diffContext {
				break
			}
		}
		end = min(end+diffContext+1, len(ops))
		out = append(out, hunkHeader(ops[start:end], ops[start]))
		for _, o := range ops[start:end] {
			switch o.op {
			case '+':
				out = append(out, diffLine{Op: "add", Text: "+" + o.text})
			case '-':
				out = append(out, diffLine{Op: "del", Text: "-" + o.text})
			default:
				out = append(out, diffLine{Op: "same", Text: " " + o.text})
			}
		}
		i = end
	}
	return out
}

// lineOp is one line of the edit script: ' ' kept, '-' removed, '+'
// added, with its 1-based line numbers in the old and new text.
type lineOp struct {
	op    byte
	text  string
	aLine int
	bLine int
}

// lineOps is the edit script from a to b along a longest common
// subsequence, removals before additions within a change.
func lineOps(a, b []string) []lineOp {
	n, m := len(a), len(b)
	var ops []lineOp
	if n*m > maxDiffCells {
		for i, l := range a {
			ops = append(ops, lineOp{op: '-', text: l, aLine: i + 1, bLine: 1})
		}
		for j, l := range b {
			ops = append(ops, lineOp{op: '+', text: l, aLine: n + 1, bLine: j + 1})
		}
		return ops
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, lineOp{op: ' ', text: a[i], aLine: i + 1, bLine: j + 1})
			i++
			j++
		case j == m || i < n && lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, lineOp{op: '-', text: a[i], aLine: i + 1, bLine: j + 1})
			i++
		default:
			ops = append(ops, lineOp{op: '+', text: b[j], aLine: i + 1, bLine: j + 1})
			j++
		}
	}
	return ops
}

// hunkHeader is "@@ -start,count +start,count @@" for the ops of a hunk.
func hunkHeader(ops []lineOp, first lineOp) diffLine {
	var aCount, bCount int
	for _, o := range ops {
		if o.op != '+' {
			aCount++
		}
		if o.op != '-' {
			bCount++
		}
	}
	aStart, bStart := first.aLine, first.bLine
	// As diff -u writes it: an empty range starts one line earlier.
	if aCount == 0 {
		aStart--
	}
	if bCount == 0 {
		bStart--
	}
	return diffLine{Op: "hunk", Text: fmt.Sprintf("@@ -%d,%d +%d,%d @@", aStart, aCount, bStart, bCount)}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
