//! Indentation the YAML library refuses but GitHub accepts.
//!
//! Two constructs from popular workflows are valid for GitHub's reader
//! (and libyaml's) but refused by the strict one Sluice uses: a flow
//! collection whose entries or closing bracket sit at (or left of) its
//! key's indentation, and a quoted scalar continued on a line that starts
//! further left than its key. In both, the leading white space of the
//! continuation lines means nothing: flow collections ignore white space
//! between their entries, and quoted scalars fold line breaks and drop the
//! leading white space of the next line. So, when a file fails for its
//! indentation, those continuation lines are indented (to the column where
//! the collection or scalar opened) and the file is read again; the spaces
//! added are remembered per line, so every position reported still points
//! at the file as written.

use std::collections::HashMap;

/// A text with continuation lines indented, and what was added.
pub(crate) struct Relaxed {
    pub text: String,
    /// Spaces added at the start of each line (0-based line number).
    pub added: HashMap<usize, usize>,
}

impl Relaxed {
    /// The column in the file as written for a 0-based character column
    /// of the relaxed text on 0-based line `line`.
    pub fn original_col(&self, line: usize, col: usize) -> usize {
        col.saturating_sub(self.added.get(&line).copied().unwrap_or(0))
    }
}

/// Where the scanner is between characters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Block,
    /// Inside a quoted scalar (`"` or `'`) that opened at `column`.
    Quoted {
        quote: char,
        column: usize,
    },
}

/// Indents the continuation lines of multi-line flow collections and
/// quoted scalars; `None` when there is nothing to change.
pub(crate) fn relax(text: &str) -> Option<Relaxed> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut added = HashMap::new();
    let mut mode = Mode::Block;
    // Open flow collections: the column each opened at.
    let mut flows: Vec<usize> = Vec::new();
    // Inside a block scalar: lines indented more than this are its content.
    let mut block_scalar: Option<usize> = None;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let indent = line.chars().take_while(|c| *c == ' ').count();
        let blank = line.trim().is_empty();
        if block_scalar.is_some_and(|parent| blank || indent > parent) {
            out.push_str(line);
            continue;
        }
        // A continuation line must reach the column its construct opened at.
        let required = match mode {
            Mode::Quoted { column, .. } => Some(column),
            Mode::Block => flows.first().copied(),
        };
        if let Some(required) = required.filter(|r| indent < *r && !blank) {
            let extra = required - indent;
            out.extend(std::iter::repeat_n(' ', extra));
            added.insert(number, extra);
        }
        out.push_str(line);
        block_scalar = scan_line(line, indent, &mut mode, &mut flows);
    }
    (!added.is_empty()).then_some(Relaxed { text: out, added })
}

/// Follows one line through quotes, flow brackets and comments. Returns
/// the indentation its block scalar's content must exceed, when the line
/// opens one.
fn scan_line(line: &str, indent: usize, mode: &mut Mode, flows: &mut Vec<usize>) -> Option<usize> {
    let chars: Vec<char> = line.trim_end_matches(['\n', '\r']).chars().collect();
    let mut i = if matches!(mode, Mode::Quoted { .. }) || !flows.is_empty() {
        0
    } else {
        indent
    };
    // Where a node may start (block context): the line's first token,
    // after `- `, and after `: `.
    let mut node_start = flows.is_empty() && matches!(mode, Mode::Block);
    // The column of the key or `-` a block scalar belongs to.
    let mut owner = indent;
    while i < chars.len() {
        let c = chars[i];
        if let Mode::Quoted { quote, .. } = *mode {
            match c {
                '\\' if quote == '"' => i += 1,
                '\'' if quote == '\'' && chars.get(i + 1) == Some(&'\'') => i += 1,
                _ if c == quote => *mode = Mode::Block,
                _ => {}
            }
            i += 1;
            continue;
        }
        let after_space = i == 0 || chars[i - 1].is_whitespace();
        if c == '#' && after_space {
            break;
        }
        if !flows.is_empty() {
            match c {
                '[' | '{' => flows.push(i),
                ']' | '}' => {
                    flows.pop();
                }
                '"' | '\'' => {
                    *mode = Mode::Quoted {
                        quote: c,
                        column: flows[0],
                    }
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        if node_start {
            match c {
                ' ' => {
                    i += 1;
                    continue;
                }
                '-' if chars.get(i + 1).is_none_or(|n| *n == ' ') => {
                    owner = i;
                    i += 1;
                    continue;
                }
                '"' | '\'' => {
                    *mode = Mode::Quoted {
                        quote: c,
                        column: i,
                    };
                    node_start = false;
                    i += 1;
                    continue;
                }
                '[' | '{' => {
                    flows.push(i);
                    node_start = false;
                    i += 1;
                    continue;
                }
                '|' | '>' => return Some(owner),
                _ => {
                    owner = i;
                    node_start = false;
                }
            }
        }
        // A plain key or value: a value starts after `: `.
        if c == ':' && chars.get(i + 1).is_none_or(|n| *n == ' ') {
            node_start = true;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_entries_and_closing_brackets_left_of_their_key_are_indented() {
        let text = "a:\n  os: [\n  x,\n  y\n]\nb: 1\n";
        let relaxed = relax(text).expect("changed");
        assert_eq!(
            relaxed.text,
            "a:\n  os: [\n      x,\n      y\n      ]\nb: 1\n"
        );
        assert_eq!(relaxed.added.get(&2), Some(&4));
        assert_eq!(relaxed.original_col(2, 6), 2);
    }

    #[test]
    fn quoted_scalars_continued_at_column_one_are_indented() {
        let text = "steps:\n  - run: \"echo a\nb\"\n  - run: 'it''s\nfine'\n";
        let relaxed = relax(text).expect("changed");
        assert_eq!(
            relaxed.text,
            "steps:\n  - run: \"echo a\n         b\"\n  - run: 'it''s\n         fine'\n"
        );
    }

    #[test]
    fn block_scalars_comments_and_plain_text_are_left_alone() {
        for text in [
            "run: |\n  echo \"[\n  x\nnext: 1\n",
            "a: b # \"not [ a quote\nc: d\n",
            "run: echo \"hello\nnext: [a, b]\n",
            "k: [a, b]\n",
        ] {
            assert!(relax(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn hostile_text_never_panics() {
        for text in [
            "\"",
            "[",
            "- '",
            ":\n\"\n\n",
            "k: [\"a\\",
            "- - [ { \"'\n'",
            "\u{e9}: [\n\u{e9}]",
        ] {
            let _ = relax(text);
        }
    }
}
