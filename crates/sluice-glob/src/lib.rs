//! Glob patterns as GitHub Actions uses them, in two flavours.
//!
//! Both flavours compile a pattern once and then match it as often as
//! needed. Matching steps a set of automaton states through the input (no
//! backtracking), so its cost is bounded by `input length x pattern size`
//! whatever the pattern: `**/**/**/a*a*a*a*b` against a long path is as fast
//! as any other pattern. Invalid patterns are reported with a
//! [`PatternError`] that names the pattern, the column and the problem.
//!
//! # Filter patterns: [`FilterPattern`], [`FilterPatternList`]
//!
//! The syntax of workflow trigger filters (`on.<push|pull_request>.branches`,
//! `branches-ignore`, `tags`, `tags-ignore`, `paths`, `paths-ignore`), per
//! GitHub's "Filter pattern cheat sheet". A pattern must match the whole
//! value (a branch or tag name, or a file path from the repository root);
//! matching is case-sensitive and works on Unicode characters.
//!
//! | Syntax | Meaning |
//! | --- | --- |
//! | `*` | zero or more characters, but not `/` |
//! | `**` | zero or more of any character, `/` included |
//! | `**/` | zero or more whole directories, so `**/a` matches `a` and `x/y/a` |
//! | `?` | zero or one of the preceding character (or class); a literal `?` at the start |
//! | `+` | one or more of the preceding character (or class); a literal `+` at the start |
//! | `[abc]`, `[0-9a-z]` | one listed character, or one in a range; ranges must stay within `a-z`, `A-Z` or `0-9` |
//! | `!` first | negates the pattern inside a list; literal anywhere else |
//! | `\c` | the character `c` literally (`\*`, `\?`, `\+`, `\[`, `\!`, `\\`) |
//!
//! Not supported: class negation (`[!a]` lists `!` and `a`), braces. The empty
//! pattern matches only the empty string; a trailing `/` is literal, so
//! `docs/` never matches a file path.
//!
//! Lists ([`FilterPatternList`]) follow GitHub's order rule: the last
//! pattern that matches a value decides, and the value is included when that
//! pattern is positive.
//!
//! # Path globs: [`PathGlob`], [`PathGlobSet`], [`walk_matches`]
//!
//! The syntax of `@actions/glob`, which `hashFiles()`, `actions/cache` and
//! `actions/upload-artifact` use: minimatch with dot files matched, and with
//! braces, extglobs and comments inside patterns turned off. Patterns are
//! relative to a root and matched segment by segment.
//!
//! | Syntax | Meaning |
//! | --- | --- |
//! | `*` | zero or more characters within one path segment (dot files included) |
//! | `?` | exactly one character within a segment |
//! | `[abc]`, `[a-z]`, `[!a-z]`, `[^a-z]` | one character of (or not of) the class; `[]]` matches `]` |
//! | `**` as a whole segment | zero or more segments (`a**b` inside a segment is `a*b`) |
//! | trailing `/` | matches directories only |
//! | `\c` | the character `c` literally (as on Linux and macOS) |
//! | leading `!` | excludes; each further `!` flips again |
//! | leading `./` | the root itself (`.` is not allowed further in, `..` nowhere) |
//!
//! In a [`PathGlobSet`], blank patterns and `#` comments are skipped, the
//! last matching pattern decides, and by default a pattern that matches a
//! directory also matches everything under it (`implicitDescendants`), for
//! `!` patterns too. Differences from `@actions/glob`: matching is always
//! case-sensitive and uses `/` only (no Windows rules); `~` is not expanded;
//! an unclosed `[` is an error rather than a literal `[`; absolute patterns
//! are accepted only by [`walk_matches`], and only inside its root.
//!
//! [`walk_matches`] returns the matching *files* under a root in sorted
//! order, skips `.git`, never reads a directory that cannot contain a match,
//! and does not loop through symbolic links. It is the only function of this
//! crate that does I/O.

mod bracket;
mod char_set;
mod error;
mod filter_list;
mod filter_pattern;
mod nfa;
mod path_glob;
mod path_glob_set;
mod pattern_text;
mod walk;

pub use error::{PatternError, PatternErrorKind, PatternFlavour, WalkError};
pub use filter_list::FilterPatternList;
pub use filter_pattern::FilterPattern;
pub use path_glob::{EntryKind, PathGlob};
pub use path_glob_set::{PathGlobOptions, PathGlobSet};
pub use walk::{WalkOptions, walk_matches, walk_matches_with};
