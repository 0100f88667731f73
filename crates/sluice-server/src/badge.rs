//! A workflow's status as an SVG badge, for a README.

use sluice_store::Status;

/// What a badge says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeState {
    Passing,
    Failing,
    Running,
    Unknown,
}

impl BadgeState {
    /// The state a workflow's latest telling run gives it.
    pub fn of(status: Option<Status>) -> BadgeState {
        match status {
            Some(Status::Success) => BadgeState::Passing,
            Some(Status::Failure) => BadgeState::Failing,
            Some(Status::Running | Status::Queued) => BadgeState::Running,
            _ => BadgeState::Unknown,
        }
    }

    fn words_and_color(self) -> (&'static str, &'static str) {
        match self {
            BadgeState::Passing => ("passing", "#2da44e"),
            BadgeState::Failing => ("failing", "#cf222e"),
            BadgeState::Running => ("running", "#bf8700"),
            BadgeState::Unknown => ("unknown", "#6e7781"),
        }
    }
}

/// The SVG of a badge reading `label | state`.
pub fn svg(label: &str, state: BadgeState) -> String {
    let (words, color) = state.words_and_color();
    let label = escape(label);
    // Verdana 11px averages about 6.5 px a character.
    let width = |text: &str| 10 + (text.chars().count() as u32 * 65).div_ceil(10);
    let (left, right) = (width(&label), width(words));
    let total = left + right;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{label}: {words}"><title>{label}: {words}</title><rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" fill="{color}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="14">{label}</text><text x="{rx}" y="14">{words}</text></g></svg>"##,
        lx = left / 2,
        rx = left + right / 2,
    )
}

fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(60)
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            other => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_say_the_state_and_escape_the_label() {
        let passing = svg("CI", BadgeState::of(Some(Status::Success)));
        insta::assert_snapshot!("passing_badge", passing);
        assert!(passing.contains(">passing<") && passing.contains("#2da44e"));
        let odd = svg("<script>&", BadgeState::of(None));
        assert!(odd.contains("&lt;script&gt;&amp;") && !odd.contains("<script>"));
        assert!(odd.contains(">unknown<"));
        assert_eq!(BadgeState::of(Some(Status::Queued)), BadgeState::Running);
    }
}
