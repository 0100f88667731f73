//! Typed, spanned values whose strings may hold `${{ }}` expressions.
//!
//! Many workflow keys are only known once a run is under way
//! (`runs-on: ${{ matrix.os }}`, `env`, `with`, a matrix built by
//! `fromJSON`). The model keeps such keys as tokens: the YAML value typed by
//! the core schema, with positions, evaluated against the run's contexts
//! when the executor needs them.

use indexmap::IndexMap;
use serde::Serialize;
use sluice_expr::{Allowed, EvalHost, ExprError, Template, Value};

use crate::scalar::{self, Typed};
use crate::source::Span;
use crate::yaml::{Node, NodeKind};

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Null,
    Boolean(bool),
    Number(f64),
    /// A string; it is a template when it contains `${{`.
    String(String),
    Sequence(Vec<Token>),
    /// Keys as written; a key may be an expression or `${{ insert }}`
    /// (see [`Token::evaluate`]).
    Mapping(Vec<(String, Span, Token)>),
}

impl Token {
    pub fn new(kind: TokenKind, span: Span) -> Self {
        Self { kind, span }
    }

    pub fn string(text: impl Into<String>, span: Span) -> Self {
        Self::new(TokenKind::String(text.into()), span)
    }

    /// Converts a YAML node. Tag mismatches (`!!int abc`) are reported to the
    /// caller through `on_tag_error`, and the scalar is kept as a string.
    pub fn from_node(
        node: &Node,
        on_tag_error: &mut dyn FnMut(Span, &scalar::TagMismatch),
    ) -> Self {
        let kind = match &node.kind {
            NodeKind::Scalar(s) => match scalar::resolve(s) {
                Ok(Typed::Null) => TokenKind::Null,
                Ok(Typed::Boolean(b)) => TokenKind::Boolean(b),
                Ok(Typed::Number(n)) => TokenKind::Number(n),
                Ok(Typed::String(text)) => TokenKind::String(text),
                Err(mismatch) => {
                    on_tag_error(node.span, &mismatch);
                    TokenKind::String(s.text.clone())
                }
            },
            NodeKind::Sequence(items) => TokenKind::Sequence(
                items
                    .iter()
                    .map(|n| Token::from_node(n, on_tag_error))
                    .collect(),
            ),
            NodeKind::Mapping(entries) => TokenKind::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = k.scalar_text().unwrap_or_default().to_string();
                        (key, k.span, Token::from_node(v, on_tag_error))
                    })
                    .collect(),
            ),
        };
        Token::new(kind, node.span)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// True when this token, or any string inside it, holds an expression.
    pub fn has_expression(&self) -> bool {
        match &self.kind {
            TokenKind::String(s) => s.contains("${{"),
            TokenKind::Sequence(items) => items.iter().any(Token::has_expression),
            TokenKind::Mapping(entries) => entries
                .iter()
                .any(|(k, _, v)| k.contains("${{") || v.has_expression()),
            _ => false,
        }
    }

    /// The value as JSON, expressions left as their text. Used to show
    /// plans and to hand literal values (no expressions) to the executor.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            TokenKind::Null => serde_json::Value::Null,
            TokenKind::Boolean(b) => serde_json::Value::Bool(*b),
            TokenKind::Number(n) => serde_json::Number::from_f64(*n)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(n.to_string())),
            TokenKind::String(s) => serde_json::Value::String(s.clone()),
            TokenKind::Sequence(items) => {
                serde_json::Value::Array(items.iter().map(Token::to_json).collect())
            }
            TokenKind::Mapping(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The entries of a mapping token.
    pub fn entries(&self) -> &[(String, Span, Token)] {
        match &self.kind {
            TokenKind::Mapping(entries) => entries,
            _ => &[],
        }
    }

    /// A mapping of strings (such as `env`) as an ordered map; non-string
    /// scalars are rendered as GitHub renders them in strings.
    pub fn string_map(&self) -> IndexMap<String, Token> {
        self.entries()
            .iter()
            .map(|(k, _, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// GitHub's rendering of a number inside a string.
pub fn number_to_string(n: f64) -> String {
    sluice_expr::format_number(n)
}

impl Token {
    /// Evaluates every expression in the token against `host`, using the
    /// contexts `allowed` permits. A string that is exactly one expression
    /// takes that expression's type (`${{ matrix.n }}` stays a number).
    pub fn evaluate(&self, host: &dyn EvalHost, allowed: &Allowed) -> Result<Value, ExprError> {
        Ok(match &self.kind {
            TokenKind::Null => Value::Null,
            TokenKind::Boolean(b) => Value::Boolean(*b),
            TokenKind::Number(n) => Value::Number(*n),
            TokenKind::String(s) if s.contains("${{") => {
                Template::parse(s, allowed)?.evaluate(host)?
            }
            TokenKind::String(s) => Value::String(s.clone()),
            TokenKind::Sequence(items) => Value::Array(
                items
                    .iter()
                    .map(|item| item.evaluate(host, allowed))
                    .collect::<Result<_, _>>()?,
            ),
            TokenKind::Mapping(entries) => {
                let mut object = IndexMap::new();
                for (key, key_span, value) in entries {
                    let value = value.evaluate(host, allowed)?;
                    match MappingKey::of(key) {
                        MappingKey::Insert => merge_insert(&mut object, value, *key_span)?,
                        MappingKey::Expression => {
                            let name = Template::parse(key, allowed)?.evaluate(host)?;
                            object.insert(name.to_display_string().into_owned(), value);
                        }
                        MappingKey::Literal => {
                            object.insert(key.clone(), value);
                        }
                    }
                }
                Value::Object(object)
            }
        })
    }

    /// Parses the token's templates once, for evaluating it many times
    /// (once per matrix instance, say).
    pub fn compile(&self, allowed: &Allowed) -> Result<CompiledToken, ExprError> {
        Ok(match &self.kind {
            TokenKind::String(s) if s.contains("${{") => {
                CompiledToken::Template(Template::parse(s, allowed)?)
            }
            TokenKind::Sequence(items) => CompiledToken::Sequence(
                items
                    .iter()
                    .map(|i| i.compile(allowed))
                    .collect::<Result<_, _>>()?,
            ),
            TokenKind::Mapping(entries) => CompiledToken::Mapping(
                entries
                    .iter()
                    .map(|(k, span, v)| {
                        let key = match MappingKey::of(k) {
                            MappingKey::Insert => CompiledKey::Insert(*span),
                            MappingKey::Expression => {
                                CompiledKey::Template(Template::parse(k, allowed)?)
                            }
                            MappingKey::Literal => CompiledKey::Literal(k.clone()),
                        };
                        Ok((key, v.compile(allowed)?))
                    })
                    .collect::<Result<_, ExprError>>()?,
            ),
            _ => CompiledToken::Literal(self.evaluate(&NoContexts, &Allowed::new())?),
        })
    }

    /// The value when the token holds no expression at all.
    pub fn literal_value(&self) -> Option<Value> {
        if self.has_expression() {
            return None;
        }
        self.evaluate(&NoContexts, &Allowed::new()).ok()
    }
}

/// A token with its templates parsed; see [`Token::compile`].
#[derive(Debug, Clone)]
pub enum CompiledToken {
    Literal(Value),
    Template(Template),
    Sequence(Vec<CompiledToken>),
    Mapping(Vec<(CompiledKey, CompiledToken)>),
}

/// A mapping key, compiled.
#[derive(Debug, Clone)]
pub enum CompiledKey {
    Literal(String),
    /// A key written as an expression, evaluated to the key's name.
    Template(Template),
    /// `${{ insert }}`: the value's entries join the mapping.
    Insert(Span),
}

/// What a mapping key written in a workflow means, in GitHub's template
/// language: a name, an expression that computes the name (evaluated where
/// the key's contexts are known, e.g. matrix keys when the job starts), or
/// `${{ insert }}`, whose value (a mapping) is merged into the mapping.
enum MappingKey {
    Literal,
    Expression,
    Insert,
}

impl MappingKey {
    fn of(key: &str) -> MappingKey {
        let inner = key
            .trim()
            .strip_prefix("${{")
            .and_then(|rest| rest.strip_suffix("}}"))
            .map(str::trim);
        match inner {
            Some(word) if word.eq_ignore_ascii_case("insert") => MappingKey::Insert,
            _ if key.contains("${{") => MappingKey::Expression,
            _ => MappingKey::Literal,
        }
    }
}

/// Merges the value of an `${{ insert }}` key into `object`; anything but a
/// mapping is an error that says where the key is.
fn merge_insert(
    object: &mut IndexMap<String, Value>,
    value: Value,
    span: Span,
) -> Result<(), ExprError> {
    match value {
        Value::Object(entries) => {
            object.extend(entries);
            Ok(())
        }
        other => Err(ExprError {
            kind: sluice_expr::ErrorKind::Evaluation,
            message: format!(
                "line {}, column {}: the value of `${{{{ insert }}}}` must be a mapping, not {}",
                span.line,
                span.col,
                other.kind_name()
            ),
            position: None,
        }),
    }
}

impl CompiledToken {
    pub fn evaluate(&self, host: &dyn EvalHost) -> Result<Value, ExprError> {
        Ok(match self {
            CompiledToken::Literal(value) => value.clone(),
            CompiledToken::Template(template) => template.evaluate(host)?,
            CompiledToken::Sequence(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.evaluate(host))
                    .collect::<Result<_, _>>()?,
            ),
            CompiledToken::Mapping(entries) => {
                let mut object = IndexMap::new();
                for (key, value) in entries {
                    let value = value.evaluate(host)?;
                    match key {
                        CompiledKey::Literal(name) => {
                            object.insert(name.clone(), value);
                        }
                        CompiledKey::Template(template) => {
                            let name = template.evaluate(host)?;
                            object.insert(name.to_display_string().into_owned(), value);
                        }
                        CompiledKey::Insert(span) => merge_insert(&mut object, value, *span)?,
                    }
                }
                Value::Object(object)
            }
        })
    }
}

struct NoContexts;

impl EvalHost for NoContexts {
    fn context(&self, _name: &str) -> Option<&Value> {
        None
    }
}
