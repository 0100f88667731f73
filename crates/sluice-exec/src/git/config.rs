//! Reading git's configuration files directly, for the few settings a run
//! needs (`user.name`, `init.defaultBranch`, the origin remote, the
//! current branch's upstream), without starting `git config`.
//!
//! The files are read in git's order (system, global, repository; the last
//! value wins). Whatever this reader does not model makes it step aside so
//! the caller asks git: `include`/`includeIf` sections, configuration
//! passed through the environment, or a file git itself would reject.

use std::path::{Path, PathBuf};

use super::layout::Layout;

/// Settings as `section.subsection.name` (section and name lower-cased,
/// the subsection as written) with their values, in reading order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GitConfig {
    entries: Vec<(String, String)>,
}

/// Configuration this reader does not model; the caller asks git instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmodelled(pub String);

/// Variables through which git takes configuration from the environment.
const CONFIG_ENV: &[&str] = &["GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG"];

impl GitConfig {
    /// The last value of `key` (`remote.origin.url`; section and name in
    /// any case, the subsection exactly).
    pub fn get(&self, key: &str) -> Option<&str> {
        let wanted = normalize_key(key);
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| *k == wanted)
            .map(|(_, v)| v.as_str())
    }

    /// Settings from `git config` output, keys as git prints them.
    pub(crate) fn from_entries(entries: impl Iterator<Item = (String, String)>) -> Self {
        GitConfig {
            entries: entries.map(|(k, v)| (normalize_key(&k), v)).collect(),
        }
    }

    /// Reads every file git would read for the repository at `layout`.
    pub(crate) fn read(layout: &Layout) -> Result<GitConfig, Unmodelled> {
        if let Some(name) = CONFIG_ENV
            .iter()
            .find(|name| std::env::var_os(name).is_some())
        {
            return Err(Unmodelled(format!("{name} is set")));
        }
        let mut config = GitConfig::default();
        for path in files(layout)? {
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|_| Unmodelled(format!("{} is not UTF-8", path.display())))?;
                    config.entries.extend(
                        parse(&text)
                            .map_err(|e| Unmodelled(format!("{}: {}", path.display(), e.0)))?,
                    );
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Unmodelled(format!("{}: {e}", path.display()))),
            }
        }
        Ok(config)
    }
}

/// The files git reads, lowest precedence first.
fn files(layout: &Layout) -> Result<Vec<PathBuf>, Unmodelled> {
    let mut files = Vec::new();
    let no_system = std::env::var("GIT_CONFIG_NOSYSTEM").is_ok_and(|v| {
        !matches!(
            v.to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "off"
        )
    });
    if !no_system {
        match std::env::var_os("GIT_CONFIG_SYSTEM") {
            Some(path) => files.push(PathBuf::from(path)),
            None => files.push(system_config()?),
        }
    }
    match std::env::var_os("GIT_CONFIG_GLOBAL") {
        Some(path) => files.push(PathBuf::from(path)),
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from);
            let xdg = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".config")));
            files.extend(xdg.map(|x| x.join("git/config")));
            files.extend(home.map(|h| h.join(".gitconfig")));
        }
    }
    files.push(layout.common_dir.join("config"));
    Ok(files)
}

/// The system-wide file of the git on PATH: git looks in `<prefix>/etc`,
/// except that a git installed under `/usr` uses `/etc`.
fn system_config() -> Result<PathBuf, Unmodelled> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let git = std::env::split_paths(&path)
        .map(|dir| dir.join("git"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| Unmodelled("git is not on PATH".into()))?;
    let prefix = git
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| Unmodelled(format!("no prefix for {}", git.display())))?;
    Ok(if prefix == Path::new("/usr") || prefix == Path::new("/") {
        PathBuf::from("/etc/gitconfig")
    } else {
        prefix.join("etc/gitconfig")
    })
}

fn normalize_key(key: &str) -> String {
    match (key.find('.'), key.rfind('.')) {
        (Some(first), Some(last)) if first != last => format!(
            "{}{}{}",
            key[..first].to_ascii_lowercase(),
            &key[first..last],
            key[last..].to_ascii_lowercase()
        ),
        _ => key.to_ascii_lowercase(),
    }
}

/// Parses one configuration file's text into its settings in order.
/// Public for the fuzz target.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, Unmodelled> {
    let mut parser = Parser {
        chars: text.chars().peekable(),
        line: 1,
    };
    let mut entries = Vec::new();
    let mut section: Option<String> = None;
    loop {
        parser.skip_blank();
        match parser.chars.peek().copied() {
            None => return Ok(entries),
            Some('\n') => {
                parser.bump();
            }
            Some('#' | ';') => parser.skip_line(),
            Some('[') => {
                parser.bump();
                let header = parser.section_header()?;
                let base = header.split('.').next().unwrap_or_default();
                if base == "include" || base == "includeif" {
                    return Err(parser.error("includes another file"));
                }
                section = Some(header);
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let Some(prefix) = &section else {
                    return Err(parser.error("a setting comes before any [section]"));
                };
                let name = parser.name();
                let value = parser.value()?;
                entries.push((format!("{prefix}.{name}"), value));
            }
            Some(_) => return Err(parser.error("unexpected character")),
        }
    }
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl Parser<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    fn error(&self, what: &str) -> Unmodelled {
        Unmodelled(format!("line {}: {what}", self.line))
    }

    fn skip_blank(&mut self) {
        while self
            .chars
            .peek()
            .is_some_and(|c| *c != '\n' && c.is_whitespace())
        {
            self.bump();
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                return;
            }
        }
    }

    /// After `[`: `section]`, `section "subsection"]` or the old
    /// `section.subsection]` (whose subsection git lower-cases).
    fn section_header(&mut self) -> Result<String, Unmodelled> {
        let mut name = String::new();
        while let Some(&c) = self.chars.peek() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                name.push(c.to_ascii_lowercase());
                self.bump();
            } else {
                break;
            }
        }
        if name.is_empty() {
            return Err(self.error("empty section name"));
        }
        self.skip_blank();
        if self.chars.peek() == Some(&'"') {
            self.bump();
            let mut sub = String::new();
            loop {
                match self.bump() {
                    Some('"') => break,
                    Some('\\') => match self.bump() {
                        Some('\n') | None => return Err(self.error("unterminated subsection")),
                        Some(c) => sub.push(c),
                    },
                    Some('\n') | None => return Err(self.error("unterminated subsection")),
                    Some(c) => sub.push(c),
                }
            }
            name.push('.');
            name.push_str(&sub);
        }
        if self.bump() != Some(']') {
            return Err(self.error("malformed section header"));
        }
        Ok(name)
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(&c) = self.chars.peek() {
            if c.is_ascii_alphanumeric() || c == '-' {
                name.push(c.to_ascii_lowercase());
                self.bump();
            } else {
                break;
            }
        }
        name
    }

    /// After a name: `= value`, or nothing (a boolean true).
    fn value(&mut self) -> Result<String, Unmodelled> {
        self.skip_blank();
        match self.chars.peek() {
            None | Some('\n') => return Ok("true".into()),
            Some('#' | ';') => {
                self.skip_line();
                return Ok("true".into());
            }
            Some('=') => {
                self.bump();
            }
            Some(_) => return Err(self.error("expected '=' after a setting's name")),
        }
        self.skip_blank();
        let mut value = String::new();
        // Unquoted whitespace is kept only when something follows it.
        let mut pending_space = String::new();
        let mut quoted = false;
        while let Some(c) = self.bump() {
            match c {
                '\n' if quoted => return Err(self.error("unterminated quote")),
                '\n' => break,
                '"' => {
                    value.push_str(&std::mem::take(&mut pending_space));
                    quoted = !quoted;
                }
                '\\' => {
                    let escaped = match self.bump() {
                        // A line continuation.
                        Some('\n') => continue,
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('b') => '\u{8}',
                        Some('\\') => '\\',
                        Some('"') => '"',
                        _ => return Err(self.error("invalid escape in a value")),
                    };
                    value.push_str(&std::mem::take(&mut pending_space));
                    value.push(escaped);
                }
                '#' | ';' if !quoted => {
                    self.skip_line();
                    break;
                }
                c if c.is_whitespace() && !quoted => pending_space.push(c),
                c => {
                    value.push_str(&std::mem::take(&mut pending_space));
                    value.push(c);
                }
            }
        }
        if quoted {
            return Err(self.error("unterminated quote"));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> GitConfig {
        GitConfig {
            entries: parse(text).unwrap(),
        }
    }

    #[test]
    fn reads_sections_subsections_and_the_last_value() {
        let c = config(
            "# comment\n[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:octo/app.git\n\
             [User]\n  Name = First\n[user]\nname = \"  Second  Name \" ; trailing\n",
        );
        assert_eq!(
            c.get("remote.origin.url"),
            Some("git@github.com:octo/app.git")
        );
        assert_eq!(c.get("user.name"), Some("  Second  Name "));
        assert_eq!(c.get("USER.NAME"), Some("  Second  Name "));
        assert_eq!(
            c.get("remote.Origin.url"),
            None,
            "subsections are case-sensitive"
        );
        assert_eq!(c.get("core.bare"), Some("false"));
    }

    #[test]
    fn values_follow_gits_quoting_rules() {
        let c = config(
            "[a]\nplain = one two  three   # comment\nescaped = tab\\there \\\"q\\\"\n\
             joined = first \\\n second\nflag\n[branch \"feat/x\"]\nmerge = refs/heads/feat/x\n\
             [old.Sub]\nkey = v\n",
        );
        assert_eq!(c.get("a.plain"), Some("one two  three"));
        assert_eq!(c.get("a.escaped"), Some("tab\there \"q\""));
        assert_eq!(c.get("a.joined"), Some("first  second"));
        assert_eq!(c.get("a.flag"), Some("true"));
        assert_eq!(c.get("branch.feat/x.merge"), Some("refs/heads/feat/x"));
        assert_eq!(c.get("old.sub.key"), Some("v"));
    }

    #[test]
    fn steps_aside_for_includes_and_malformed_files() {
        for text in [
            "[include]\npath = other\n",
            "[includeIf \"gitdir:~/work/\"]\npath = work\n",
            "name = outside\n",
            "[a]\nv = \"open\n",
            "[a]\nv = bad \\q escape\n",
            "[a \"unterminated]\n",
            "[]\n",
            "[a]\n= value\n",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }
}
