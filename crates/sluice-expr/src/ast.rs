//! The parsed form of an expression, with source positions.

use crate::allowed::Allowed;
use crate::error::ExprError;
use crate::functions::Builtin;
use crate::host::EvalHost;
use crate::value::Value;

/// A parsed expression, ready to be evaluated any number of times.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub(crate) source: String,
    /// `None` for an empty (or all-whitespace) expression, which evaluates to null.
    pub(crate) root: Option<Node>,
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// 1-based character position of the token that introduced the node
    /// (the name of a call or named-value, the operator of `!`, `==`, `&&`,
    /// `[` or `.`, the first character of a literal).
    pub position: usize,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Literal(Literal),
    /// A context such as `github` or `matrix`.
    NamedValue {
        /// The name as written in the expression.
        name: String,
        /// The spelling it was allowed under, which is what the host is asked for.
        canonical: String,
    },
    /// `target.name`, `target[index]`, `target.*` or `target[*]`.
    Index {
        target: Box<Node>,
        key: IndexKey,
    },
    /// `!operand`
    Not(Box<Node>),
    /// `left <op> right` for `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Compare {
        operator: CompareOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    /// `a && b && ...`, flattened as GitHub flattens it.
    And(Vec<Node>),
    /// `a || b || ...`, flattened as GitHub flattens it.
    Or(Vec<Node>),
    /// A call of a built-in or host function.
    Call {
        /// The name as written in the expression.
        name: String,
        function: Callee,
        args: Vec<Node>,
    },
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Boolean(bool),
    Number(f64),
    String(String),
}

/// What an index operation selects.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKey {
    /// `.name`
    Property(String),
    /// `[expression]`
    Expression(Box<Node>),
    /// `.*` or `[*]`: every element, as a filtered array.
    Wildcard,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// The function a call resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callee {
    /// One of GitHub's built-in functions, evaluated by this crate.
    Builtin(Builtin),
    /// A function answered by the [`EvalHost`](crate::EvalHost); the name is
    /// the one it was allowed under (so `HASHFILES()` calls `hashFiles`).
    Host(String),
}

/// A reference to a context in an expression, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedValueRef<'e> {
    /// The name as written.
    pub name: &'e str,
    /// 1-based character position of the name.
    pub position: usize,
}

/// A function call in an expression, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionCallRef<'e> {
    /// The name as written.
    pub name: &'e str,
    /// 1-based character position of the name.
    pub position: usize,
    /// How many arguments the call passes.
    pub arg_count: usize,
    /// Whether the host answers the call (`false` for built-ins).
    pub is_host_function: bool,
}

impl Expr {
    /// Parses an expression; see [`parse`](crate::parse).
    pub fn parse(source: &str, allowed: &Allowed) -> Result<Expr, ExprError> {
        crate::parser::parse(source, allowed)
    }

    /// Evaluates the expression; see [`evaluate`](crate::evaluate).
    pub fn evaluate(&self, host: &dyn EvalHost) -> Result<Value, ExprError> {
        crate::evaluator::evaluate(self, host)
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The root node; `None` when the expression is empty.
    pub fn root(&self) -> Option<&Node> {
        self.root.as_ref()
    }

    /// Every named-value (context) the expression reads, in source order,
    /// including those in branches that short-circuiting may skip.
    pub fn named_values(&self) -> impl Iterator<Item = NamedValueRef<'_>> {
        self.nodes_in_source_order()
            .filter_map(|node| match &node.kind {
                NodeKind::NamedValue { name, .. } => Some(NamedValueRef {
                    name,
                    position: node.position,
                }),
                _ => None,
            })
    }

    /// The properties read directly on a context, with their positions:
    /// for `needs.build.result` and `needs['build']` with context `needs`,
    /// `build`. Matches the context name ignoring case.
    pub fn context_properties<'e>(
        &'e self,
        context: &'e str,
    ) -> impl Iterator<Item = (&'e str, usize)> + 'e {
        self.nodes_in_source_order().filter_map(move |node| {
            let NodeKind::Index { target, key } = &node.kind else {
                return None;
            };
            let NodeKind::NamedValue { name, .. } = &target.kind else {
                return None;
            };
            if !name.eq_ignore_ascii_case(context) {
                return None;
            }
            match key {
                IndexKey::Property(property) => Some((property.as_str(), node.position)),
                IndexKey::Expression(index) => match &index.kind {
                    NodeKind::Literal(Literal::String(property)) => {
                        Some((property.as_str(), node.position))
                    }
                    _ => None,
                },
                IndexKey::Wildcard => None,
            }
        })
    }

    /// Every function call in the expression, in source order.
    pub fn function_calls(&self) -> impl Iterator<Item = FunctionCallRef<'_>> {
        self.nodes_in_source_order()
            .filter_map(|node| match &node.kind {
                NodeKind::Call {
                    name,
                    function,
                    args,
                } => Some(FunctionCallRef {
                    name,
                    position: node.position,
                    arg_count: args.len(),
                    is_host_function: matches!(function, Callee::Host(_)),
                }),
                _ => None,
            })
    }

    /// All nodes, ordered by where they start in the source.
    fn nodes_in_source_order(&self) -> impl Iterator<Item = &Node> {
        // An explicit stack rather than recursion: cheap, and the order is
        // fixed up by sorting on position (stable for equal positions).
        let mut nodes = Vec::new();
        let mut stack: Vec<&Node> = self.root.iter().collect();
        while let Some(node) = stack.pop() {
            nodes.push(node);
            match &node.kind {
                NodeKind::Literal(_) | NodeKind::NamedValue { .. } => {}
                NodeKind::Index { target, key } => {
                    stack.push(target);
                    if let IndexKey::Expression(index) = key {
                        stack.push(index);
                    }
                }
                NodeKind::Not(operand) => stack.push(operand),
                NodeKind::Compare { left, right, .. } => {
                    stack.push(left);
                    stack.push(right);
                }
                NodeKind::And(operands) | NodeKind::Or(operands) => stack.extend(operands),
                NodeKind::Call { args, .. } => stack.extend(args),
            }
        }
        nodes.sort_by_key(|node| node.position);
        nodes.into_iter()
    }
}
