//! What one character position of a compiled pattern accepts.

/// The test applied to a single character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CharMatcher {
    /// Exactly this character.
    Literal(char),
    /// Any character, `/` included.
    Any,
    /// Any character except `/`, so that `*` stays inside one directory.
    AnyButSlash,
    /// A bracket expression such as `[0-9a-f]`.
    Set(CharSet),
}

impl CharMatcher {
    pub(crate) fn accepts(&self, c: char) -> bool {
        match self {
            CharMatcher::Literal(literal) => *literal == c,
            CharMatcher::Any => true,
            CharMatcher::AnyButSlash => c != '/',
            CharMatcher::Set(set) => set.contains(c),
        }
    }
}

/// The characters listed in a bracket expression, as inclusive ranges (a
/// single character is a range of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CharSet {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl CharSet {
    pub(crate) fn new(negated: bool, ranges: Vec<(char, char)>) -> Self {
        CharSet { negated, ranges }
    }

    pub(crate) fn contains(&self, c: char) -> bool {
        let listed = self
            .ranges
            .iter()
            .any(|&(first, last)| first <= c && c <= last);
        listed != self.negated
    }
}
