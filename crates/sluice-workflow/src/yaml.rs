//! YAML text to a tree of spanned nodes.
//!
//! The tree keeps every scalar's original text and style, so that the
//! meaning of `on`, `yes` or `010` is decided later by the key that holds the
//! value, never by the YAML library. It is built iteratively from the pull
//! parser's events, so deeply nested input cannot overflow the stack, and it
//! enforces the limits that keep hostile input cheap: file size, nesting
//! depth, and how many nodes aliases may copy (the "billion laughs" attack).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::Diagnostics;
use crate::source::{SourceFile, Span};

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The value after YAML unescaping and folding, before any typing.
    pub text: String,
    pub style: ScalarStyle,
    /// The resolved tag, e.g. `tag:yaml.org,2002:int`, when one was written.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl Node {
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar text when this node is a scalar.
    pub fn scalar_text(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.text.as_str())
    }

    /// What kind of node this is, for messages ("a sequence").
    pub fn describe(&self) -> &'static str {
        match self.kind {
            NodeKind::Scalar(_) => "a string",
            NodeKind::Sequence(_) => "a sequence",
            NodeKind::Mapping(_) => "a mapping",
        }
    }
}

/// Limits on what one file may make the loader do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in characters.
    pub max_file_chars: usize,
    /// Deepest accepted nesting of sequences and mappings; the top-level
    /// node is at depth 0, and reaching this depth is an error.
    pub max_depth: usize,
    /// How many nodes aliases may copy in total.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_chars: 1024 * 1024,
            max_depth: 100,
            max_alias_nodes: 100_000,
        }
    }
}

/// Loads the first YAML document of `source`. Returns `None` (with an error
/// recorded) when the text is not valid YAML or breaks a limit; an empty
/// file loads as `None` with an error too, since a workflow cannot be empty.
pub fn load(source: &Arc<SourceFile>, limits: &Limits, diags: &mut Diagnostics) -> Option<Node> {
    let chars = source.text.chars().count();
    if chars > limits.max_file_chars {
        diags
            .error(
                Span::NONE,
                format!(
                    "The maximum file size of {} characters has been exceeded",
                    limits.max_file_chars
                ),
            )
            .with_help(format!(
                "this file has {chars} characters; split it into several workflows or reusable workflows"
            ));
        return None;
    }
    let mut builder = TreeBuilder::new(source, limits, None);
    let mut parser = Parser::new_from_str(&source.text);
    let mut outcome = parser.load(&mut builder, false);
    // Indentation GitHub accepts and the library does not: read again
    // with the continuation lines indented (see `yaml_relax`).
    let relaxed = match &outcome {
        Err(e) if e.info().contains("invalid indentation") => {
            crate::yaml_relax::relax(&source.text)
        }
        _ => None,
    };
    if let Some(relaxed) = &relaxed {
        builder = TreeBuilder::new(source, limits, Some(relaxed));
        let mut parser = Parser::new_from_str(&relaxed.text);
        outcome = parser.load(&mut builder, false);
    }
    if let Some(failure) = builder.failure.take() {
        let d = diags.error(failure.span, failure.message);
        if let Some(help) = failure.help {
            d.with_help(help);
        }
        return None;
    }
    if let Err(e) = outcome {
        let marker = *e.marker();
        let span = builder.span(marker, 1);
        if e.info().contains("recursion limit") {
            // The scanner's own guard against deeply nested flow collections.
            diags
                .error(span, "Maximum object depth exceeded")
                .with_help("this value nests sequences or mappings too deeply");
            return None;
        }
        diags
            .error(span, format!("Invalid YAML: {}", e.info()))
            .with_help("check the indentation and quoting around this position");
        return None;
    }
    for (span, key) in builder.duplicate_keys {
        diags
            .error(span, format!("'{key}' is already defined"))
            .with_help("remove one of the two definitions");
    }
    for (span, tag) in builder.unknown_tags {
        diags
            .github_rejects(span, format!("Unexpected tag '{tag}'"))
            .with_help("only the standard tags !!str, !!int, !!float, !!bool and !!null are understood; the tag is ignored");
    }
    match builder.document {
        Some(node) => Some(node),
        None => {
            diags
                .error(Span::NONE, "The file is empty")
                .with_help("a workflow needs at least `on:` and `jobs:`");
            None
        }
    }
}

struct Failure {
    span: Span,
    message: String,
    help: Option<String>,
}

/// A container being filled while its events arrive.
enum Open {
    Sequence {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Mapping {
        span: Span,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        /// Scalar keys seen so far, to find duplicates in linear time.
        seen_keys: HashSet<String>,
    },
}

struct TreeBuilder<'a> {
    source: &'a Arc<SourceFile>,
    limits: &'a Limits,
    /// Set when the text parsed is the relaxed one.
    relaxed: Option<&'a crate::yaml_relax::Relaxed>,
    stack: Vec<Open>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    document: Option<Node>,
    documents_seen: usize,
    failure: Option<Failure>,
    duplicate_keys: Vec<(Span, String)>,
    unknown_tags: Vec<(Span, String)>,
}

impl<'a> TreeBuilder<'a> {
    fn new(
        source: &'a Arc<SourceFile>,
        limits: &'a Limits,
        relaxed: Option<&'a crate::yaml_relax::Relaxed>,
    ) -> Self {
        Self {
            source,
            limits,
            relaxed,
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            document: None,
            documents_seen: 0,
            failure: None,
            duplicate_keys: Vec::new(),
            unknown_tags: Vec::new(),
        }
    }

    fn fail(&mut self, span: Span, message: impl Into<String>, help: Option<String>) {
        if self.failure.is_none() {
            self.failure = Some(Failure {
                span,
                message: message.into(),
                help,
            });
        }
    }

    /// The span in the file as written (columns of a relaxed text are
    /// mapped back).
    fn span(&self, marker: Marker, len: usize) -> Span {
        let col = match self.relaxed {
            Some(relaxed) => relaxed.original_col(marker.line().saturating_sub(1), marker.col()),
            None => marker.col(),
        };
        self.source.span_at(marker.line(), col, len)
    }

    fn open(&mut self, container: Open, span: Span) {
        if self.stack.len() >= self.limits.max_depth {
            self.fail(
                span,
                "Maximum object depth exceeded",
                Some(format!(
                    "workflows may nest mappings and sequences at most {} levels deep",
                    self.limits.max_depth
                )),
            );
            return;
        }
        self.stack.push(container);
    }

    /// Hands a finished node to the container it belongs in.
    fn attach(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            let size = node_count(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                if self.documents_seen == 1 {
                    self.document = Some(node);
                }
            }
            Some(Open::Sequence { items, .. }) => items.push(node),
            Some(Open::Mapping {
                entries,
                pending_key,
                seen_keys,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => match key.scalar_text() {
                    Some(name) if !seen_keys.insert(name.to_string()) => {
                        self.duplicate_keys.push((key.span, name.to_string()));
                    }
                    _ => entries.push((key, node)),
                },
            },
        }
    }

    fn scalar_tag(&mut self, tag: Option<Tag>, span: Span) -> Option<String> {
        let tag = tag?;
        let full = format!("{}{}", tag.handle, tag.suffix);
        let known = matches!(
            full.strip_prefix("tag:yaml.org,2002:"),
            Some("str" | "int" | "float" | "bool" | "null")
        );
        if known {
            Some(full)
        } else {
            self.unknown_tags.push((span, full));
            None
        }
    }
}

impl MarkedEventReceiver for TreeBuilder<'_> {
    fn on_event(&mut self, event: Event, marker: Marker) {
        if self.failure.is_some() {
            return;
        }
        match event {
            Event::DocumentStart => self.documents_seen += 1,
            Event::Scalar(text, style, anchor, tag) => {
                let span = self.span(marker, scalar_source_len(&text, style));
                let tag = self.scalar_tag(tag, span);
                let style = match style {
                    TScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    TScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    TScalarStyle::Literal => ScalarStyle::Literal,
                    TScalarStyle::Folded => ScalarStyle::Folded,
                    _ => ScalarStyle::Plain,
                };
                let node = Node {
                    kind: NodeKind::Scalar(Scalar { text, style, tag }),
                    span,
                };
                self.attach(node, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                let span = self.span(marker, 1);
                self.open(
                    Open::Sequence {
                        span,
                        anchor,
                        items: Vec::new(),
                    },
                    span,
                );
            }
            Event::MappingStart(anchor, _) => {
                let span = self.span(marker, 1);
                self.open(
                    Open::Mapping {
                        span,
                        anchor,
                        entries: Vec::new(),
                        pending_key: None,
                        seen_keys: HashSet::new(),
                    },
                    span,
                );
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.stack.pop() else {
                    return;
                };
                let (node, anchor) = match open {
                    Open::Sequence {
                        span,
                        anchor,
                        items,
                    } => {
                        // Point at the first item, where the user sees the
                        // sequence begin; an empty one keeps the start marker.
                        let span = items.first().map_or(span, |n| n.span);
                        (
                            Node {
                                kind: NodeKind::Sequence(items),
                                span,
                            },
                            anchor,
                        )
                    }
                    Open::Mapping {
                        span,
                        anchor,
                        entries,
                        ..
                    } => {
                        // The scanner marks block mappings one character into
                        // the first key; the first key itself is what users
                        // (and GitHub's messages) point at.
                        let span = entries.first().map_or(span, |(k, _)| k.span);
                        (
                            Node {
                                kind: NodeKind::Mapping(entries),
                                span,
                            },
                            anchor,
                        )
                    }
                };
                self.attach(node, anchor);
            }
            Event::Alias(id) => {
                let span = self.span(marker, 1);
                let Some((node, size)) = self.anchors.get(&id).cloned() else {
                    self.fail(span, "Unknown alias", None);
                    return;
                };
                self.alias_nodes += size;
                if self.alias_nodes > self.limits.max_alias_nodes {
                    self.fail(
                        span,
                        "Aliases expand to too many values",
                        Some(format!(
                            "aliases may copy at most {} values in one file; this looks like an alias bomb",
                            self.limits.max_alias_nodes
                        )),
                    );
                    return;
                }
                if self.stack.len() + node_depth(&node) > self.limits.max_depth {
                    self.fail(span, "Maximum object depth exceeded", None);
                    return;
                }
                // The copy points where the alias is used, so that findings
                // inside it lead the reader to the anchor's text at least.
                self.attach(node, 0);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
}

/// Bytes the scalar likely occupies in the source, for underlining. Exact
/// for plain scalars on one line, a good approximation otherwise.
fn scalar_source_len(text: &str, style: TScalarStyle) -> usize {
    let first_line = text.lines().next().unwrap_or("").len();
    match style {
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => first_line + 2,
        TScalarStyle::Literal | TScalarStyle::Folded => 1,
        _ => first_line,
    }
}

fn node_count(node: &Node) -> usize {
    let mut count = 0;
    let mut pending = vec![node];
    while let Some(n) = pending.pop() {
        count += 1;
        match &n.kind {
            NodeKind::Scalar(_) => {}
            NodeKind::Sequence(items) => pending.extend(items),
            NodeKind::Mapping(entries) => {
                for (k, v) in entries {
                    pending.push(k);
                    pending.push(v);
                }
            }
        }
    }
    count
}

fn node_depth(node: &Node) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(node, 0usize)];
    while let Some((n, depth)) = pending.pop() {
        match &n.kind {
            NodeKind::Scalar(_) => {}
            NodeKind::Sequence(items) => {
                deepest = deepest.max(depth + 1);
                pending.extend(items.iter().map(|i| (i, depth + 1)));
            }
            NodeKind::Mapping(entries) => {
                deepest = deepest.max(depth + 1);
                pending.extend(entries.iter().map(|(_, v)| (v, depth + 1)));
            }
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, limits: Limits) -> (Option<Node>, Vec<String>) {
        let source = SourceFile::new("t.yml", text);
        let mut diags = Diagnostics::new(source.clone(), true);
        let node = load(&source, &limits, &mut diags);
        let messages = diags.into_sorted().into_iter().map(|d| d.short()).collect();
        (node, messages)
    }

    #[test]
    fn indentation_github_accepts_is_read_and_positions_stay_true() {
        // GitHub (like libyaml) reads a flow sequence whose entries and `]`
        // sit at or left of its key, and a double-quoted scalar continued
        // at column 1; both are common in public workflows.
        let text = "m:\n  os: [\n  a,\n  b\n]\nrun: \"echo one\ntwo\"\nbad: [x,\n  *nope]\n";
        let (node, errors) = load_str(text, Limits::default());
        assert_eq!(errors.len(), 1, "{errors:?}");
        // The error points at the file as written: line 9, column 3 (the
        // text read had three spaces more on that line).
        assert!(errors[0].contains("t.yml:9:3"), "{errors:?}");
        let text = "m:\n  os: [\n  a,\n  b\n]\nrun: \"echo one\ntwo\"\n";
        let (node2, errors) = load_str(text, Limits::default());
        assert!(errors.is_empty(), "{errors:?}");
        let _ = node;
        let root = node2.expect("a tree");
        let NodeKind::Mapping(entries) = &root.kind else {
            panic!("a mapping")
        };
        let run = &entries[1].1;
        assert_eq!(run.scalar_text(), Some("echo one two"));
        assert_eq!((run.span.line, run.span.col), (6, 6));
        let NodeKind::Mapping(inner) = &entries[0].1.kind else {
            panic!("a mapping")
        };
        let NodeKind::Sequence(items) = &inner[0].1.kind else {
            panic!("a sequence")
        };
        assert_eq!(items[1].scalar_text(), Some("b"));
        assert_eq!((items[1].span.line, items[1].span.col), (4, 3));
    }

    #[test]
    fn keeps_on_and_yes_as_text() {
        let (node, errors) = load_str("on: yes\nx: 010\n", Limits::default());
        assert!(errors.is_empty(), "{errors:?}");
        let NodeKind::Mapping(entries) = node.unwrap().kind else {
            panic!("not a mapping")
        };
        assert_eq!(entries[0].0.scalar_text(), Some("on"));
        assert_eq!(entries[0].1.scalar_text(), Some("yes"));
        assert_eq!(entries[1].1.scalar_text(), Some("010"));
    }

    #[test]
    fn mapping_points_at_its_first_key() {
        let (node, _) = load_str("a:\n  bb: 1\n", Limits::default());
        let NodeKind::Mapping(entries) = node.unwrap().kind else {
            panic!("not a mapping")
        };
        assert_eq!((entries[0].1.span.line, entries[0].1.span.col), (2, 3));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let (_, errors) = load_str("a: 1\nb: 2\na: 3\n", Limits::default());
        assert_eq!(errors, vec!["t.yml:3:1: error: 'a' is already defined"]);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            text.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let (node, errors) = load_str(&text, Limits::default());
        assert!(node.is_none());
        assert!(
            errors[0].contains("Aliases expand to too many values"),
            "{errors:?}"
        );
    }

    #[test]
    fn aliases_copy_the_anchored_value() {
        let (node, errors) = load_str("a: &x {k: v}\nb: *x\n", Limits::default());
        assert!(errors.is_empty(), "{errors:?}");
        let NodeKind::Mapping(entries) = node.unwrap().kind else {
            panic!("not a mapping")
        };
        assert_eq!(entries[0].1.kind, entries[1].1.kind);
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let (node, errors) = load_str(&text, Limits::default());
        assert!(node.is_none());
        assert!(
            errors[0].contains("Maximum object depth exceeded"),
            "{errors:?}"
        );
    }

    #[test]
    fn oversized_files_are_refused() {
        let limits = Limits {
            max_file_chars: 10,
            ..Limits::default()
        };
        let (node, errors) = load_str("on: push\njobs: {}\n", limits);
        assert!(node.is_none());
        assert!(errors[0].contains("maximum file size of 10 characters"));
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let (node, errors) = load_str("a: [1, 2\nb: 3\n", Limits::default());
        assert!(node.is_none());
        assert!(errors[0].starts_with("t.yml:"), "{errors:?}");
        assert!(errors[0].contains("Invalid YAML"), "{errors:?}");
    }
}
