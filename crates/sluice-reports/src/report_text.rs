//! What every report reader checks first: a bounded size and UTF-8 text.

use crate::report_error::ReportError;

/// `bytes` as text, when they are at most `max_bytes` of UTF-8.
pub(crate) fn report_text(bytes: &[u8], max_bytes: usize) -> Result<&str, ReportError> {
    if bytes.len() > max_bytes {
        return Err(ReportError::at(
            bytes,
            0,
            format!("the report is larger than {} MiB", max_bytes >> 20),
        ));
    }
    std::str::from_utf8(bytes)
        .map_err(|e| ReportError::at(bytes, e.valid_up_to(), "the report is not UTF-8 text"))
}

/// Whether a DOCTYPE may stand in a report: only one that names an
/// external DTD, which is never fetched. An internal subset (`[...]`)
/// is where entities are declared (XXE, billion laughs), so it is refused.
pub(crate) fn harmless_doctype(content: &[u8]) -> bool {
    !content.contains(&b'[')
}
