//! A bounded walk over untrusted XML for the readers that only need
//! elements, their attributes and text: the text must be UTF-8 and of a
//! bounded size, elements nest to a bounded depth, a DOCTYPE may name an
//! external DTD (never fetched: JaCoCo writes one) but may not declare
//! anything, only XML's predefined entities are decoded, and a file cut
//! off inside an element is an error. Errors say where.

use crate::report_error::ContentError;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::report_error::ReportError;
use crate::report_text::{harmless_doctype, report_text};

/// What a reader does with what the walk meets. `open` and `close`
/// come in pairs, also for an empty element.
pub(crate) trait XmlVisitor {
    /// An element opens at `depth` (the root is 0). An `Err` is the
    /// reason the file is not this kind of report.
    fn open(&mut self, element: &BytesStart, depth: usize) -> Result<(), ContentError>;
    fn close(&mut self, _depth: usize) {}
    /// Text directly inside the innermost open element.
    fn text(&mut self, _text: &str) {}
}

pub(crate) struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

pub(crate) fn walk(
    bytes: &[u8],
    limits: &Limits,
    visitor: &mut impl XmlVisitor,
) -> Result<(), ReportError> {
    let text = report_text(bytes, limits.max_bytes)?;
    let mut reader = Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    let mut seen_root = false;
    loop {
        let position = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ReportError::at(
                bytes,
                reader.error_position() as usize,
                format!("not well-formed XML: {e}"),
            )
        })?;
        let at = |problem: ContentError| ReportError::at(bytes, position, problem);
        match event {
            Event::Start(_) | Event::Empty(_) if open.is_empty() && seen_root => {
                return Err(at("a second root element".into()));
            }
            Event::Start(element) => {
                visitor.open(&element, open.len()).map_err(at)?;
                seen_root = true;
                open.push(String::from_utf8_lossy(element.name().as_ref()).into_owned());
                if open.len() > limits.max_depth {
                    return Err(at(format!(
                        "elements nest deeper than {}",
                        limits.max_depth
                    )
                    .into()));
                }
            }
            Event::Empty(element) => {
                visitor.open(&element, open.len()).map_err(at)?;
                visitor.close(open.len());
                seen_root = true;
            }
            Event::End(_) => {
                open.pop();
                visitor.close(open.len());
            }
            Event::Text(content) => {
                if !open.is_empty() {
                    let decoded = content
                        .unescape()
                        .map_err(|e| at(format!("bad text: {e}").into()))?;
                    visitor.text(&decoded);
                }
            }
            Event::CData(content) => {
                if !open.is_empty() {
                    visitor.text(&String::from_utf8_lossy(&content));
                }
            }
            Event::DocType(content) => {
                if !harmless_doctype(&content) {
                    return Err(at(
                        "a DOCTYPE that declares entities is not allowed (they could read files or expand without bound)".into(),
                    ));
                }
            }
            Event::Eof => {
                if let Some(inside) = open.last() {
                    return Err(ReportError::at(
                        bytes,
                        bytes.len(),
                        format!("the file ends inside <{inside}> (it was cut off)"),
                    ));
                }
                break;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !seen_root {
        return Err(ReportError::at(
            bytes,
            bytes.len(),
            "the file has no XML element",
        ));
    }
    Ok(())
}

/// The values of attributes `keys` (entities decoded), in one pass over
/// the element's attributes; the first of a repeated attribute wins.
pub(crate) fn attributes<const N: usize>(
    element: &BytesStart,
    keys: [&[u8]; N],
) -> Result<[Option<String>; N], String> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| format!("a malformed attribute: {e}"))?;
        let Some(at) = keys.iter().position(|k| *k == attribute.key.as_ref()) else {
            continue;
        };
        if values[at].is_none() {
            let value = attribute
                .unescape_value()
                .map_err(|e| format!("attribute {}: {e}", String::from_utf8_lossy(keys[at])))?;
            values[at] = Some(value.into_owned());
        }
    }
    Ok(values)
}
