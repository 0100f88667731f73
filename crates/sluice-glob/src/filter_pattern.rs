//! One workflow filter pattern (`on.push.branches`, `paths`, ...), with the
//! syntax of GitHub's "Filter pattern cheat sheet".

use crate::bracket::{BracketRules, parse_bracket};
use crate::char_set::CharMatcher;
use crate::error::{PatternError, PatternErrorKind, PatternFlavour};
use crate::nfa::{Nfa, NfaBuilder, StateId};
use crate::pattern_text::PatternText;

/// A compiled filter pattern.
///
/// Matching is against the whole value (a branch or tag name, or a path from
/// the repository root) and is case-sensitive. A leading `!` is recorded by
/// [`is_negated`](Self::is_negated) but not applied by
/// [`matches`](Self::matches): negation only means something in a list, see
/// [`FilterPatternList`](crate::FilterPatternList).
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    negated: bool,
    nfa: Nfa,
}

impl FilterPattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let text = PatternText::new(pattern, PatternFlavour::Filter);
        // "`!` at the start of a pattern makes it negate previous positive
        // patterns. It has no special meaning if not the first character."
        let negated = text.get(0) == Some('!');
        let body_start = usize::from(negated);
        let pieces = parse_pieces(&text, body_start)?;
        Ok(FilterPattern {
            source: pattern.to_owned(),
            negated,
            nfa: build_nfa(&pieces),
        })
    }

    /// The pattern as written, `!` included.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern started with `!`.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Whether `value` matches the pattern (ignoring any leading `!`).
    pub fn matches(&self, value: &str) -> bool {
        self.nfa.is_match(value)
    }
}

/// One element of a parsed pattern.
#[derive(Debug)]
enum Piece {
    /// A character test, repeated `min_one..=(many ? inf : 1)` times.
    Repeat {
        matcher: CharMatcher,
        at_least_one: bool,
        many: bool,
    },
    /// `**/`: zero or more whole directories, so that `**/README.md` also
    /// matches `README.md` at the root (a cheat-sheet example).
    Directories,
}

impl Piece {
    fn once(matcher: CharMatcher) -> Piece {
        Piece::Repeat {
            matcher,
            at_least_one: true,
            many: false,
        }
    }

    fn any_number(matcher: CharMatcher) -> Piece {
        Piece::Repeat {
            matcher,
            at_least_one: false,
            many: true,
        }
    }
}

fn parse_pieces(text: &PatternText<'_>, start: usize) -> Result<Vec<Piece>, PatternError> {
    const RULES: BracketRules = BracketRules {
        negation: false,
        leading_close_is_member: false,
        alphanumeric_ranges_only: true,
    };
    let mut pieces = Vec::new();
    let mut index = start;
    while let Some(c) = text.get(index) {
        match c {
            '*' if text.get(index + 1) == Some('*') => {
                let slash_follows = text.get(index + 2) == Some('/');
                // `**/?` must leave the `?` something to apply to, so the
                // slash stays an ordinary character then.
                let quantifier_after = matches!(text.get(index + 3), Some('?' | '+'));
                if slash_follows && !quantifier_after {
                    pieces.push(Piece::Directories);
                    index += 3;
                } else {
                    pieces.push(Piece::any_number(CharMatcher::Any));
                    index += 2;
                }
            }
            '*' => {
                pieces.push(Piece::any_number(CharMatcher::AnyButSlash));
                index += 1;
            }
            '?' | '+' => {
                match pieces.last_mut() {
                    // `?` / `+` apply to "the preceding character".
                    Some(Piece::Repeat {
                        at_least_one, many, ..
                    }) => {
                        // Nested quantifiers compose: (x?)+ and (x+)? are
                        // both x*, (x+)+ is x+, (x?)? is x?.
                        let plus = c == '+';
                        *at_least_one = *at_least_one && plus;
                        *many = *many || plus;
                    }
                    // Nothing precedes (start of pattern): a literal.
                    _ => pieces.push(Piece::once(CharMatcher::Literal(c))),
                }
                index += 1;
            }
            '[' => {
                let (set, after) = parse_bracket(text, index, text.len(), RULES)?;
                pieces.push(Piece::once(CharMatcher::Set(set)));
                index = after;
            }
            '\\' => {
                let Some(escaped) = text.get(index + 1) else {
                    return Err(text.error(index, PatternErrorKind::DanglingEscape));
                };
                pieces.push(Piece::once(CharMatcher::Literal(escaped)));
                index += 2;
            }
            _ => {
                pieces.push(Piece::once(CharMatcher::Literal(c)));
                index += 1;
            }
        }
    }
    Ok(pieces)
}

fn build_nfa(pieces: &[Piece]) -> Nfa {
    let mut builder = NfaBuilder::new();
    let mut current: StateId = NfaBuilder::START;
    for piece in pieces {
        current = match piece {
            Piece::Repeat {
                matcher,
                at_least_one,
                many,
            } => add_repeat(&mut builder, current, matcher, *at_least_one, *many),
            Piece::Directories => {
                // Either nothing, or one or more characters ending in `/`.
                let after = builder.add_state();
                let inside = builder.add_state();
                builder.add_epsilon(current, after);
                builder.add_edge(current, CharMatcher::Any, inside);
                builder.add_edge(inside, CharMatcher::Any, inside);
                builder.add_edge(inside, CharMatcher::Literal('/'), after);
                after
            }
        };
    }
    builder.finish(current)
}

/// Adds `matcher{min,max}` after `from`; returns the state reached after it.
fn add_repeat(
    builder: &mut NfaBuilder,
    from: StateId,
    matcher: &CharMatcher,
    at_least_one: bool,
    many: bool,
) -> StateId {
    // Each piece gets a fresh state so that loops of consecutive pieces stay
    // separate: `a*b*` must not accept `ba`.
    let to = builder.add_state();
    if at_least_one {
        builder.add_edge(from, matcher.clone(), to);
    } else {
        builder.add_epsilon(from, to);
        if !many {
            builder.add_edge(from, matcher.clone(), to);
        }
    }
    if many {
        builder.add_edge(to, matcher.clone(), to);
    }
    to
}
