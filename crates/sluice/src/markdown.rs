//! Step summaries (GitHub-flavoured Markdown) rendered for a terminal.
//!
//! The text is parsed by a CommonMark parser with GitHub's extensions
//! (tables, strikethrough, task lists), so lists nest and number as
//! written, quotes and fences of either kind work, and `|` escaped inside
//! a table cell stays in its cell. The events are then laid out as text:
//! headings stand out (bold, the first two levels underlined), lists get
//! bullets or their numbers, quotes a bar, code is indented, tables are
//! aligned by display width, links show their address, and HTML is
//! reduced to its text (`<details>` shows its `<summary>` as a heading
//! of its own).

use pulldown_cmark::{Alignment, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::terminal_text::{display_width, inert};

/// Renders `markdown` as plain (optionally coloured) text.
pub fn render(markdown: &str, color: bool) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut renderer = Renderer {
        color,
        ..Renderer::default()
    };
    for event in Parser::new_ext(markdown, options) {
        renderer.event(event);
    }
    renderer.finish()
}

#[derive(Default)]
struct Renderer {
    color: bool,
    out: String,
    /// The text of the block being built (a paragraph, heading, item...).
    line: String,
    /// One entry per open list: the next number, or `None` for bullets.
    lists: Vec<Option<u64>>,
    /// Open block quotes.
    quotes: usize,
    /// Inside a code block.
    code: bool,
    /// Heading level being built.
    heading: Option<HeadingLevel>,
    /// The table being built: rows of cells, the current row and cell.
    table: Option<Table>,
    /// Link destinations of the open links.
    links: Vec<String>,
}

#[derive(Default)]
struct Table {
    alignments: Vec<Alignment>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    head_rows: usize,
}

impl Renderer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => self.text(&code),
            Event::InlineHtml(html) | Event::Html(html) => self.html(&html),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.flush_line(),
            Event::Rule => {
                self.flush_line();
                let rule = "─".repeat(20);
                self.push_line(&rule);
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(name) => self.text(&format!("[{name}]")),
            Event::InlineMath(text) | Event::DisplayMath(text) => self.text(&text),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {}
            Tag::Heading { level, .. } => {
                self.flush_line();
                self.heading = Some(level);
            }
            Tag::BlockQuote(_) => {
                self.flush_line();
                self.quotes += 1;
            }
            Tag::CodeBlock(_) => {
                self.flush_line();
                self.code = true;
            }
            Tag::List(first) => {
                self.flush_line();
                self.lists.push(first);
            }
            Tag::Item => {
                self.flush_line();
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(number)) => {
                        let marker = format!("{number}. ");
                        *number += 1;
                        marker
                    }
                    _ => "• ".to_string(),
                };
                self.line.push_str(&"  ".repeat(depth));
                self.line.push_str(&marker);
            }
            Tag::Table(alignments) => {
                self.flush_line();
                self.table = Some(Table {
                    alignments,
                    ..Table::default()
                });
            }
            Tag::TableHead | Tag::TableRow | Tag::TableCell => {}
            Tag::Emphasis => self.style("3"),
            Tag::Strong => self.style("1"),
            Tag::Strikethrough => self.style("9"),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.links.push(dest_url.to_string());
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush_line();
                if self.lists.is_empty() && self.quotes == 0 {
                    self.out.push('\n');
                }
            }
            TagEnd::Heading(level) => {
                let text = std::mem::take(&mut self.line);
                let width = display_width(&text);
                let shown = if self.color {
                    format!("\u{1b}[1m{text}\u{1b}[0m")
                } else {
                    text
                };
                self.push_line(&shown);
                if matches!(level, HeadingLevel::H1 | HeadingLevel::H2) {
                    self.push_line(&"─".repeat(width));
                }
                self.heading = None;
            }
            TagEnd::BlockQuote(_) => {
                self.flush_line();
                self.quotes = self.quotes.saturating_sub(1);
            }
            TagEnd::CodeBlock => {
                let code = std::mem::take(&mut self.line);
                for line in code.trim_end_matches('\n').split('\n') {
                    self.push_line(&format!("    {line}"));
                }
                self.code = false;
            }
            TagEnd::List(_) => {
                self.flush_line();
                self.lists.pop();
            }
            TagEnd::Item => self.flush_line(),
            TagEnd::TableCell => {
                if let Some(table) = &mut self.table {
                    let cell = std::mem::take(&mut self.line);
                    table.row.push(cell.trim().to_string());
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(table) = &mut self.table {
                    let row = std::mem::take(&mut table.row);
                    table.rows.push(row);
                    if tag == TagEnd::TableHead {
                        table.head_rows = table.rows.len();
                    }
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.render_table(&table);
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => self.style("0"),
            TagEnd::Link | TagEnd::Image => {
                if let Some(url) = self.links.pop()
                    && !url.is_empty()
                    && !self.line.ends_with(url.as_str())
                {
                    self.line.push_str(&format!(" ({url})"));
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        self.line.push_str(text);
    }

    /// HTML is reduced to its text; a `<summary>` (of `<details>`) becomes
    /// a line of its own with a marker, `<br>` a line break.
    fn html(&mut self, html: &str) {
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            self.line.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('>') else {
                self.line.push_str(&rest[open..]);
                return;
            };
            let tag = rest[open + 1..open + close]
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let closing = rest[open + 1..].starts_with('/');
            match (tag.as_str(), closing) {
                ("summary", false) => {
                    self.flush_line();
                    self.line.push_str("▸ ");
                }
                ("summary" | "details" | "p" | "div" | "br" | "li" | "tr", _) => self.flush_line(),
                _ => {}
            }
            rest = &rest[open + close + 1..];
        }
        self.line.push_str(rest);
        if html.ends_with('\n') && !self.code {
            self.flush_line();
        }
    }

    fn style(&mut self, code: &str) {
        if self.color && self.table.is_none() {
            self.line.push_str(&format!("\u{1b}[{code}m"));
        }
    }

    /// Ends the line being built, if any.
    fn flush_line(&mut self) {
        if self.code || self.heading.is_some() || self.table.is_some() {
            return;
        }
        let line = std::mem::take(&mut self.line);
        if !line.trim().is_empty() {
            self.push_line(line.trim_end());
        }
    }

    fn push_line(&mut self, line: &str) {
        for _ in 0..self.quotes {
            self.out.push_str("│ ");
        }
        self.out.push_str(line);
        self.out.push('\n');
    }

    fn render_table(&mut self, table: &Table) {
        let columns = table.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                table
                    .rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| display_width(s))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (i, row) in table.rows.iter().enumerate() {
            let cells: Vec<String> = (0..columns)
                .map(|c| {
                    let cell = row.get(c).map(String::as_str).unwrap_or("");
                    let pad = widths[c].saturating_sub(display_width(cell));
                    match table.alignments.get(c) {
                        Some(Alignment::Right) => format!("{}{cell}", " ".repeat(pad)),
                        Some(Alignment::Center) => {
                            format!("{}{cell}{}", " ".repeat(pad / 2), " ".repeat(pad - pad / 2))
                        }
                        _ => format!("{cell}{}", " ".repeat(pad)),
                    }
                })
                .collect();
            self.push_line(&format!("  {}", cells.join("  ").trim_end()));
            if i + 1 == table.head_rows && table.rows.len() > table.head_rows {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                self.push_line(&format!("  {}", rule.join("  ")));
            }
        }
        self.out.push('\n');
    }

    fn finish(mut self) -> String {
        self.flush_line();
        let text = self.out.trim_end().to_string() + "\n";
        inert(&text, self.color).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_headings_lists_tables_and_code() {
        let text = "## Results\n- **passed**: 3\n\n| name | time |\n|---|--:|\n| a | 1s |\n| long name | 10s |\n\n```\nraw *text*\n```\nsee [docs](https://x)\n";
        let out = render(text, false);
        assert_eq!(
            out,
            "Results\n───────\n• passed: 3\n  name       time\n  ─────────  ────\n  a            1s\n  long name   10s\n\n    raw *text*\nsee docs (https://x)\n"
        );
    }

    #[test]
    fn what_a_line_based_reader_got_wrong() {
        let cases = [
            // Ordered lists keep their numbers, nested lists nest.
            (
                "3. three\n4. four\n   - inner\n",
                "3. three\n4. four\n  • inner\n",
            ),
            // Quotes are marked.
            ("> quoted\n> still\n", "│ quoted still\n"),
            // `~~~` fences are code.
            ("~~~\n# not a heading\n~~~\n", "    # not a heading\n"),
            // An escaped `|` stays inside its cell.
            (
                "| a | b |\n|---|---|\n| x \\| y | z |\n",
                "  a      b\n  ─────  ─\n  x | y  z\n",
            ),
            // HTML: details and summary.
            (
                "<details><summary>Logs</summary>\n\nhidden text\n\n</details>\n",
                "▸ Logs\nhidden text\n",
            ),
            // Strikethrough markers are not shown.
            ("~~gone~~ kept\n", "gone kept\n"),
        ];
        for (markdown, expected) in cases {
            assert_eq!(render(markdown, false), expected, "{markdown:?}");
        }
    }

    #[test]
    fn escapes_in_a_summary_are_inert() {
        let out = render("title \u{1b}]0;x\u{7} end\n", false);
        assert!(!out.contains('\u{1b}'), "{out:?}");
    }
}
