//! The tokens the lexer produces and the parser consumes.

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Comma,
    Dot,
    Bang,
    BangEqual,
    EqualEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    And,
    Or,
    Star,
    Null,
    True,
    False,
    Number(f64),
    /// A string literal, with its `''` escapes already resolved.
    String(String),
    Identifier,
}

/// One token with the text it was read from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    /// The source text of the token, as GitHub quotes it in error messages.
    pub(crate) raw: String,
    /// 0-based character index of the token's first character.
    pub(crate) start: usize,
}

impl Token {
    /// 1-based character position, as reported in messages.
    pub(crate) fn position(&self) -> usize {
        self.start + 1
    }
}
