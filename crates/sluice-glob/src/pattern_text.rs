//! A pattern's characters together with their byte offsets, so that both
//! parsers can walk characters (patterns are Unicode) and still report exact
//! positions.

use crate::error::{PatternError, PatternErrorKind, PatternFlavour};

pub(crate) struct PatternText<'a> {
    source: &'a str,
    chars: Vec<(usize, char)>,
    flavour: PatternFlavour,
}

impl<'a> PatternText<'a> {
    pub(crate) fn new(source: &'a str, flavour: PatternFlavour) -> Self {
        PatternText {
            source,
            chars: source.char_indices().collect(),
            flavour,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.chars.len()
    }

    pub(crate) fn get(&self, index: usize) -> Option<char> {
        self.chars.get(index).map(|&(_, c)| c)
    }

    /// An error located at the character with this index (or just past the
    /// end, for "the pattern stops too early").
    pub(crate) fn error(&self, index: usize, kind: PatternErrorKind) -> PatternError {
        let offset = self
            .chars
            .get(index)
            .map_or(self.source.len(), |&(offset, _)| offset);
        PatternError {
            flavour: self.flavour,
            pattern: self.source.to_owned(),
            offset,
            column: index.min(self.chars.len()) + 1,
            kind,
        }
    }
}
