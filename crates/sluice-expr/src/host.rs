//! What an evaluation needs from its surroundings: context values and the
//! functions only the runner can answer (`hashFiles`, `success()`, ...).

use indexmap::IndexMap;

use crate::ignore_case::eq_ignore_case;
use crate::value::Value;

/// Supplies contexts and host functions to [`evaluate`](crate::evaluate).
pub trait EvalHost {
    /// The value of a context, or `None` if the host has none (it then
    /// evaluates to null). `name` is the spelling the name was allowed
    /// under; hosts should still match it case-insensitively.
    fn context(&self, name: &str) -> Option<&Value>;

    /// Calls a host function that parsing allowed. An `Err` becomes an
    /// evaluation error with that message.
    fn call_host_function(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let _ = args;
        Err(format!("The function '{name}' is not available here"))
    }
}

type HostFn = Box<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// A host backed by a map of contexts and optional closures for functions;
/// for tests and `sluice expr`.
#[derive(Default)]
pub struct MapHost {
    contexts: IndexMap<String, Value>,
    functions: Vec<(String, HostFn)>,
}

impl MapHost {
    /// A host with no contexts and no functions.
    pub fn new() -> Self {
        MapHost::default()
    }

    /// A host whose contexts are the members of a JSON object, e.g.
    /// `{"github": {...}, "matrix": {...}}`; `None` if `json` is not an object.
    pub fn from_json(json: &serde_json::Value) -> Option<Self> {
        let entries = json.as_object()?;
        let contexts = entries
            .iter()
            .map(|(name, value)| (name.clone(), Value::from_json(value)))
            .collect();
        Some(MapHost {
            contexts,
            functions: Vec::new(),
        })
    }

    /// Adds or replaces a context.
    pub fn with_context(mut self, name: impl Into<String>, value: Value) -> Self {
        self.contexts.insert(name.into(), value);
        self
    }

    /// Answers calls of the host function `name` (matched ignoring case).
    pub fn with_function(
        mut self,
        name: impl Into<String>,
        function: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.functions.push((name.into(), Box::new(function)));
        self
    }

    /// The context names, in insertion order.
    pub fn context_names(&self) -> impl Iterator<Item = &str> {
        self.contexts.keys().map(String::as_str)
    }
}

impl EvalHost for MapHost {
    fn context(&self, name: &str) -> Option<&Value> {
        self.contexts.get(name).or_else(|| {
            self.contexts
                .iter()
                .find(|(candidate, _)| eq_ignore_case(candidate, name))
                .map(|(_, value)| value)
        })
    }

    fn call_host_function(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        match self
            .functions
            .iter()
            .find(|(candidate, _)| eq_ignore_case(candidate, name))
        {
            Some((_, function)) => function(args),
            None => Err(format!("The function '{name}' is not available here")),
        }
    }
}

impl std::fmt::Debug for MapHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapHost")
            .field("contexts", &self.contexts)
            .field(
                "functions",
                &self
                    .functions
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
