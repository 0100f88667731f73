//! Step summaries (GitHub-flavoured Markdown) rendered for a terminal:
//! headings stand out, lists get bullets, tables are aligned, code is
//! indented, and emphasis markers are dropped.

/// Renders `markdown` as plain (optionally coloured) text.
pub fn render(markdown: &str, color: bool) -> String {
    let mut out = String::new();
    let mut in_code = false;
    let mut table: Vec<Vec<String>> = Vec::new();
    for line in markdown.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            flush_table(&mut table, &mut out);
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&format!("    {line}\n"));
            continue;
        }
        if trimmed.starts_with('|') && trimmed.ends_with('|') && trimmed.len() > 1 {
            let cells: Vec<String> = trimmed[1..trimmed.len() - 1]
                .split('|')
                .map(|c| inline(c.trim()))
                .collect();
            let is_rule = cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
            if !is_rule {
                table.push(cells);
            }
            continue;
        }
        flush_table(&mut table, &mut out);
        let heading = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&heading) && trimmed[heading..].starts_with(' ') {
            let text = inline(trimmed[heading..].trim());
            if color {
                out.push_str(&format!("\x1b[1m{text}\x1b[0m\n"));
            } else {
                out.push_str(&format!("{text}\n"));
            }
            if heading <= 2 {
                out.push_str(&format!("{}\n", "─".repeat(text.chars().count())));
            }
        } else if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            let indent = line.len() - line.trim_start().len();
            out.push_str(&format!("{}• {}\n", " ".repeat(indent), inline(item)));
        } else {
            out.push_str(&format!("{}\n", inline(line)));
        }
    }
    flush_table(&mut table, &mut out);
    out
}

/// Drops `**`, `__` and backticks, and turns `[text](url)` into `text (url)`.
fn inline(text: &str) -> String {
    let mut out = text.replace("**", "").replace("__", "").replace('`', "");
    while let (Some(open), Some(mid)) = (out.find('['), out.find("](")) {
        let Some(close) = out[mid..].find(')').map(|c| mid + c) else {
            break;
        };
        if open > mid {
            break;
        }
        let label = out[open + 1..mid].to_string();
        let url = out[mid + 2..close].to_string();
        out.replace_range(open..=close, &format!("{label} ({url})"));
    }
    out
}

fn flush_table(rows: &mut Vec<Vec<String>>, out: &mut String) {
    if rows.is_empty() {
        return;
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = (0..columns)
            .map(|c| {
                let cell = row.get(c).map(String::as_str).unwrap_or("");
                format!("{cell:width$}", width = widths[c])
            })
            .collect();
        out.push_str(&format!("  {}\n", cells.join("  ").trim_end()));
        if i == 0 && rows.len() > 1 {
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            out.push_str(&format!("  {}\n", rule.join("  ")));
        }
    }
    rows.clear();
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_headings_lists_tables_and_code() {
        let text = "## Results\n- **passed**: 3\n| name | time |\n|---|---|\n| a | 1s |\n| long name | 10s |\n```\nraw *text*\n```\nsee [docs](https://x)\n";
        let out = render(text, false);
        assert_eq!(
            out,
            "Results\n───────\n• passed: 3\n  name       time\n  ─────────  ────\n  a          1s\n  long name  10s\n    raw *text*\nsee docs (https://x)\n"
        );
    }
}
