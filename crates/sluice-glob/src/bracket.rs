//! Parsing of `[...]` character classes, shared by both pattern flavours,
//! which differ only in the rules passed in.

use crate::char_set::CharSet;
use crate::error::{PatternError, PatternErrorKind};
use crate::pattern_text::PatternText;

/// How a flavour treats the inside of brackets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BracketRules {
    /// `[!...]` / `[^...]` negate the class (minimatch does; GitHub's filter
    /// cheat sheet documents no negation, so there they are literal).
    pub negation: bool,
    /// A `]` right after the opening `[` is a member rather than the end, as
    /// in POSIX globs, so `[]]` matches `]`.
    pub leading_close_is_member: bool,
    /// GitHub's filter rule: "Ranges can only include a-z, A-Z, and 0-9".
    pub alphanumeric_ranges_only: bool,
}

/// Parses the class whose `[` is at index `open`, looking no further than
/// `limit` (exclusive). Returns the set and the index just past its `]`.
pub(crate) fn parse_bracket(
    text: &PatternText<'_>,
    open: usize,
    limit: usize,
    rules: BracketRules,
) -> Result<(CharSet, usize), PatternError> {
    let mut index = open + 1;
    let mut negated = false;
    if rules.negation && matches!(text.get(index), Some('!' | '^')) && index < limit {
        negated = true;
        index += 1;
    }
    let first_member = index;
    let mut ranges = Vec::new();
    loop {
        if index >= limit {
            return Err(text.error(open, PatternErrorKind::UnclosedBracket));
        }
        let Some(c) = text.get(index) else {
            return Err(text.error(open, PatternErrorKind::UnclosedBracket));
        };
        if c == ']' && !(rules.leading_close_is_member && index == first_member) {
            index += 1;
            break;
        }
        let (start, after_start) = member_at(text, index, limit)?;
        // A `-` between two members makes a range; a `-` first or last in the
        // class is an ordinary member.
        let dash_then_end = text.get(after_start) == Some('-')
            && after_start + 1 < limit
            && text.get(after_start + 1).is_some_and(|next| next != ']');
        if dash_then_end {
            let (end, after_end) = member_at(text, after_start + 1, limit)?;
            check_range(text, index, start, end, rules)?;
            ranges.push((start, end));
            index = after_end;
        } else {
            ranges.push((start, start));
            index = after_start;
        }
    }
    if ranges.is_empty() {
        return Err(text.error(open, PatternErrorKind::EmptyBracket));
    }
    Ok((CharSet::new(negated, ranges), index))
}

/// One member character, honouring `\` escapes; returns it and the index
/// after it.
fn member_at(
    text: &PatternText<'_>,
    index: usize,
    limit: usize,
) -> Result<(char, usize), PatternError> {
    match text.get(index) {
        Some('\\') => match text.get(index + 1) {
            Some(escaped) if index + 1 < limit => Ok((escaped, index + 2)),
            _ => Err(text.error(index, PatternErrorKind::DanglingEscape)),
        },
        Some(c) => Ok((c, index + 1)),
        None => Err(text.error(index, PatternErrorKind::UnclosedBracket)),
    }
}

fn check_range(
    text: &PatternText<'_>,
    at: usize,
    start: char,
    end: char,
    rules: BracketRules,
) -> Result<(), PatternError> {
    let invalid = |why| text.error(at, PatternErrorKind::InvalidRange { start, end, why });
    if start > end {
        return Err(invalid("its first character comes after its last"));
    }
    if rules.alphanumeric_ranges_only {
        let same_group = [
            char::is_ascii_lowercase,
            char::is_ascii_uppercase,
            char::is_ascii_digit,
        ]
        .iter()
        .any(|in_group| in_group(&start) && in_group(&end));
        if !same_group {
            return Err(invalid(
                "filter ranges can only span a-z, A-Z or 0-9 (GitHub's rule)",
            ));
        }
    }
    Ok(())
}
