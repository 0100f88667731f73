//! Walks a parsed expression and computes its value.
//!
//! Recursion is safe: the parser guarantees the tree is at most
//! [`MAX_DEPTH`](crate::limits::MAX_DEPTH) levels deep. Memory is charged
//! per node against GitHub's budget (see [`crate::memory`]).

use std::borrow::Cow;

use crate::ast::{Callee, CompareOp, Expr, IndexKey, Literal, Node, NodeKind};
use crate::comparison::{greater_than, less_than, loose_equal};
use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::functions;
use crate::host::EvalHost;
use crate::memory::{MemoryBudget, max_string_len};
use crate::number::parse_number;
use crate::value::{Value, ValueKind, find_key};

/// Evaluates `expr` against the contexts and functions of `host`.
pub fn evaluate(expr: &Expr, host: &dyn EvalHost) -> Result<Value, ExprError> {
    let Some(root) = expr.root() else {
        return Ok(Value::Null);
    };
    let mut evaluator = Evaluator {
        host,
        source: expr.source(),
        memory: MemoryBudget::new(),
    };
    Ok(evaluator.eval(root, 0)?.into_value())
}

pub(crate) struct Evaluator<'h, 's> {
    host: &'h dyn EvalHost,
    source: &'s str,
    memory: MemoryBudget,
}

impl<'h> Evaluator<'h, '_> {
    /// Evaluates `node`, which sits at depth `level` of the tree.
    fn eval(&mut self, node: &Node, level: usize) -> Result<Evaluated<'h>, ExprError> {
        let result = match &node.kind {
            NodeKind::Literal(literal) => Evaluated::owned(match literal {
                Literal::Null => Value::Null,
                Literal::Boolean(b) => Value::Boolean(*b),
                Literal::Number(n) => Value::Number(*n),
                Literal::String(s) => Value::String(s.clone()),
            }),
            NodeKind::NamedValue { canonical, .. } => match self.host.context(canonical) {
                Some(value) => Evaluated::Value(Cow::Borrowed(value)),
                None => Evaluated::owned(Value::Null),
            },
            NodeKind::Index { target, key } => self.index(target, key, level)?,
            NodeKind::Not(operand) => {
                let operand = self.eval(operand, level + 1)?;
                Evaluated::owned(Value::Boolean(!operand.is_truthy()))
            }
            NodeKind::Compare {
                operator,
                left,
                right,
            } => {
                let left = self.eval(left, level + 1)?;
                let right = self.eval(right, level + 1)?;
                let (left, right) = (left.operand(), right.operand());
                let result = match operator {
                    CompareOp::Equal => loose_equal(left, right),
                    CompareOp::NotEqual => !loose_equal(left, right),
                    CompareOp::Less => less_than(left, right),
                    CompareOp::LessOrEqual => loose_equal(left, right) || less_than(left, right),
                    CompareOp::Greater => greater_than(left, right),
                    CompareOp::GreaterOrEqual => {
                        loose_equal(left, right) || greater_than(left, right)
                    }
                };
                Evaluated::owned(Value::Boolean(result))
            }
            NodeKind::And(operands) => self.short_circuit(operands, level, false)?,
            NodeKind::Or(operands) => self.short_circuit(operands, level, true)?,
            NodeKind::Call { function, args, .. } => match function {
                Callee::Builtin(builtin) => functions::call(
                    *builtin,
                    &mut Args {
                        evaluator: self,
                        nodes: args,
                        level,
                        position: node.position,
                    },
                )?,
                Callee::Host(name) => self.call_host(name, args, level, node.position)?,
            },
        };
        self.memory
            .charge(level, result.memory_bytes())
            .map_err(|_| self.memory_exceeded(node.position))?;
        Ok(result)
    }

    /// `&&` (stop at the first falsy operand) and `||` (stop at the first
    /// truthy one); the operand where evaluation stopped is the result.
    fn short_circuit(
        &mut self,
        operands: &[Node],
        level: usize,
        stop_when: bool,
    ) -> Result<Evaluated<'h>, ExprError> {
        let mut last = Evaluated::owned(Value::Null);
        for operand in operands {
            last = self.eval(operand, level + 1)?;
            if last.is_truthy() == stop_when {
                break;
            }
        }
        Ok(last)
    }

    fn call_host(
        &mut self,
        name: &str,
        args: &[Node],
        level: usize,
        position: usize,
    ) -> Result<Evaluated<'h>, ExprError> {
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(self.eval(arg, level + 1)?.into_value());
        }
        match self.host.call_host_function(name, &values) {
            Ok(value) => Ok(Evaluated::owned(value)),
            Err(message) => Err(ExprError::evaluation(message, position)),
        }
    }

    /// `target[key]`, `target.key`, `target.*`. The key is evaluated only if
    /// the target is an array or object, as on GitHub.
    fn index(
        &mut self,
        target: &Node,
        key: &IndexKey,
        level: usize,
    ) -> Result<Evaluated<'h>, ExprError> {
        let target = self.eval(target, level + 1)?;
        if !matches!(target.kind(), ValueKind::Array | ValueKind::Object) {
            return Ok(match key {
                IndexKey::Wildcard => Evaluated::Filtered(Vec::new()),
                _ => Evaluated::owned(Value::Null),
            });
        }
        let selector = match key {
            IndexKey::Wildcard => Selector::Wildcard,
            IndexKey::Property(name) => Selector::from_text(name),
            IndexKey::Expression(index) => Selector::from_evaluated(&self.eval(index, level + 1)?),
        };
        Ok(match target {
            // Indexing a filtered array indexes each of its elements and
            // keeps what is found, flattening one level for wildcards.
            Evaluated::Filtered(items) => Evaluated::Filtered(
                items
                    .into_iter()
                    .flat_map(|item| match &selector {
                        Selector::Wildcard => elements(item),
                        _ => select(item, &selector).into_iter().collect(),
                    })
                    .collect(),
            ),
            Evaluated::Value(value) => match &selector {
                Selector::Wildcard => Evaluated::Filtered(elements(value)),
                _ => select(value, &selector)
                    .map_or_else(|| Evaluated::owned(Value::Null), Evaluated::Value),
            },
        })
    }

    fn memory_exceeded(&self, position: usize) -> ExprError {
        ExprError::evaluation(
            format!(
                "The maximum allowed memory size was exceeded while evaluating the following expression: {}",
                self.source
            ),
            position,
        )
    }
}

/// How an index value selects: objects by the key's string form, arrays by
/// its number form (floored; negative, NaN and huge indexes select nothing).
enum Selector {
    Wildcard,
    Key {
        text: Option<String>,
        integer: Option<usize>,
    },
}

impl Selector {
    fn from_text(text: &str) -> Self {
        Selector::Key {
            text: Some(text.to_owned()),
            integer: array_index(parse_number(text)),
        }
    }

    fn from_evaluated(index: &Evaluated<'_>) -> Self {
        Selector::Key {
            // Arrays and objects have no string form usable as a key.
            text: index
                .is_primitive()
                .then(|| index.to_display_string().into_owned()),
            integer: array_index(index.to_number()),
        }
    }
}

fn array_index(number: f64) -> Option<usize> {
    if number.is_nan() || number < 0.0 {
        return None;
    }
    let floored = number.floor();
    // GitHub indexes with 32-bit integers.
    (floored <= f64::from(i32::MAX)).then_some(floored as usize)
}

/// The element `selector` picks from `container`, borrowing from borrowed
/// containers and moving out of owned ones.
fn select<'h>(container: Cow<'h, Value>, selector: &Selector) -> Option<Cow<'h, Value>> {
    let Selector::Key { text, integer } = selector else {
        return None;
    };
    match container {
        Cow::Borrowed(Value::Array(items)) => integer.and_then(|i| items.get(i)).map(Cow::Borrowed),
        Cow::Borrowed(Value::Object(entries)) => {
            let index = find_key(entries, text.as_deref()?)?;
            Some(Cow::Borrowed(&entries[index]))
        }
        Cow::Owned(Value::Array(mut items)) => {
            let i = (*integer)?;
            (i < items.len()).then(|| Cow::Owned(items.swap_remove(i)))
        }
        Cow::Owned(Value::Object(mut entries)) => {
            let index = find_key(&entries, text.as_deref()?)?;
            entries
                .swap_remove_index(index)
                .map(|(_, value)| Cow::Owned(value))
        }
        _ => None,
    }
}

/// Every element of an array or every property value of an object; nothing
/// for other values.
fn elements(container: Cow<'_, Value>) -> Vec<Cow<'_, Value>> {
    match container {
        Cow::Borrowed(Value::Array(items)) => items.iter().map(Cow::Borrowed).collect(),
        Cow::Borrowed(Value::Object(entries)) => entries.values().map(Cow::Borrowed).collect(),
        Cow::Owned(Value::Array(items)) => items.into_iter().map(Cow::Owned).collect(),
        Cow::Owned(Value::Object(entries)) => entries.into_values().map(Cow::Owned).collect(),
        _ => Vec::new(),
    }
}

/// The unevaluated arguments of a built-in call, evaluated on demand.
pub(crate) struct Args<'a, 'h, 's> {
    evaluator: &'a mut Evaluator<'h, 's>,
    nodes: &'a [Node],
    /// Depth of the call node; arguments sit one level deeper.
    level: usize,
    /// Position of the call, for errors.
    position: usize,
}

impl<'h> Args<'_, 'h, '_> {
    /// Number of arguments passed.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Evaluates argument `index` (which the parser's arity check guarantees exists).
    pub(crate) fn eval(&mut self, index: usize) -> Result<Evaluated<'h>, ExprError> {
        self.evaluator.eval(&self.nodes[index], self.level + 1)
    }

    /// An evaluation error located at the call.
    pub(crate) fn error(&self, message: impl Into<String>) -> ExprError {
        ExprError::evaluation(message, self.position)
    }

    /// The longest string the call may build before the memory budget is exceeded.
    pub(crate) fn string_limit(&self) -> usize {
        max_string_len(self.evaluator.memory.remaining_at(self.level))
    }

    /// The error for a result that would not fit the memory budget.
    pub(crate) fn memory_exceeded(&self) -> ExprError {
        self.evaluator.memory_exceeded(self.position)
    }
}
