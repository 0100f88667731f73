//! Reading YAML nodes into model values, reporting what does not fit.
//!
//! Every `parse::*` module reads through a [`Reader`], so that the wording
//! of type errors, unknown keys, missing keys and misplaced expressions is
//! the same everywhere and each finding carries a position and advice.

use crate::contexts::Availability;
use crate::diagnostic::Diagnostics;
use crate::expressions;
use crate::model::{Condition, Dialect, Spanned};
use crate::scalar::{self, Typed};
use crate::source::Span;
use crate::suggest;
use crate::token::{Token, TokenKind};
use crate::yaml::{Node, NodeKind};

pub(crate) struct Reader<'a> {
    pub diags: &'a mut Diagnostics,
    pub dialect: Dialect,
}

/// The entries of a mapping whose keys were checked against a schema.
pub(crate) struct Fields<'n> {
    pub span: Span,
    entries: Vec<(&'n str, Span, &'n Node)>,
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, s, _)| *s)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn keys(&self) -> impl Iterator<Item = &'n str> + '_ {
        self.entries.iter().map(|(k, _, _)| *k)
    }
}

/// What kind of value a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    String,
    NonEmptyString,
    Boolean,
    Number,
    /// A string, boolean or number.
    Scalar,
    /// A mapping whose values are strings (`env`, `with`).
    StringMap,
    /// A string, or a sequence of strings.
    StringOrSequence,
    /// Anything.
    Any,
}

impl Reader<'_> {
    /// The entries of `node` if it is a mapping, else a type error.
    pub fn mapping<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n [(Node, Node)]> {
        match &node.kind {
            NodeKind::Mapping(entries) => Some(entries),
            _ => {
                self.not_expected(node, key, "a mapping");
                None
            }
        }
    }

    /// The entries of `node` if it is a sequence, else a type error.
    pub fn sequence<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Sequence(items) => Some(items),
            _ => {
                self.not_expected(node, key, "a sequence");
                None
            }
        }
    }

    pub fn not_expected(&mut self, node: &Node, key: &str, wanted: &str) {
        let message = match &node.kind {
            NodeKind::Sequence(_) => "A sequence was not expected".to_string(),
            NodeKind::Mapping(_) => "A mapping was not expected".to_string(),
            NodeKind::Scalar(s) => format!("Unexpected value '{}'", s.text),
        };
        self.diags
            .error(node.span, message)
            .with_help(format!("`{key}` takes {wanted}, not {}", node.describe()));
    }

    /// Reads a mapping's keys: every key must be a plain string; keys not in
    /// `known` draw an "unknown key" finding with the nearest valid key;
    /// keys in `extensions` are Sluice's own and draw a portability warning
    /// in `.github/workflows`.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        known: &[&str],
        extensions: &[&str],
    ) -> Option<Fields<'n>> {
        let entries = self.mapping(node, key)?;
        let mut fields = Fields {
            span: node.span,
            entries: Vec::with_capacity(entries.len()),
        };
        for (k, v) in entries {
            let Some(name) = self.key(k) else { continue };
            if known.contains(&name) {
                fields.entries.push((name, k.span, v));
            } else if extensions.contains(&name) {
                if self.dialect == Dialect::GitHub {
                    self.diags
                        .github_rejects(
                            k.span,
                            format!("`{name}` is a Sluice extension that GitHub does not accept"),
                        )
                        .with_help(
                            "GitHub will reject this workflow; move it to .sluice/workflows to use Sluice's extensions",
                        );
                }
                fields.entries.push((name, k.span, v));
            } else {
                self.unknown_key(k.span, name, key, known.iter().chain(extensions).copied());
            }
        }
        Some(fields)
    }

    pub fn unknown_key<'k>(
        &mut self,
        span: Span,
        name: &str,
        parent: &str,
        valid: impl Iterator<Item = &'k str> + Clone,
    ) {
        let help = match suggest::nearest(name, valid.clone()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => {
                let list: Vec<&str> = valid.collect();
                format!("valid keys in `{parent}` are: {}", list.join(", "))
            }
        };
        self.diags
            .github_rejects(span, format!("Unexpected value '{name}'"))
            .with_help(help);
    }

    /// A mapping key as a string; expressions and non-scalar keys are errors.
    pub fn key<'n>(&mut self, key: &'n Node) -> Option<&'n str> {
        let Some(text) = key.scalar_text() else {
            self.diags
                .error(key.span, "A mapping key must be a string")
                .with_help("write the key as plain text");
            return None;
        };
        if text.contains("${{") {
            self.expression_not_allowed(key.span);
            return None;
        }
        Some(text)
    }

    pub fn expression_not_allowed(&mut self, span: Span) {
        self.diags
            .error(span, "A template expression is not allowed in this context")
            .with_help("this value is read before any context exists; write it literally");
    }

    pub fn required(&mut self, fields: &Fields, key: &str) {
        if !fields.has(key) {
            self.diags
                .error(fields.span, format!("Required property is missing: {key}"))
                .with_help(format!("add `{key}:` here"));
        }
    }

    /// A scalar read as text, with no expressions allowed. Numbers and
    /// booleans are accepted in their written form.
    pub fn literal_string(&mut self, node: &Node, key: &str) -> Option<Spanned<String>> {
        let NodeKind::Scalar(s) = &node.kind else {
            self.not_expected(node, key, "a string");
            return None;
        };
        if s.text.contains("${{") {
            self.expression_not_allowed(node.span);
            return None;
        }
        let text = match scalar::resolve(s) {
            Ok(Typed::Null) => String::new(),
            _ => s.text.clone(),
        };
        Some(Spanned::new(text, node.span))
    }

    pub fn literal_non_empty(&mut self, node: &Node, key: &str) -> Option<Spanned<String>> {
        let text = self.literal_string(node, key)?;
        if text.value.is_empty() {
            self.diags
                .error(node.span, format!("`{key}` must not be empty"))
                .with_help(format!("give `{key}` a value or remove it"));
            return None;
        }
        Some(text)
    }

    /// A string or a sequence of strings, no expressions (filters, `needs`).
    pub fn literal_list(&mut self, node: &Node, key: &str) -> Vec<Spanned<String>> {
        match &node.kind {
            NodeKind::Sequence(items) => items
                .iter()
                .filter_map(|item| self.literal_non_empty(item, key))
                .collect(),
            NodeKind::Scalar(_) => self.literal_non_empty(node, key).into_iter().collect(),
            NodeKind::Mapping(_) => {
                self.not_expected(node, key, "a string or a sequence of strings");
                Vec::new()
            }
        }
    }

    /// A literal boolean (`true`/`false`), no expressions.
    pub fn literal_bool(&mut self, node: &Node, key: &str) -> Option<bool> {
        match self.typed(node) {
            Some(Typed::Boolean(b)) => Some(b),
            _ => {
                self.not_expected(node, key, "true or false");
                None
            }
        }
    }

    /// A literal number, no expressions.
    pub fn literal_number(&mut self, node: &Node, key: &str) -> Option<f64> {
        match self.typed(node) {
            Some(Typed::Number(n)) => Some(n),
            _ => {
                self.not_expected(node, key, "a number");
                None
            }
        }
    }

    fn typed(&mut self, node: &Node) -> Option<Typed> {
        let s = node.as_scalar()?;
        match scalar::resolve(s) {
            Ok(t) => Some(t),
            Err(m) => {
                self.tag_mismatch(node.span, &m);
                None
            }
        }
    }

    fn tag_mismatch(&mut self, span: Span, m: &scalar::TagMismatch) {
        self.diags
            .error(span, format!("'{}' is not a valid !!{}", m.text, m.tag))
            .with_help("remove the tag or correct the value");
    }

    /// A value that may hold expressions using `avail`'s contexts, checked
    /// against the shape `expect`.
    pub fn token(&mut self, node: &Node, key: &str, expect: Expect, avail: &Availability) -> Token {
        let mut tag_errors = Vec::new();
        let token = Token::from_node(node, &mut |span, m| tag_errors.push((span, m.clone())));
        for (span, m) in tag_errors {
            self.tag_mismatch(span, &m);
        }
        self.check_shape(node, &token, key, expect);
        self.check_expressions(&token, avail);
        token
    }

    fn check_shape(&mut self, node: &Node, token: &Token, key: &str, expect: Expect) {
        let whole_expression = token.as_str().is_some_and(|s| s.contains("${{"));
        let fits = match (&token.kind, expect) {
            (_, Expect::Any) => true,
            (_, _) if whole_expression => true,
            (
                TokenKind::Sequence(_) | TokenKind::Mapping(_),
                Expect::String | Expect::NonEmptyString | Expect::Scalar,
            ) => false,
            (TokenKind::String(s), Expect::NonEmptyString) => !s.is_empty(),
            (TokenKind::Null, Expect::NonEmptyString) => false,
            (_, Expect::String | Expect::NonEmptyString | Expect::Scalar) => true,
            (TokenKind::Boolean(_), Expect::Boolean) => true,
            (TokenKind::Number(_), Expect::Number) => true,
            (TokenKind::Mapping(entries), Expect::StringMap) => {
                for (name, _, value) in entries {
                    if matches!(value.kind, TokenKind::Sequence(_) | TokenKind::Mapping(_)) {
                        self.diags
                            .error(
                                value.span,
                                format!("A {} was not expected", describe(value)),
                            )
                            .with_help(format!(
                                "values in `{key}` are strings; `{name}` holds {}",
                                describe(value)
                            ));
                    } else {
                        self.warn_number_text(node, name, value);
                    }
                }
                true
            }
            (TokenKind::Sequence(items), Expect::StringOrSequence) => items
                .iter()
                .all(|i| !matches!(i.kind, TokenKind::Sequence(_) | TokenKind::Mapping(_))),
            (TokenKind::Mapping(_), Expect::StringOrSequence) => false,
            (_, Expect::StringOrSequence) => true,
            _ => false,
        };
        if !fits {
            let wanted = match expect {
                Expect::String | Expect::Scalar => "a string",
                Expect::NonEmptyString => "a non-empty string",
                Expect::Boolean => "true, false or an expression",
                Expect::Number => "a number or an expression",
                Expect::StringMap => "a mapping of names to strings",
                Expect::StringOrSequence => "a string or a sequence of strings",
                Expect::Any => "a value",
            };
            if matches!(token.kind, TokenKind::Null) && expect == Expect::NonEmptyString {
                self.diags
                    .error(node.span, format!("`{key}` must not be empty"))
                    .with_help(format!("give `{key}` a value or remove it"));
            } else {
                self.not_expected(node, key, wanted);
            }
        }
    }

    /// YAML reads `3.10` as the number 3.1 and `010` as 10; where a string
    /// is meant (env values, versions) that silently changes the value.
    fn warn_number_text(&mut self, map_node: &Node, name: &str, value: &Token) {
        let TokenKind::Number(n) = value.kind else {
            return;
        };
        let Some(written) = find_value_text(map_node, name) else {
            return;
        };
        let rendered = crate::token::number_to_string(n);
        if written != rendered && !written.starts_with('+') {
            self.diags
                .warning(
                    value.span,
                    format!("`{written}` is read as the number {rendered}"),
                )
                .with_help(format!(
                    "quote it ('{written}') if you mean the text {written}"
                ));
        }
    }

    /// Checks every string in `token` that holds `${{ }}`.
    pub fn check_expressions(&mut self, token: &Token, avail: &Availability) {
        match &token.kind {
            TokenKind::String(s) if s.contains("${{") => {
                expressions::check_template(s, token.span, avail, self.diags);
            }
            TokenKind::Sequence(items) => {
                for item in items {
                    self.check_expressions(item, avail);
                }
            }
            TokenKind::Mapping(entries) => {
                for (_, _, value) in entries {
                    self.check_expressions(value, avail);
                }
            }
            _ => {}
        }
    }

    /// A token whose parts the caller has already checked.
    pub fn unchecked_token(&mut self, node: &Node) -> Token {
        Token::from_node(node, &mut |_, _| {})
    }

    /// A token where no expression may appear.
    pub fn literal_token(&mut self, node: &Node) -> Token {
        let mut tag_errors = Vec::new();
        let token = Token::from_node(node, &mut |span, m| tag_errors.push((span, m.clone())));
        for (span, m) in tag_errors {
            self.tag_mismatch(span, &m);
        }
        self.reject_expressions(&token);
        token
    }

    fn reject_expressions(&mut self, token: &Token) {
        match &token.kind {
            TokenKind::String(s) if s.contains("${{") => self.expression_not_allowed(token.span),
            TokenKind::Sequence(items) => items.iter().for_each(|i| self.reject_expressions(i)),
            TokenKind::Mapping(entries) => entries
                .iter()
                .for_each(|(_, _, v)| self.reject_expressions(v)),
            _ => {}
        }
    }

    /// An `if:` value, normalised as GitHub does.
    pub fn condition(&mut self, node: &Node, avail: &Availability) -> Condition {
        let text = match &node.kind {
            NodeKind::Scalar(s) => match scalar::resolve(s) {
                Ok(Typed::Null) => return Condition::default_success(),
                Ok(Typed::Boolean(b)) => b.to_string(),
                Ok(Typed::Number(_)) | Ok(Typed::String(_)) | Err(_) => s.text.clone(),
            },
            _ => {
                self.not_expected(node, "if", "an expression");
                return Condition::default_success();
            }
        };
        expressions::condition(&text, node.span, avail, self.diags)
    }
}

fn describe(token: &Token) -> &'static str {
    match token.kind {
        TokenKind::Sequence(_) => "sequence",
        TokenKind::Mapping(_) => "mapping",
        _ => "value",
    }
}

fn find_value_text<'n>(map_node: &'n Node, name: &str) -> Option<&'n str> {
    let NodeKind::Mapping(entries) = &map_node.kind else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.scalar_text() == Some(name))
        .and_then(|(_, v)| v.scalar_text())
}
