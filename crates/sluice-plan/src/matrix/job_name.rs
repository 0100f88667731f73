//! The display name GitHub gives each job of a matrix: `build (ubuntu, 18)`.

use sluice_expr::{Value, format_number};

/// GitHub truncates longer names to 97 characters and `...`.
const MAX_NAME_CHARS: usize = 100;

/// Names a job instance as GitHub does: the job's name, then the matrix
/// values in parentheses separated by `, `.
///
/// Values are walked depth first and only their scalar leaves appear, so
/// objects and arrays contribute their contents (`{version: 14}` shows as
/// `14`); null and empty strings are left out; numbers print as GitHub
/// prints them (`3.10` in YAML is the number 3.1, `1E+21` for 1e21). With no
/// values the name is the job name alone. Names longer than 100 characters
/// are cut to 97 plus `...`.
pub fn job_instance_name<'a>(
    job_name: &str,
    values: impl IntoIterator<Item = &'a Value>,
) -> String {
    let mut segments: Vec<String> = Vec::new();
    for value in values {
        // Iterative depth-first walk; children are pushed in reverse so
        // they come off the stack in order.
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            match value {
                Value::Null => {}
                Value::Boolean(flag) => segments.push(flag.to_string()),
                Value::Number(number) => segments.push(format_number(*number)),
                Value::String(text) if text.is_empty() => {}
                Value::String(text) => segments.push(text.clone()),
                Value::Array(items) => pending.extend(items.iter().rev()),
                Value::Object(entries) => pending.extend(entries.values().rev()),
            }
        }
    }
    let name = if segments.is_empty() {
        job_name.to_owned()
    } else {
        format!("{job_name} ({})", segments.join(", "))
    };
    if name.chars().count() > MAX_NAME_CHARS {
        let kept: String = name.chars().take(MAX_NAME_CHARS - 3).collect();
        format!("{kept}...")
    } else {
        name
    }
}
