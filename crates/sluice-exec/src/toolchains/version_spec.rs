//! Version requests as the setup actions take them: `16`, `18.x`,
//! `20.11`, `20.11.1`, `v18`, ranges (`>=18 <20`, `^18.2`, `~1.21`,
//! `18 || 20`), and the aliases `latest`, `current`, `node`, `stable`,
//! `lts/*` and `lts/<codename>` (Node.js release lines).

use std::cmp::Ordering;
use std::fmt;

/// A release version: major.minor.patch (missing parts are 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// `v20.11.1`, `20.11.1`, `1.22`, `go1.22.3` (a leading `v` or `go`
    /// is dropped); pre-releases (`1.23rc1`, `21.0.0-beta`) are not
    /// versions here.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text
            .strip_prefix("go")
            .or_else(|| text.strip_prefix('v'))
            .unwrap_or(text);
        let mut parts = text.split('.');
        let number = |part: Option<&str>| -> Option<u64> {
            match part {
                None => Some(0),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
                Some(_) => None,
            }
        };
        let version = Version {
            major: number(Some(parts.next()?))?,
            minor: number(parts.next())?,
            patch: number(parts.next())?,
        };
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A release a version request is matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: Version,
    /// The LTS codename (Node.js), if the release line is an LTS one.
    pub lts: Option<String>,
}

/// A parsed version request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSpec {
    /// The newest release.
    Latest,
    /// The newest release of an LTS line: any (`lts/*`) or one by name.
    Lts(Option<String>),
    /// Alternatives (`||`), each a conjunction of comparators.
    Range(Vec<Vec<Comparator>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparator {
    op: Op,
    version: Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Greater,
    GreaterEq,
    Less,
    LessEq,
}

/// Why a request cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a version or version range (examples: 20, 18.x, 20.11.1, >=18 <20, lts/*)")]
pub struct InvalidVersionSpec(pub String);

impl VersionSpec {
    pub fn parse(text: &str) -> Result<VersionSpec, InvalidVersionSpec> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        match lower.as_str() {
            "latest" | "current" | "node" | "stable" | "*" | "x" => return Ok(VersionSpec::Latest),
            "lts/*" | "lts" => return Ok(VersionSpec::Lts(None)),
            _ => {}
        }
        if let Some(name) = lower.strip_prefix("lts/") {
            return Ok(VersionSpec::Lts(Some(name.to_string())));
        }
        let invalid = || InvalidVersionSpec(text.to_string());
        let mut alternatives = Vec::new();
        for alternative in lower.split("||") {
            let mut comparators = Vec::new();
            for word in alternative.split_whitespace() {
                comparators.extend(comparators_of(word).ok_or_else(invalid)?);
            }
            if comparators.is_empty() {
                return Err(invalid());
            }
            alternatives.push(comparators);
        }
        Ok(VersionSpec::Range(alternatives))
    }

    /// Whether `release` satisfies the request (LTS and `latest` requests
    /// are decided by [`VersionSpec::best`], which sees every release).
    pub fn matches(&self, version: Version) -> bool {
        match self {
            VersionSpec::Latest | VersionSpec::Lts(_) => true,
            VersionSpec::Range(alternatives) => alternatives
                .iter()
                .any(|all| all.iter().all(|c| c.matches(version))),
        }
    }

    /// The newest of `releases` the request asks for.
    pub fn best<'r>(&self, releases: &'r [Release]) -> Option<&'r Release> {
        releases
            .iter()
            .filter(|r| match self {
                VersionSpec::Lts(None) => r.lts.is_some(),
                VersionSpec::Lts(Some(name)) => r
                    .lts
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(name)),
                _ => self.matches(r.version),
            })
            .max_by_key(|r| r.version)
    }
}

impl Comparator {
    fn matches(&self, version: Version) -> bool {
        let order = version.cmp(&self.version);
        match self.op {
            Op::Eq => order == Ordering::Equal,
            Op::Greater => order == Ordering::Greater,
            Op::GreaterEq => order != Ordering::Less,
            Op::Less => order == Ordering::Less,
            Op::LessEq => order != Ordering::Greater,
        }
    }
}

/// One word of a range: `>=18`, `^18.2`, `~1.21`, `18`, `18.x`, `=20.1.0`.
fn comparators_of(word: &str) -> Option<Vec<Comparator>> {
    let (op, rest) = [">=", "<=", ">", "<", "=", "^", "~"]
        .iter()
        .find_map(|op| word.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("", word));
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    // How many parts were written, wildcards (`x`, `*`) ending them.
    let parts: Vec<&str> = rest
        .split('.')
        .take_while(|p| !matches!(*p, "x" | "X" | "*"))
        .collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let numbers: Vec<u64> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| numbers.get(i).copied().unwrap_or(0);
    let low = Version {
        major: at(0),
        minor: at(1),
        patch: at(2),
    };
    let bump = |level: usize| match level {
        0 => Version {
            major: low.major + 1,
            minor: 0,
            patch: 0,
        },
        1 => Version {
            major: low.major,
            minor: low.minor + 1,
            patch: 0,
        },
        _ => Version {
            patch: low.patch + 1,
            ..low
        },
    };
    let between = |high: Version| {
        Some(vec![
            Comparator {
                op: Op::GreaterEq,
                version: low,
            },
            Comparator {
                op: Op::Less,
                version: high,
            },
        ])
    };
    let single = |op| Some(vec![Comparator { op, version: low }]);
    match op {
        ">=" => single(Op::GreaterEq),
        ">" if numbers.len() == 3 => single(Op::Greater),
        ">" => Some(vec![Comparator {
            op: Op::GreaterEq,
            version: bump(numbers.len() - 1),
        }]),
        "<=" if numbers.len() == 3 => single(Op::LessEq),
        "<=" => Some(vec![Comparator {
            op: Op::Less,
            version: bump(numbers.len() - 1),
        }]),
        "<" => single(Op::Less),
        // `^1.2.3`: the same major (`^0.2` the same minor).
        "^" if low.major > 0 || numbers.len() == 1 => between(bump(0)),
        "^" => between(bump(1)),
        // `~1.2`: the same minor; `~1`: the same major.
        "~" if numbers.len() == 1 => between(bump(0)),
        "~" => between(bump(1)),
        // `18`, `18.x`: that line; `20.11.1`, `=20.11.1`: exactly.
        _ if numbers.len() == 3 => single(Op::Eq),
        _ => between(bump(numbers.len() - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn requests_match_as_the_setup_actions_match_them() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("16", &["16.0.0", "16.20.2"], &["15.9.9", "17.0.0"]),
            ("18.x", &["18.17.1"], &["19.0.0"]),
            ("20.11", &["20.11.0", "20.11.9"], &["20.12.0"]),
            ("20.11.1", &["20.11.1"], &["20.11.2"]),
            ("v18", &["18.1.0"], &["20.0.0"]),
            (">=18 <20", &["18.0.0", "19.9.9"], &["17.9.9", "20.0.0"]),
            ("^18.2", &["18.2.0", "18.9.0"], &["18.1.9", "19.0.0"]),
            ("~1.21", &["1.21.5"], &["1.22.0"]),
            ("18 || 20", &["18.5.0", "20.1.0"], &["19.0.0"]),
            (">20", &["21.0.0"], &["20.9.9"]),
            ("<=20", &["20.9.9"], &["21.0.0"]),
        ];
        for (spec, yes, no) in cases {
            let parsed = VersionSpec::parse(spec).unwrap();
            for version in *yes {
                assert!(parsed.matches(v(version)), "{spec} should take {version}");
            }
            for version in *no {
                assert!(
                    !parsed.matches(v(version)),
                    "{spec} should not take {version}"
                );
            }
        }
        for bad in ["", "abc", "1.2.3.4", ">=", "lts/"] {
            assert!(
                VersionSpec::parse(bad).is_err() || bad == "lts/",
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn the_newest_matching_release_and_lts_lines() {
        let releases = vec![
            Release {
                version: v("22.1.0"),
                lts: None,
            },
            Release {
                version: v("20.11.1"),
                lts: Some("Iron".into()),
            },
            Release {
                version: v("20.10.0"),
                lts: Some("Iron".into()),
            },
            Release {
                version: v("18.19.0"),
                lts: Some("Hydrogen".into()),
            },
        ];
        let best = |spec: &str| {
            VersionSpec::parse(spec)
                .unwrap()
                .best(&releases)
                .map(|r| r.version.to_string())
        };
        assert_eq!(best("latest").as_deref(), Some("22.1.0"));
        assert_eq!(best("lts/*").as_deref(), Some("20.11.1"));
        assert_eq!(best("lts/hydrogen").as_deref(), Some("18.19.0"));
        assert_eq!(best("20").as_deref(), Some("20.11.1"));
        assert_eq!(best("16"), None);
        assert_eq!(Version::parse("go1.22.3"), Some(v("1.22.3")));
        assert_eq!(Version::parse("1.23rc1"), None);
    }
}
