//! Builds the tree of an expression from its tokens, checking names against
//! what is [`Allowed`] and enforcing GitHub's depth limit.
//!
//! Precedence, loosest first: `||`, `&&`, `==` `!=`, `<` `<=` `>` `>=`, `!`,
//! then `.`/`[]` (only after a name, a call or a parenthesised group).
//!
//! The depth limit is GitHub's: a tree deeper than [`MAX_DEPTH`] levels (a
//! leaf counts as one level; parentheses add none) is rejected. Each node's
//! height is checked as it is built, so even a long left-nested chain like
//! `a.b.c...` or `1 == 1 == 1 ...` never produces a deep tree. Separately,
//! the number of constructs open at once (`(`, `!`, call arguments, `[`) is
//! capped at the same number, which bounds the parser's own recursion.

use crate::allowed::Allowed;
use crate::ast::{Callee, CompareOp, Expr, IndexKey, Literal, Node, NodeKind};
use crate::error::{ErrorKind, ExprError};
use crate::functions::Builtin;
use crate::lexer::tokenize;
use crate::limits::MAX_DEPTH;
use crate::token::{Token, TokenKind};

/// Parses an expression (the text inside `${{ }}`, or an `if:` condition).
/// An empty or all-whitespace expression is valid and evaluates to null.
pub fn parse(source: &str, allowed: &Allowed) -> Result<Expr, ExprError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        source,
        tokens,
        next: 0,
        allowed,
        open: 0,
    };
    let root = if parser.tokens.is_empty() {
        None
    } else {
        let root = parser.expression()?;
        if let Some(token) = parser.peek() {
            return Err(parser.unexpected_symbol(token));
        }
        Some(root.node)
    };
    Ok(Expr {
        source: source.to_owned(),
        root,
    })
}

/// A node with the height of the tree below it (a leaf is 1).
struct Sub {
    node: Node,
    height: usize,
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    next: usize,
    allowed: &'a Allowed,
    /// Constructs currently open, to bound recursion.
    open: usize,
}

impl Parser<'_> {
    fn expression(&mut self) -> Result<Sub, ExprError> {
        self.or()
    }

    fn or(&mut self) -> Result<Sub, ExprError> {
        self.logical(TokenKind::Or, Self::and, NodeKind::Or, |kind| match kind {
            NodeKind::Or(operands) => Ok(operands),
            other => Err(other),
        })
    }

    fn and(&mut self) -> Result<Sub, ExprError> {
        self.logical(
            TokenKind::And,
            Self::equality,
            NodeKind::And,
            |kind| match kind {
                NodeKind::And(operands) => Ok(operands),
                other => Err(other),
            },
        )
    }

    /// A chain of `&&` or `||` becomes one node with all operands; an
    /// operand that is itself the same operator (from parentheses) is
    /// flattened into it, as GitHub does.
    fn logical(
        &mut self,
        operator: TokenKind,
        operand: fn(&mut Self) -> Result<Sub, ExprError>,
        build: fn(Vec<Node>) -> NodeKind,
        same_operator: fn(NodeKind) -> Result<Vec<Node>, NodeKind>,
    ) -> Result<Sub, ExprError> {
        let first = operand(self)?;
        let Some(position) = self
            .peek()
            .filter(|token| token.kind == operator)
            .map(Token::position)
        else {
            return Ok(first);
        };
        let mut operands = Vec::new();
        let mut child_height = 0;
        let mut add = |sub: Sub| {
            let Sub { node, height } = sub;
            match same_operator(node.kind) {
                Ok(inner) => {
                    // The flattened operands sat one level below `sub`.
                    child_height = child_height.max(height - 1);
                    operands.extend(inner);
                }
                Err(kind) => {
                    child_height = child_height.max(height);
                    operands.push(Node {
                        kind,
                        position: node.position,
                    });
                }
            }
        };
        add(first);
        while self.eat(&operator).is_some() {
            add(operand(self)?);
        }
        self.build(build(operands), position, child_height)
    }

    fn equality(&mut self) -> Result<Sub, ExprError> {
        self.binary(Self::comparison, |kind| match kind {
            TokenKind::EqualEqual => Some(CompareOp::Equal),
            TokenKind::BangEqual => Some(CompareOp::NotEqual),
            _ => None,
        })
    }

    fn comparison(&mut self) -> Result<Sub, ExprError> {
        self.binary(Self::unary, |kind| match kind {
            TokenKind::Less => Some(CompareOp::Less),
            TokenKind::LessEqual => Some(CompareOp::LessOrEqual),
            TokenKind::Greater => Some(CompareOp::Greater),
            TokenKind::GreaterEqual => Some(CompareOp::GreaterOrEqual),
            _ => None,
        })
    }

    /// Left-associative comparison operators.
    fn binary(
        &mut self,
        operand: fn(&mut Self) -> Result<Sub, ExprError>,
        operator_of: fn(&TokenKind) -> Option<CompareOp>,
    ) -> Result<Sub, ExprError> {
        let mut left = operand(self)?;
        while let Some((operator, position)) = self
            .peek()
            .and_then(|token| Some((operator_of(&token.kind)?, token.position())))
        {
            self.next += 1;
            let right = operand(self)?;
            let height = left.height.max(right.height);
            let kind = NodeKind::Compare {
                operator,
                left: Box::new(left.node),
                right: Box::new(right.node),
            };
            left = self.build(kind, position, height)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Sub, ExprError> {
        let Some(bang) = self.eat(&TokenKind::Bang) else {
            return self.postfix();
        };
        let position = bang.position();
        self.enter()?;
        let operand = self.unary()?;
        self.leave();
        self.build(
            NodeKind::Not(Box::new(operand.node)),
            position,
            operand.height,
        )
    }

    /// `.name`, `.*`, `[index]` and `[*]` after a name, call or group.
    fn postfix(&mut self) -> Result<Sub, ExprError> {
        let (mut target, indexable) = self.primary()?;
        if !indexable {
            return Ok(target);
        }
        loop {
            if let Some(bracket) = self.eat(&TokenKind::LeftBracket) {
                let (key, key_height) = if self.eat(&TokenKind::Star).is_some() {
                    (IndexKey::Wildcard, 1)
                } else {
                    self.enter()?;
                    let index = self.expression()?;
                    self.leave();
                    (IndexKey::Expression(Box::new(index.node)), index.height)
                };
                self.expect(&TokenKind::RightBracket)?;
                target = self.index(target, key, key_height, bracket.position())?;
            } else if let Some(dot) = self.eat(&TokenKind::Dot) {
                let key = match self.peek() {
                    Some(Token {
                        kind: TokenKind::Identifier,
                        raw,
                        ..
                    }) => IndexKey::Property(raw.clone()),
                    Some(Token {
                        kind: TokenKind::Star,
                        ..
                    }) => IndexKey::Wildcard,
                    Some(token) => return Err(self.unexpected_symbol(token)),
                    None => return Err(self.unexpected_end()),
                };
                self.next += 1;
                target = self.index(target, key, 1, dot.position())?;
            } else {
                return Ok(target);
            }
        }
    }

    fn index(
        &self,
        target: Sub,
        key: IndexKey,
        key_height: usize,
        position: usize,
    ) -> Result<Sub, ExprError> {
        let height = target.height.max(key_height);
        let kind = NodeKind::Index {
            target: Box::new(target.node),
            key,
        };
        self.build(kind, position, height)
    }

    /// A literal, a group, a named-value or a call; the flag says whether
    /// `.` and `[]` may follow (GitHub does not allow them after literals).
    fn primary(&mut self) -> Result<(Sub, bool), ExprError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected_end());
        };
        let position = token.position();
        let literal = match &token.kind {
            TokenKind::Null => Some(Literal::Null),
            TokenKind::True => Some(Literal::Boolean(true)),
            TokenKind::False => Some(Literal::Boolean(false)),
            TokenKind::Number(n) => Some(Literal::Number(*n)),
            TokenKind::String(s) => Some(Literal::String(s.clone())),
            _ => None,
        };
        if let Some(literal) = literal {
            self.next += 1;
            return Ok((leaf(NodeKind::Literal(literal), position), false));
        }
        match token.kind {
            TokenKind::LeftParen => {
                self.next += 1;
                self.enter()?;
                let inner = self.expression()?;
                self.leave();
                if self.peek().is_none() {
                    return Err(self.unexpected_end());
                }
                self.expect(&TokenKind::RightParen)?;
                Ok((inner, true))
            }
            TokenKind::Identifier => {
                let name = token.clone();
                self.next += 1;
                if self.eat(&TokenKind::LeftParen).is_some() {
                    Ok((self.call(name)?, true))
                } else {
                    Ok((self.named_value(name)?, true))
                }
            }
            _ => Err(self.unexpected_symbol(token)),
        }
    }

    fn named_value(&self, name: Token) -> Result<Sub, ExprError> {
        let Some(canonical) = self.allowed.named_value(&name.raw).map(str::to_owned) else {
            return Err(self.error_at("Unrecognized named-value", &name));
        };
        let position = name.position();
        Ok(leaf(
            NodeKind::NamedValue {
                name: name.raw,
                canonical,
            },
            position,
        ))
    }

    /// A call; the opening parenthesis has been consumed.
    fn call(&mut self, name: Token) -> Result<Sub, ExprError> {
        // The name is checked before the arguments, so errors are reported
        // left to right.
        let (function, min_args, max_args, odd_args) = match Builtin::lookup(&name.raw) {
            Some(builtin) => (
                Callee::Builtin(builtin),
                builtin.min_args(),
                builtin.max_args(),
                builtin.requires_odd_args(),
            ),
            None => match self.allowed.host_function(&name.raw) {
                Some(host) => (Callee::Host(host.name), host.min_args, host.max_args, false),
                None => return Err(self.error_at("Unrecognized function", &name)),
            },
        };

        self.enter()?;
        let mut args = Vec::new();
        let mut height = 0;
        if self.eat(&TokenKind::RightParen).is_none() {
            loop {
                let arg = self.expression()?;
                height = height.max(arg.height);
                args.push(arg.node);
                if self.eat(&TokenKind::RightParen).is_some() {
                    break;
                }
                self.expect(&TokenKind::Comma)?;
            }
        }
        self.leave();

        if args.len() < min_args {
            return Err(self.error_at("Too few parameters supplied", &name));
        }
        if args.len() > max_args {
            return Err(self.error_at("Too many parameters supplied", &name));
        }
        if odd_args && args.len() % 2 == 0 {
            return Err(self.error_at(
                "Even number of parameters supplied, requires an odd number of parameters",
                &name,
            ));
        }
        let position = name.position();
        let kind = NodeKind::Call {
            name: name.raw,
            function,
            args,
        };
        self.build(kind, position, height)
    }

    /// A node above children whose tallest is `child_height` high.
    fn build(
        &self,
        kind: NodeKind,
        position: usize,
        child_height: usize,
    ) -> Result<Sub, ExprError> {
        let height = child_height + 1;
        if height > MAX_DEPTH {
            return Err(depth_exceeded());
        }
        Ok(Sub {
            node: Node { kind, position },
            height,
        })
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.open += 1;
        if self.open > MAX_DEPTH {
            return Err(depth_exceeded());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.open -= 1;
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    /// Consumes the next token if it is of `kind`.
    fn eat(&mut self, kind: &TokenKind) -> Option<Token> {
        let token = self.peek().filter(|token| &token.kind == kind)?.clone();
        self.next += 1;
        Some(token)
    }

    fn expect(&mut self, kind: &TokenKind) -> Result<(), ExprError> {
        match self.peek() {
            Some(token) if &token.kind == kind => {
                self.next += 1;
                Ok(())
            }
            Some(token) => Err(self.unexpected_symbol(token)),
            None => Err(self.unexpected_end()),
        }
    }

    fn unexpected_symbol(&self, token: &Token) -> ExprError {
        self.error_at("Unexpected symbol", token)
    }

    /// The input ended too early; GitHub reports the last token.
    fn unexpected_end(&self) -> ExprError {
        match self.tokens.last() {
            Some(last) => self.error_at("Unexpected end of expression", last),
            None => ExprError::new(ErrorKind::Parsing, "Unexpected end of expression", None),
        }
    }

    fn error_at(&self, description: &str, token: &Token) -> ExprError {
        ExprError::new(
            ErrorKind::Parsing,
            format!(
                "{description}: '{}'. Located at position {} within expression: {}",
                token.raw,
                token.position(),
                self.source
            ),
            Some(token.position()),
        )
    }
}

fn leaf(kind: NodeKind, position: usize) -> Sub {
    Sub {
        node: Node { kind, position },
        height: 1,
    }
}

fn depth_exceeded() -> ExprError {
    ExprError::new(
        ErrorKind::Parsing,
        format!("Exceeded max expression depth {MAX_DEPTH}"),
        None,
    )
}
