//! GitHub Actions' `${{ }}` expression language: lexing, parsing with
//! GitHub's diagnostics, and evaluation with GitHub's coercions and limits.
//!
//! ```
//! use sluice_expr::{parse, evaluate, Allowed, MapHost, Value};
//!
//! let host = MapHost::from_json(&serde_json::json!({"github": {"ref": "refs/heads/main"}})).unwrap();
//! let allowed = Allowed::everything_for_contexts(host.context_names());
//! let expr = parse("startsWith(github.ref, 'refs/heads/')", &allowed).unwrap();
//! assert_eq!(evaluate(&expr, &host).unwrap(), Value::Boolean(true));
//! ```
//!
//! The crate is pure: no I/O, no clock, no processes. Every input is safe to
//! parse and evaluate: depth, length and memory are bounded by GitHub's own
//! limits (see [`limits`]).

mod allowed;
mod ast;
mod comparison;
mod error;
mod evaluated;
mod evaluator;
mod functions;
mod host;
mod ignore_case;
mod json_text;
mod lexer;
pub mod limits;
mod memory;
mod number;
mod parser;
mod template;
mod token;
mod value;

pub use allowed::{Allowed, HostFunction};
pub use ast::{
    Callee, CompareOp, Expr, FunctionCallRef, IndexKey, Literal, NamedValueRef, Node, NodeKind,
};
pub use error::{ErrorKind, ExprError};
pub use evaluator::evaluate;
pub use functions::Builtin;
pub use host::{EvalHost, MapHost};
pub use ignore_case::{cmp_ignore_case, eq_ignore_case};
pub use number::{format_number, parse_number};
pub use parser::parse;
pub use template::{Segment, Template, TemplatePart, split_template};
pub use value::{Value, ValueKind};

/// Renders a value as GitHub's `toJSON` does (two-space indentation).
pub fn to_json_string(value: &Value) -> String {
    value.to_json_string()
}
