//! Secret masking: every occurrence of a registered secret in a log line
//! becomes `***`.
//!
//! What is registered follows GitHub's runner:
//!
//! - The value as given, and each of its lines (split at `\r` and `\n`),
//!   both as written and trimmed. Logs are masked line by line, so a
//!   multi-line secret is caught through its lines. (GitHub registers
//!   lines as written for `add-mask` and trimmed for `secrets.*`; Sluice
//!   does both, which only masks more.)
//! - For each of those, the encodings GitHub's runner masks too: Base64 at
//!   the three byte alignments (with and without `=` padding, and the
//!   URL-safe alphabet), JSON string escaping, URI data escaping
//!   (`Uri.EscapeDataString`), XML escaping, `'` doubled (expression
//!   strings), `"` as `\"` (command lines), the value without surrounding
//!   double quotes (when longer than 8), and the parts of a value around
//!   `&` that PowerShell prints separately (when at least 6 long).
//! - Empty and all-blank values are ignored (GitHub warns about them and
//!   masks nothing). There is no minimum length: like GitHub, a
//!   one-character secret masks that character everywhere.
//!
//! Matches are found at every position, overlapping ones included, and the
//! union of their ranges is replaced; touching ranges merge into one
//! `***`. So no part of a longer secret shows because a shorter one matched
//! first, and `aaa` is fully masked by the secret `aa`.
//!
//! A [`Masker`] is a plain value (`Clone`, `Send`, `Sync`): masking takes
//! `&self`, adding takes `&mut self`. To add secrets while steps print,
//! share one behind `Arc<RwLock<Masker>>`; lines are masked under the read
//! lock. Its `Debug` output never shows secrets.
//!
//! Matching scans each line once: patterns are indexed by their first
//! eight bytes (two for shorter ones), and each position looks up only the
//! patterns that can start there, longest first, so the cost grows with
//! the line, not with the number of secrets.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Buckets per index table (a power of two).
const BUCKETS: usize = 4096;
/// Patterns this long or longer are indexed by their first `LONG` bytes,
/// so secrets sharing a prefix such as `ghp_` do not share a bucket.
const LONG: usize = 8;
const NONE: u32 = u32::MAX;

/// The set of secrets to hide. See the module documentation.
#[derive(Clone)]
pub struct Masker {
    /// Every pattern, each once.
    patterns: Vec<Box<str>>,
    known: HashSet<Box<str>>,
    /// Values given to [`Masker::add`] (GitHub skips repeats early).
    originals: HashSet<Box<str>>,
    /// One-byte patterns, by byte.
    single: [bool; 256],
    /// Head of each bucket's list of patterns of 2 to `LONG - 1` bytes,
    /// by their first two bytes; each list ordered longest first.
    short_heads: Box<[u32]>,
    /// Likewise for patterns of `LONG` bytes or more, by their first
    /// `LONG` bytes.
    long_heads: Box<[u32]>,
    /// Next pattern in the same bucket.
    next: Vec<u32>,
    /// The length of the longest pattern, in bytes.
    longest: usize,
}

impl Default for Masker {
    fn default() -> Self {
        Masker::new()
    }
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    pub fn new() -> Self {
        Masker {
            patterns: Vec::new(),
            known: HashSet::new(),
            originals: HashSet::new(),
            single: [false; 256],
            short_heads: vec![NONE; BUCKETS].into_boxed_slice(),
            long_heads: vec![NONE; BUCKETS].into_boxed_slice(),
            next: Vec::new(),
            longest: 0,
        }
    }

    /// Registers a secret (with its lines and encodings). Returns whether
    /// anything new was registered; `false` for empty or blank values and
    /// for values already added.
    pub fn add(&mut self, value: &str) -> bool {
        if value.trim().is_empty() || self.originals.contains(value) {
            return false;
        }
        self.originals.insert(value.into());
        let mut added = false;
        for form in registered_forms(value) {
            for variant in encoded_variants(form) {
                added |= self.insert(&variant);
            }
        }
        added
    }

    /// Number of distinct patterns (secrets, their lines and encodings).
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `text` with every secret replaced by `***`; borrowed when nothing
    /// matched.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.replace_secrets(text, |_, out| out.push_str(MASK))
    }

    /// `text` with each secret (each merged range of matches) replaced by
    /// what `write` appends for it, given the secret text; borrowed when
    /// nothing matched.
    pub fn replace_secrets<'t>(
        &self,
        text: &'t str,
        mut write: impl FnMut(&str, &mut String),
    ) -> Cow<'t, str> {
        let mut masked: Option<String> = None;
        let mut copied = 0;
        for (start, end) in self.ranges(text) {
            let out = masked.get_or_insert_with(|| String::with_capacity(text.len()));
            // Matches of whole UTF-8 patterns start and end on character
            // boundaries, so these slices cannot split a character.
            out.push_str(&text[copied..start]);
            write(&text[start..end], out);
            copied = end;
        }
        match masked {
            None => Cow::Borrowed(text),
            Some(mut out) => {
                out.push_str(&text[copied..]);
                Cow::Owned(out)
            }
        }
    }

    /// `text[from..to]` masked as it would be inside `text`: a secret that
    /// begins before `from` or ends after `to` is masked in the part that
    /// falls inside.
    pub fn mask_window(&self, text: &str, from: usize, to: usize) -> String {
        let mut out = String::with_capacity(to.saturating_sub(from));
        let mut copied = from;
        for (start, end) in self.ranges(text) {
            if end <= from {
                continue;
            }
            if start >= to {
                break;
            }
            let (start, end) = (start.max(from), end.min(to));
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        if copied < to {
            out.push_str(&text[copied..to]);
        }
        out
    }

    /// The length of the longest pattern, in bytes.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// Whether `text` contains any secret (GitHub, for instance, refuses
    /// to pass on job outputs that do).
    pub fn has_secret(&self, text: &str) -> bool {
        self.ranges(text).next().is_some()
    }

    fn insert(&mut self, pattern: &str) -> bool {
        if pattern.is_empty() || self.known.contains(pattern) {
            return false;
        }
        let Ok(id) = u32::try_from(self.patterns.len()) else {
            return false;
        };
        if id == NONE {
            return false;
        }
        self.known.insert(pattern.into());
        self.longest = self.longest.max(pattern.len());
        self.patterns.push(pattern.into());
        self.next.push(NONE);
        let bytes = pattern.as_bytes();
        if let [only] = bytes {
            self.single[usize::from(*only)] = true;
            return true;
        }
        let (heads, bucket) = match (long_bucket(bytes), short_bucket(bytes)) {
            (Some(bucket), _) => (&mut self.long_heads, bucket),
            (None, Some(bucket)) => (&mut self.short_heads, bucket),
            (None, None) => return true,
        };
        // Keep the bucket's list longest first, so the first hit at a
        // position is the longest pattern there.
        let mut prev = NONE;
        let mut cursor = heads[bucket];
        while cursor != NONE && self.patterns[cursor as usize].len() >= bytes.len() {
            prev = cursor;
            cursor = self.next[cursor as usize];
        }
        self.next[id as usize] = cursor;
        if prev == NONE {
            heads[bucket] = id;
        } else {
            self.next[prev as usize] = id;
        }
        true
    }

    /// The merged byte ranges to mask, in order.
    fn ranges<'m, 't>(&'m self, text: &'t str) -> Ranges<'m, 't> {
        Ranges {
            masker: self,
            bytes: if self.patterns.is_empty() {
                &[]
            } else {
                text.as_bytes()
            },
            position: 0,
            current: None,
        }
    }

    /// End of the longest pattern starting at `i`, if any.
    fn longest_at(&self, bytes: &[u8], i: usize) -> Option<usize> {
        let rest = &bytes[i..];
        let chains = [
            long_bucket(rest).map(|bucket| self.long_heads[bucket]),
            short_bucket(rest).map(|bucket| self.short_heads[bucket]),
        ];
        for mut cursor in chains.into_iter().flatten() {
            while cursor != NONE {
                let pattern = self.patterns[cursor as usize].as_bytes();
                if rest.starts_with(pattern) {
                    return Some(i + pattern.len());
                }
                cursor = self.next[cursor as usize];
            }
        }
        match rest.first() {
            Some(&first) if self.single[usize::from(first)] => Some(i + 1),
            _ => None,
        }
    }
}

/// Bucket of the long-pattern table for text starting with these bytes.
fn long_bucket(bytes: &[u8]) -> Option<usize> {
    let prefix: [u8; LONG] = bytes.get(..LONG)?.try_into().ok()?;
    let key = u64::from_le_bytes(prefix);
    Some((key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize & (BUCKETS - 1))
}

/// Bucket of the short-pattern table for text starting with these bytes.
fn short_bucket(bytes: &[u8]) -> Option<usize> {
    let [first, second, ..] = bytes else {
        return None;
    };
    let key = (u32::from(*first) << 8) | u32::from(*second);
    Some((key.wrapping_mul(0x9E37_79B1) >> 20) as usize & (BUCKETS - 1))
}

/// Iterator over merged mask ranges: at each position the longest match,
/// folded into the current range when it starts inside or right at its
/// end.
struct Ranges<'m, 't> {
    masker: &'m Masker,
    bytes: &'t [u8],
    position: usize,
    current: Option<(usize, usize)>,
}

impl Iterator for Ranges<'_, '_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        while self.position < self.bytes.len() {
            let i = self.position;
            self.position += 1;
            // No pattern starts inside a character.
            if (self.bytes[i] & 0xC0) == 0x80 {
                continue;
            }
            let Some(end) = self.masker.longest_at(self.bytes, i) else {
                continue;
            };
            match self.current {
                Some((start, current_end)) if i <= current_end => {
                    self.current = Some((start, current_end.max(end)));
                }
                Some(done) => {
                    self.current = Some((i, end));
                    return Some(done);
                }
                None => self.current = Some((i, end)),
            }
        }
        self.current.take()
    }
}

/// The value, and each of its lines as written and trimmed; blanks left
/// out, repeats removed later.
fn registered_forms(value: &str) -> Vec<&str> {
    let mut forms = vec![value];
    for line in value.split(['\r', '\n']) {
        let trimmed = line.trim();
        if !trimmed.is_empty() {
            forms.push(line);
            forms.push(trimmed);
        }
    }
    forms
}

/// A form and the encodings GitHub's runner also masks (empty ones
/// dropped by the caller).
fn encoded_variants(value: &str) -> Vec<String> {
    let mut variants = vec![value.to_string()];
    base64_variants(value, &mut variants);
    variants.push(value.replace('"', "\\\""));
    variants.push(value.replace('\'', "''"));
    variants.push(json_escape(value));
    variants.push(uri_data_escape(value));
    variants.push(xml_escape(value));
    if utf16_len(value) > 8
        && let Some(inner) = value
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
    {
        variants.push(inner.to_string());
    }
    variants.extend(powershell_ampersand_parts(value));
    variants
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Base64 of the UTF-8 bytes dropping 0, 1 and 2 leading bytes, so the
/// secret is found whatever precedes it in the encoded data: padded,
/// unpadded, and unpadded in the URL-safe alphabet.
fn base64_variants(value: &str, out: &mut Vec<String>) {
    let bytes = value.as_bytes();
    for skip in 0..=2 {
        let Some(rest) = bytes.get(skip..).filter(|rest| !rest.is_empty()) else {
            break;
        };
        let padded = base64(rest);
        let unpadded = padded.trim_end_matches('=').to_string();
        let url_safe = unpadded.replace('+', "-").replace('/', "_");
        out.push(padded);
        out.push(unpadded);
        out.push(url_safe);
    }
}

/// Standard Base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let digit = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        out.push(digit(18));
        out.push(digit(12));
        out.push(if chunk.len() > 1 { digit(6) } else { '=' });
        out.push(if chunk.len() > 2 { digit(0) } else { '=' });
    }
    out
}

/// The inside of a JSON string as Newtonsoft.Json writes it.
fn json_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// `Uri.EscapeDataString`: everything but RFC 3986 unreserved characters
/// percent-encoded as UTF-8, upper-case hex.
fn uri_data_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `SecurityElement.Escape`.
fn xml_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// When PowerShell reports an error about a command containing `&`, it
/// prints the part up to the (last) `&` and the part after it apart, and
/// after `&+` colours the next character. GitHub masks both parts when at
/// least 6 UTF-16 units long.
fn powershell_ampersand_parts(value: &str) -> Vec<String> {
    let (before, after) = if let Some(at) = value.find("&+") {
        let before = &value[..at + 2];
        let mut after = value[at + 2..].chars();
        after.next();
        (before, after.as_str())
    } else if let Some(at) = value.rfind('&') {
        (&value[..=at], &value[at + 1..])
    } else {
        return Vec::new();
    };
    [before, after]
        .into_iter()
        .filter(|part| utf16_len(part) >= 6)
        .map(str::to_string)
        .collect()
}

/// Masks a line that arrives in pieces (one too long to keep whole), so
/// that a secret cut between two pieces is still masked whole.
///
/// A piece is shown only up to where no secret can still be unfinished:
/// every match starting before the last `longest - 1` bytes is complete.
/// The bytes after that wait for the next piece, and the `longest - 1`
/// bytes shown just before them stay as context, so the tail of a match
/// that began in what was shown is recognised and masked too.
#[derive(Debug, Default)]
pub struct PieceMasker {
    /// Context already shown, then what is not shown yet.
    text: String,
    /// How much of `text` was shown.
    shown: usize,
}

impl PieceMasker {
    /// Adds a piece; returns what can be shown now, masked. With `last`,
    /// everything left is shown and the masker is ready for a new line.
    pub fn push(&mut self, masker: &Masker, piece: &str, last: bool) -> String {
        self.text.push_str(piece);
        let keep = masker.longest().saturating_sub(1);
        let mut cut = if last {
            self.text.len()
        } else {
            self.text.len().saturating_sub(keep)
        };
        while !self.text.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut <= self.shown {
            return String::new();
        }
        let shown = masker.mask_window(&self.text, self.shown, cut);
        if last {
            self.text.clear();
            self.shown = 0;
        } else {
            let mut context = cut.saturating_sub(keep);
            while !self.text.is_char_boundary(context) {
                context -= 1;
            }
            self.text.drain(..context);
            self.shown = cut - context;
        }
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    /// GitHub's algorithm, literally: every (overlapping) occurrence of
    /// every pattern, sorted by start, merged when they overlap or touch.
    fn naive(patterns: &[String], text: &str) -> String {
        let mut positions: Vec<(usize, usize)> = Vec::new();
        for pattern in patterns {
            let mut from = 0;
            while let Some(at) = text
                .get(from..)
                .and_then(|rest| rest.find(pattern.as_str()))
            {
                positions.push((from + at, from + at + pattern.len()));
                from += at + text[from + at..].chars().next().map_or(1, char::len_utf8);
            }
        }
        positions.sort_by_key(|&(start, _)| start);
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in positions {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let mut out = String::new();
        let mut copied = 0;
        for (start, end) in merged {
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    #[test]
    fn matches_the_naive_algorithm() {
        let alphabet = ['a', 'b', 'c', '\u{e9}', '\u{1f600}', ' '];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        for _ in 0..2000 {
            let mut masker = Masker::new();
            let mut patterns = Vec::new();
            for _ in 0..1 + next(6) {
                let pattern: String = (0..1 + next(10))
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect();
                masker.insert(&pattern);
                patterns.push(pattern);
            }
            let text: String = (0..next(40))
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            assert_eq!(
                masker.mask(&text),
                naive(&patterns, &text),
                "{patterns:?} in {text:?}"
            );
        }
    }

    #[test]
    fn encoders_follow_dotnet() {
        assert_eq!(
            json_escape("a\"b\\c\nd\re\tf\u{8}\u{c}\u{1}\u{1f}\u{85}\u{2028}'/"),
            "a\\\"b\\\\c\\nd\\re\\tf\\b\\f\\u0001\\u001f\\u0085\\u2028'/"
        );
        assert_eq!(
            uri_data_escape("Pass word 123!~-._é"),
            "Pass%20word%20123%21~-._%C3%A9"
        );
        assert_eq!(
            xml_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(
            powershell_ampersand_parts("secretpart1&secretpart2&secretpart3"),
            ["secretpart1&secretpart2&", "secretpart3"]
        );
        assert_eq!(
            powershell_ampersand_parts("secretpart1&+secretpart2&secretpart3"),
            ["secretpart1&+", "ecretpart2&secretpart3"]
        );
        assert!(powershell_ampersand_parts("ab&cd").is_empty());
        assert!(powershell_ampersand_parts("abcdef&+").len() == 1);
    }
}
