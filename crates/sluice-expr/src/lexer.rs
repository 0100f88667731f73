//! Splits an expression into tokens, following GitHub's lexical rules.
//!
//! Two of those rules are easy to miss. A `.` is the property operator only
//! right after something that can have properties (a name, `]`, `)` or `*`);
//! anywhere else it starts a number, which is how `.5` and `-.5` lex. And a
//! run of characters that is neither a number nor a legal identifier (`b@r`,
//! `=2`, `..github/workflow.md`) is reported whole, up to the next boundary
//! character, as one unexpected symbol.

use crate::error::{ErrorKind, ExprError};
use crate::limits::MAX_EXPRESSION_LENGTH;
use crate::number::parse_number;
use crate::token::{Token, TokenKind};

/// Tokenizes `source`; the first unlexable character sequence is an error.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = source.chars().collect();
    if chars.len() > MAX_EXPRESSION_LENGTH {
        return Err(ExprError::new(
            ErrorKind::Parsing,
            format!("Exceeded max expression length {MAX_EXPRESSION_LENGTH}"),
            None,
        ));
    }
    Lexer {
        source,
        chars,
        offset: 0,
        tokens: Vec::new(),
    }
    .run()
}

struct Lexer<'s> {
    source: &'s str,
    chars: Vec<char>,
    offset: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn run(mut self) -> Result<Vec<Token>, ExprError> {
        while let Some(c) = self.peek() {
            let start = self.offset;
            self.offset += 1;
            match c {
                '(' => self.push(TokenKind::LeftParen, start),
                ')' => self.push(TokenKind::RightParen, start),
                '[' => self.push(TokenKind::LeftBracket, start),
                ']' => self.push(TokenKind::RightBracket, start),
                ',' => self.push(TokenKind::Comma, start),
                '*' => self.push(TokenKind::Star, start),
                '.' if self.dot_is_property_operator() => self.push(TokenKind::Dot, start),
                '.' | '-' | '+' | '0'..='9' => self.number(start)?,
                '!' => {
                    let kind = if self.eat('=') {
                        TokenKind::BangEqual
                    } else {
                        TokenKind::Bang
                    };
                    self.push(kind, start);
                }
                '<' => {
                    let kind = if self.eat('=') {
                        TokenKind::LessEqual
                    } else {
                        TokenKind::Less
                    };
                    self.push(kind, start);
                }
                '>' => {
                    let kind = if self.eat('=') {
                        TokenKind::GreaterEqual
                    } else {
                        TokenKind::Greater
                    };
                    self.push(kind, start);
                }
                '=' if self.eat('=') => self.push(TokenKind::EqualEqual, start),
                '&' if self.eat('&') => self.push(TokenKind::And, start),
                '|' if self.eat('|') => self.push(TokenKind::Or, start),
                '\'' => self.string(start)?,
                c if c.is_whitespace() => {}
                // Includes a lone `=`, `&` or `|`: read to the next boundary
                // so the whole bad symbol is reported.
                _ => self.word(start)?,
            }
        }
        Ok(self.tokens)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.offset).copied()
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.offset += 1;
            true
        } else {
            false
        }
    }

    fn dot_is_property_operator(&self) -> bool {
        matches!(
            self.tokens.last().map(|token| &token.kind),
            Some(
                TokenKind::Identifier
                    | TokenKind::RightBracket
                    | TokenKind::RightParen
                    | TokenKind::Star
            )
        )
    }

    fn text(&self, start: usize) -> String {
        self.chars[start..self.offset].iter().collect()
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        let raw = self.text(start);
        self.tokens.push(Token { kind, raw, start });
    }

    fn unexpected(&self, raw: &str, start: usize) -> ExprError {
        ExprError::new(
            ErrorKind::Lexing,
            format!(
                "Unexpected symbol: '{raw}'. Located at position {} within expression: {}",
                start + 1,
                self.source
            ),
            Some(start + 1),
        )
    }

    /// A number runs to the next boundary, dots included (`1.2.3` is one bad
    /// number); its text must then be a number by GitHub's rules.
    fn number(&mut self, start: usize) -> Result<(), ExprError> {
        while let Some(c) = self.peek() {
            if is_boundary(c) && c != '.' {
                break;
            }
            self.offset += 1;
        }
        let raw = self.text(start);
        let value = parse_number(&raw);
        if value.is_nan() {
            return Err(self.unexpected(&raw, start));
        }
        self.tokens.push(Token {
            kind: TokenKind::Number(value),
            raw,
            start,
        });
        Ok(())
    }

    /// A single-quoted string; `''` stands for one quote.
    fn string(&mut self, start: usize) -> Result<(), ExprError> {
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    let raw = self.text(start);
                    return Err(self.unexpected(&raw, start));
                }
                Some('\'') => {
                    self.offset += 1;
                    if self.peek() == Some('\'') {
                        self.offset += 1;
                        value.push('\'');
                    } else {
                        break;
                    }
                }
                Some(c) => {
                    self.offset += 1;
                    value.push(c);
                }
            }
        }
        self.push(TokenKind::String(value), start);
        Ok(())
    }

    /// An identifier or keyword. After a `.` even `true` or `NaN` is just a
    /// property name.
    fn word(&mut self, start: usize) -> Result<(), ExprError> {
        while let Some(c) = self.peek() {
            if is_boundary(c) {
                break;
            }
            self.offset += 1;
        }
        let raw = self.text(start);
        if !is_legal_identifier(&raw) {
            return Err(self.unexpected(&raw, start));
        }
        let after_dot = matches!(
            self.tokens.last().map(|token| &token.kind),
            Some(TokenKind::Dot)
        );
        let kind = match raw.as_str() {
            _ if after_dot => TokenKind::Identifier,
            "null" => TokenKind::Null,
            "true" => TokenKind::True,
            "false" => TokenKind::False,
            "NaN" => TokenKind::Number(f64::NAN),
            "Infinity" => TokenKind::Number(f64::INFINITY),
            _ => TokenKind::Identifier,
        };
        self.tokens.push(Token { kind, raw, start });
        Ok(())
    }
}

/// Characters that end a number or identifier.
fn is_boundary(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | ')' | ']' | ',' | '.' | '!' | '>' | '<' | '=' | '&' | '|'
    ) || c.is_whitespace()
}

/// A letter or `_`, then letters, digits, `_` or `-` (ASCII only).
fn is_legal_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() || first == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    #[test]
    fn dot_after_a_name_is_an_operator_elsewhere_a_number() {
        assert_eq!(
            kinds("a.b"),
            vec![TokenKind::Identifier, TokenKind::Dot, TokenKind::Identifier]
        );
        assert_eq!(
            kinds("== .5"),
            vec![TokenKind::EqualEqual, TokenKind::Number(0.5)]
        );
        assert_eq!(
            kinds("a.true"),
            vec![TokenKind::Identifier, TokenKind::Dot, TokenKind::Identifier]
        );
    }

    #[test]
    fn strings_unescape_every_doubled_quote() {
        assert_eq!(kinds("'a''b''c'"), vec![TokenKind::String("a'b'c".into())]);
    }

    #[test]
    fn bad_symbols_are_reported_whole() {
        let error = tokenize("1 @abc 2").unwrap_err();
        assert_eq!(error.kind, ErrorKind::Lexing);
        assert_eq!(error.position, Some(3));
        assert!(error.message.starts_with("Unexpected symbol: '@abc'"));
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let tokens = tokenize("'ü' == x").unwrap();
        assert_eq!(tokens[1].position(), 5);
    }

    #[test]
    fn overlong_expressions_are_rejected() {
        let error = tokenize(&"a".repeat(MAX_EXPRESSION_LENGTH + 1)).unwrap_err();
        assert_eq!(error.message, "Exceeded max expression length 21000");
    }
}
