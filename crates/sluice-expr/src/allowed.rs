//! Which contexts and host functions an expression may use.
//!
//! GitHub allows different contexts in different places (`matrix` is not
//! available in `on:`, `secrets` not in `runs-on`, ...), and rejects an
//! expression that names anything else when the workflow is loaded, not when
//! it runs. The caller describes the place with an [`Allowed`].

use std::collections::HashMap;

/// A function the host evaluates, with the argument counts it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFunction {
    /// The canonical spelling, passed to [`EvalHost::call_host_function`](crate::EvalHost::call_host_function).
    pub name: String,
    pub min_args: usize,
    pub max_args: usize,
}

/// The named-values (contexts) and host functions an expression may use.
/// Built-in functions (`contains`, `format`, `toJSON`, ...) are always allowed.
/// Names match case-insensitively, as on GitHub.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// Lowercased name -> canonical spelling.
    named_values: HashMap<String, String>,
    /// Lowercased name -> function.
    functions: HashMap<String, HostFunction>,
    /// Syntax-only mode: any name is accepted.
    unknown_names: bool,
}

impl Allowed {
    /// Nothing but built-in functions and literals.
    pub fn new() -> Self {
        Allowed::default()
    }

    /// Every named-value and every function name is accepted, host functions
    /// with any number of arguments. For checking syntax alone (GitHub's
    /// "allow unknown keywords" mode) and for fuzzing; evaluating such an
    /// expression asks the host about whatever names it contains.
    pub fn any() -> Self {
        Allowed {
            unknown_names: true,
            ..Allowed::default()
        }
    }

    /// The given contexts plus the host functions GitHub offers in steps:
    /// `hashFiles` (one or more arguments) and the status functions
    /// `success`, `always`, `failure`, `cancelled` (none).
    pub fn everything_for_contexts<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut allowed = Allowed::new().with_named_values(names);
        allowed.add_function("hashFiles", 1, usize::MAX);
        for status in ["success", "always", "failure", "cancelled"] {
            allowed.add_function(status, 0, 0);
        }
        allowed
    }

    /// Adds one named-value.
    pub fn with_named_value(mut self, name: impl Into<String>) -> Self {
        self.add_named_value(name);
        self
    }

    /// Adds several named-values.
    pub fn with_named_values<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for name in names {
            self.add_named_value(name);
        }
        self
    }

    /// Adds a host function accepting `min_args..=max_args` arguments.
    pub fn with_function(
        mut self,
        name: impl Into<String>,
        min_args: usize,
        max_args: usize,
    ) -> Self {
        self.add_function(name, min_args, max_args);
        self
    }

    /// Adds one named-value in place.
    pub fn add_named_value(&mut self, name: impl Into<String>) {
        let name = name.into();
        self.named_values.insert(name.to_ascii_lowercase(), name);
    }

    /// Adds a host function in place.
    pub fn add_function(&mut self, name: impl Into<String>, min_args: usize, max_args: usize) {
        let name = name.into();
        self.functions.insert(
            name.to_ascii_lowercase(),
            HostFunction {
                name,
                min_args,
                max_args,
            },
        );
    }

    /// The canonical spelling of an allowed named-value, matched ignoring
    /// case; in [`Allowed::any`] mode, the name itself.
    pub fn named_value<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        match self.named_values.get(&name.to_ascii_lowercase()) {
            Some(canonical) => Some(canonical),
            None if self.unknown_names => Some(name),
            None => None,
        }
    }

    /// The allowed host function of that name, matched ignoring case; in
    /// [`Allowed::any`] mode unknown names are accepted with any arity.
    pub fn host_function(&self, name: &str) -> Option<HostFunction> {
        match self.functions.get(&name.to_ascii_lowercase()) {
            Some(function) => Some(function.clone()),
            None if self.unknown_names => Some(HostFunction {
                name: name.to_owned(),
                min_args: 0,
                max_args: usize::MAX,
            }),
            None => None,
        }
    }
}
