//! Text from steps, made safe to print on a terminal.
//!
//! A step's output is written by programs Sluice does not control, and a
//! terminal obeys control sequences: an OSC sequence can retitle the
//! window or write to the clipboard, a clear-screen wipes what was shown,
//! and a carriage return or backspaces can hide text behind other text.
//! Before anything a step wrote is printed, every control character is
//! rendered visibly and inert (`␛`, `␍`, `\u{9b}`...), with two
//! exceptions: tabs and line feeds, and colour (SGR, `ESC [ ... m`), which
//! is kept when colours are on and dropped when they are off, as CI logs
//! show colours.
//!
//! Widths are display widths (a CJK character takes two columns, a
//! combining accent none), not character counts.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

const ESC: char = '\u{1b}';

/// `text` with its control characters made visible and inert; colour
/// sequences kept when `keep_colors`, else removed.
pub fn inert(text: &str, keep_colors: bool) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == ESC
            && let Some(length) = color_sequence_len(&text[at..])
        {
            if keep_colors {
                out.push_str(&text[at..at + length]);
            }
            // Skip the rest of the sequence (all ASCII, one byte each).
            for _ in 1..length {
                chars.next();
            }
            continue;
        }
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

/// Whether `c` would be obeyed by a terminal rather than shown. Tabs and
/// line feeds only move on to where the next text goes, so they stay.
fn is_control(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        // Line and paragraph separators, and the bidirectional overrides
        // and isolates, which make a line read other than it is.
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The control character `c` as text that shows it, or `c` itself.
fn push_visible(out: &mut String, c: char) {
    match c {
        // C0 controls have pictures of their own (U+2400...).
        '\u{0}'..='\u{1f}' if is_control(c) => {
            out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?'));
        }
        '\u{7f}' => out.push('␡'),
        c if is_control(c) => out.push_str(&c.escape_unicode().to_string()),
        c => out.push(c),
    }
}

/// The length in bytes of the SGR (colour) sequence `ESC [ params m` at
/// the start of `text`, if that is what starts it.
fn color_sequence_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("\u{1b}[")?;
    let params = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';' || *b == b':')
        .count();
    (rest.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

/// Columns `text` takes on a terminal; colour sequences take none.
pub fn display_width(text: &str) -> usize {
    let mut width = 0;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == ESC
            && let Some(length) = color_sequence_len(rest)
        {
            rest = &rest[length..];
            continue;
        }
        width += c.width().unwrap_or(0);
        rest = &rest[c.len_utf8()..];
    }
    width
}

/// `text` cut to at most `width` columns, ending in `…` when cut; colours
/// are reset after a cut so they do not run on.
pub fn truncate_to_width(text: &str, width: usize) -> Cow<'_, str> {
    if display_width(text) <= width {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut used = 0;
    let mut rest = text;
    let room = width.saturating_sub(1);
    while let Some(c) = rest.chars().next() {
        if c == ESC
            && let Some(length) = color_sequence_len(rest)
        {
            out.push_str(&rest[..length]);
            rest = &rest[length..];
            continue;
        }
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.push('…');
    if text.contains(ESC) {
        out.push_str("\u{1b}[0m");
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_rendered_inert() {
        for (raw, shown) in [
            ("plain text", "plain text"),
            ("\u{1b}]0;pwned title\u{7}after", "␛]0;pwned title␇after"),
            ("\u{1b}[2J\u{1b}[Hcleared", "␛[2J␛[Hcleared"),
            ("visible\rhidden", "visible␍hidden"),
            ("abc\u{8}\u{8}\u{8}xyz", "abc␈␈␈xyz"),
            ("tab\tkept", "tab\tkept"),
            ("c1 \u{9b}31m csi", "c1 \\u{9b}31m csi"),
            ("del\u{7f}", "del␡"),
            ("abc\u{202e}fed", "abc\\u{202e}fed"),
        ] {
            assert_eq!(inert(raw, true), shown, "{raw:?}");
            assert_eq!(inert(raw, false), shown, "{raw:?}");
        }
    }

    #[test]
    fn colours_are_kept_or_dropped() {
        let red = "\u{1b}[31mred\u{1b}[0m and \u{1b}[1;38;5;208mbold\u{1b}[m";
        assert_eq!(inert(red, true), red);
        assert_eq!(inert(red, false), "red and bold");
        // Not a colour: a cursor move is shown, not obeyed.
        assert_eq!(inert("\u{1b}[10Aup", false), "␛[10Aup");
    }

    #[test]
    fn no_output_of_inert_text_is_a_control_other_than_colour() {
        // Property over every two-character string from a hostile alphabet.
        let alphabet = [
            '\u{1b}', '[', ']', 'm', '0', ';', '\u{7}', '\r', '\u{9b}', 'a', '\u{85}', '\n',
        ];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let raw: String = [a, b, c].iter().collect();
                    let shown = inert(&raw, false);
                    assert!(
                        !shown.chars().any(is_control),
                        "{raw:?} -> {shown:?} keeps a control"
                    );
                }
            }
        }
    }

    #[test]
    fn widths_count_columns() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("日本"), 4);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("\u{1b}[31mred\u{1b}[0m"), 3);
        assert_eq!(truncate_to_width("日本語のテキスト", 7), "日本語…");
        assert_eq!(truncate_to_width("short", 10), "short");
        assert_eq!(
            truncate_to_width("\u{1b}[2mdimmed text\u{1b}[0m", 5),
            "\u{1b}[2mdimm…\u{1b}[0m"
        );
    }
}
