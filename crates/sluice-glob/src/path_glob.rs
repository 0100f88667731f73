//! One path glob as `@actions/glob` (and so `hashFiles` and `actions/cache`)
//! understands it: minimatch with `dot`, without braces, extglobs or
//! comments, matched segment by segment against paths relative to a root.

use crate::bracket::{BracketRules, parse_bracket};
use crate::char_set::CharMatcher;
use crate::error::{PatternError, PatternErrorKind, PatternFlavour};
use crate::nfa::{Nfa, NfaBuilder};
use crate::pattern_text::PatternText;

/// Whether a path names a file or a directory; patterns ending in `/` match
/// only directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or anything that is not a directory).
    File,
    /// A directory.
    Directory,
}

/// A compiled path glob.
#[derive(Debug, Clone)]
pub struct PathGlob {
    source: String,
    negated: bool,
    directory_only: bool,
    segments: Vec<Segment>,
}

/// One `/`-separated part of a pattern.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `**` standing alone: zero or more whole path segments.
    Globstar,
    /// Text without wildcards, compared as is.
    Literal(String),
    /// Anything else, compiled to an automaton over one path segment.
    Wildcard(Nfa),
}

/// The positions in a glob's segment list that a partially matched path has
/// reached: the state of matching carried from a directory to its children.
pub(crate) type Progress = Vec<usize>;

impl PathGlob {
    /// Compiles `pattern`. Surrounding whitespace is ignored and each leading
    /// `!` flips negation, as in `@actions/glob`.
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let text = PatternText::new(pattern, PatternFlavour::Path);
        let mut start = 0;
        let mut end = text.len();
        while end > start && text.get(end - 1).is_some_and(char::is_whitespace) {
            end -= 1;
        }
        let mut negated = false;
        loop {
            while start < end && text.get(start).is_some_and(char::is_whitespace) {
                start += 1;
            }
            if start < end && text.get(start) == Some('!') {
                negated = !negated;
                start += 1;
            } else {
                break;
            }
        }
        if start == end {
            return Err(text.error(start, PatternErrorKind::Empty));
        }
        if text.get(start) == Some('/') {
            return Err(text.error(start, PatternErrorKind::Absolute));
        }
        let directory_only = text.get(end - 1) == Some('/');
        let segments = parse_segments(&text, start, end)?;
        Ok(PathGlob {
            source: pattern.to_owned(),
            negated,
            directory_only,
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern excludes (an odd number of leading `!`).
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Whether the pattern ended in `/` and so matches only directories.
    pub fn is_directory_only(&self) -> bool {
        self.directory_only
    }

    /// Whether `path` (relative to the root, `/`-separated) matches,
    /// ignoring negation. Empty and `.` segments of `path` are skipped.
    pub fn matches(&self, path: &str, kind: EntryKind) -> bool {
        if self.directory_only && kind != EntryKind::Directory {
            return false;
        }
        let mut progress = self.start();
        for name in path_segments(path) {
            progress = self.advance(&progress, name);
            if progress.is_empty() {
                return false;
            }
        }
        self.is_complete(&progress)
    }

    /// The same glob followed by `/**`, for `@actions/glob`'s "implicit
    /// descendants": a pattern that matches a directory also matches
    /// everything below it. `None` when the glob already ends in `**`.
    pub(crate) fn with_descendants(&self) -> Option<PathGlob> {
        let ends_in_globstar = matches!(self.segments.last(), Some(Segment::Globstar));
        if ends_in_globstar && !self.directory_only {
            return None;
        }
        let mut segments = self.segments.clone();
        segments.push(Segment::Globstar);
        Some(PathGlob {
            source: self.source.clone(),
            negated: self.negated,
            directory_only: false,
            segments,
        })
    }

    /// Progress before any path segment has been consumed.
    pub(crate) fn start(&self) -> Progress {
        self.close(vec![0])
    }

    /// Progress after consuming one more path segment `name`.
    pub(crate) fn advance(&self, progress: &[usize], name: &str) -> Progress {
        let mut next = Vec::new();
        for &position in progress {
            match self.segments.get(position) {
                Some(Segment::Globstar) => next.push(position),
                Some(Segment::Literal(literal)) if literal == name => next.push(position + 1),
                Some(Segment::Wildcard(nfa)) if nfa.is_match(name) => next.push(position + 1),
                _ => {}
            }
        }
        self.close(next)
    }

    /// Whether the path consumed so far matches the whole glob.
    pub(crate) fn is_complete(&self, progress: &[usize]) -> bool {
        progress.contains(&self.segments.len())
    }

    /// Whether some longer path could still match.
    pub(crate) fn can_continue(&self, progress: &[usize]) -> bool {
        progress
            .iter()
            .any(|&position| position < self.segments.len())
    }

    /// Whether every longer path matches: only `**` segments remain.
    pub(crate) fn accepts_any_continuation(&self, progress: &[usize]) -> bool {
        progress.iter().any(|&position| {
            position < self.segments.len()
                && self
                    .segments
                    .get(position..)
                    .is_some_and(|rest| rest.iter().all(|s| matches!(s, Segment::Globstar)))
        })
    }

    /// Adds the positions reachable by letting `**` match zero segments,
    /// then sorts and deduplicates.
    fn close(&self, mut progress: Progress) -> Progress {
        let mut index = 0;
        while let Some(&position) = progress.get(index) {
            if matches!(self.segments.get(position), Some(Segment::Globstar)) {
                progress.push(position + 1);
            }
            index += 1;
        }
        progress.sort_unstable();
        progress.dedup();
        progress
    }
}

/// The non-empty, non-`.` segments of a relative path.
pub(crate) fn path_segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
}

fn parse_segments(
    text: &PatternText<'_>,
    start: usize,
    end: usize,
) -> Result<Vec<Segment>, PatternError> {
    let mut segments = Vec::new();
    let mut segment_start = start;
    let mut is_first = true;
    while segment_start < end {
        let mut segment_end = segment_start;
        while segment_end < end && text.get(segment_end) != Some('/') {
            segment_end += 1;
        }
        let raw: String = (segment_start..segment_end)
            .filter_map(|index| text.get(index))
            .collect();
        match raw.as_str() {
            // `a//b` means `a/b`.
            "" => {}
            "." if is_first => {}
            "." => return Err(text.error(segment_start, PatternErrorKind::DotSegment)),
            ".." => return Err(text.error(segment_start, PatternErrorKind::ParentSegment)),
            "**" => segments.push(Segment::Globstar),
            _ => segments.push(parse_segment(text, segment_start, segment_end)?),
        }
        if !raw.is_empty() {
            is_first = false;
        }
        segment_start = segment_end + 1;
    }
    Ok(segments)
}

fn parse_segment(
    text: &PatternText<'_>,
    start: usize,
    end: usize,
) -> Result<Segment, PatternError> {
    const RULES: BracketRules = BracketRules {
        negation: true,
        leading_close_is_member: true,
        alphanumeric_ranges_only: false,
    };
    let mut matchers: Vec<(CharMatcher, bool)> = Vec::new();
    let mut index = start;
    let mut literal = String::new();
    let mut only_literals = true;
    while index < end {
        let Some(c) = text.get(index) else { break };
        match c {
            '*' => {
                // `a**b` inside a segment is just `a*b`; consecutive stars
                // collapse so the automaton stays small.
                if !matches!(matchers.last(), Some((CharMatcher::AnyButSlash, true))) {
                    matchers.push((CharMatcher::AnyButSlash, true));
                }
                only_literals = false;
                index += 1;
            }
            '?' => {
                matchers.push((CharMatcher::AnyButSlash, false));
                only_literals = false;
                index += 1;
            }
            '[' => {
                let (set, after) = parse_bracket(text, index, end, RULES)?;
                matchers.push((CharMatcher::Set(set), false));
                only_literals = false;
                index = after;
            }
            '\\' => {
                let escaped = text.get(index + 1).filter(|_| index + 1 < end);
                let Some(escaped) = escaped else {
                    return Err(text.error(index, PatternErrorKind::DanglingEscape));
                };
                matchers.push((CharMatcher::Literal(escaped), false));
                literal.push(escaped);
                index += 2;
            }
            _ => {
                matchers.push((CharMatcher::Literal(c), false));
                literal.push(c);
                index += 1;
            }
        }
    }
    if only_literals {
        return Ok(Segment::Literal(literal));
    }
    let mut builder = NfaBuilder::new();
    let mut current = NfaBuilder::START;
    for (matcher, repeated) in matchers {
        let next = builder.add_state();
        if repeated {
            builder.add_epsilon(current, next);
            builder.add_edge(next, matcher, next);
        } else {
            builder.add_edge(current, matcher, next);
        }
        current = next;
    }
    Ok(Segment::Wildcard(builder.finish(current)))
}
