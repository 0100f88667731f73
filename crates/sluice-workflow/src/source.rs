//! Source files and positions inside them.
//!
//! Every diagnostic points at a [`Span`]: a byte range plus the 1-based line
//! and column that a user sees in their editor. Columns count characters,
//! not bytes, because that is what editors and GitHub's messages show.

use std::sync::Arc;

/// A workflow (or action) file's text together with the name shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user should see it, e.g. `.github/workflows/ci.yml`.
    pub name: String,
    /// The full text of the file.
    pub text: String,
    /// Byte offset at which each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Arc::new(Self {
            name: name.into(),
            text,
            line_starts,
        })
    }

    /// The span of the character at 1-based `line` and 0-based `char_col`
    /// (the convention of the YAML scanner), `len` bytes long.
    pub fn span_at(&self, line: usize, char_col: usize, len: usize) -> Span {
        let line = line.clamp(1, self.line_starts.len());
        let start = self.line_starts[line - 1];
        let line_text = &self.text[start..self.line_end(line)];
        let byte_col = line_text
            .char_indices()
            .nth(char_col)
            .map_or(line_text.len(), |(i, _)| i);
        let offset = start + byte_col;
        Span {
            offset,
            len: len.min(self.text.len().saturating_sub(offset)),
            line: line as u32,
            col: char_col as u32 + 1,
        }
    }

    /// The span `len` bytes long starting `byte_delta` bytes after `base`,
    /// on the same line or a later one (used for positions inside a scalar).
    pub fn span_from_offset(&self, offset: usize, len: usize) -> Span {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |prefix| prefix.chars().count());
        Span {
            offset,
            len: len.min(self.text.len() - offset),
            line: line as u32,
            col: col as u32 + 1,
        }
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let line = line as usize;
        if line == 0 || line > self.line_starts.len() {
            return "";
        }
        let text = &self.text[self.line_starts[line - 1]..self.line_end(line)];
        text.strip_suffix('\r').unwrap_or(text)
    }

    fn line_end(&self, line: usize) -> usize {
        self.line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1)
    }
}

/// A region of a source file. Lines and columns are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub offset: usize,
    /// Length in bytes (may be zero).
    pub len: usize,
    pub line: u32,
    pub col: u32,
}

impl Span {
    /// A span that carries no position (used for synthesised values).
    pub const NONE: Span = Span {
        offset: 0,
        len: 0,
        line: 0,
        col: 0,
    };

    pub fn is_known(&self) -> bool {
        self.line != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let file = SourceFile::new("f.yml", "é: x\nkey: value\n");
        let span = file.span_at(1, 3, 1);
        assert_eq!(&file.text[span.offset..span.offset + 1], "x");
        assert_eq!((span.line, span.col), (1, 4));
        let span = file.span_from_offset(file.text.find("value").unwrap(), 5);
        assert_eq!((span.line, span.col), (2, 6));
        assert_eq!(file.line_text(2), "key: value");
        assert_eq!(file.line_text(3), "");
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let file = SourceFile::new("f.yml", "a");
        let span = file.span_at(99, 99, 10);
        assert_eq!(span.offset, 1);
        assert_eq!(span.len, 0);
    }
}
