//! GitHub's `postgres` and `redis` service containers, run with the host's
//! own PostgreSQL and Redis instead of a container engine.
//!
//! What the images do at start is reproduced: PostgreSQL gets a fresh
//! cluster whose superuser and database come from `POSTGRES_USER`,
//! `POSTGRES_PASSWORD` and `POSTGRES_DB`, with password authentication
//! over TCP; Redis starts empty without persistence. The data lives in the
//! service's throwaway directory.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::data_template::DataTemplate;
use super::launch::{Launch, Program, unprivileged_user};
use super::words::{shell_quote, split_words};
use crate::shell::find_program;

/// Images Sluice can run with host binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostImage {
    Postgres { tag: String },
    Redis { tag: String },
}

impl HostImage {
    /// Recognises `postgres:16`, `docker.io/library/redis:7-alpine`, ...
    pub fn recognise(image: &str) -> Option<HostImage> {
        let without_digest = image.split('@').next().unwrap_or(image);
        let (name, tag) = match without_digest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag),
            _ => (without_digest, "latest"),
        };
        let name = name
            .strip_prefix("docker.io/")
            .or_else(|| name.strip_prefix("index.docker.io/"))
            .unwrap_or(name);
        let name = name.strip_prefix("library/").unwrap_or(name);
        let tag = tag.to_string();
        match name {
            "postgres" => Some(HostImage::Postgres { tag }),
            "redis" => Some(HostImage::Redis { tag }),
            _ => None,
        }
    }

    /// The port the image's server listens on.
    pub fn container_port(&self) -> u16 {
        match self {
            HostImage::Postgres { .. } => 5432,
            HostImage::Redis { .. } => 6379,
        }
    }

    /// How to run this image on the host, listening on `port`, with its
    /// data in `dir`.
    pub fn launch(
        &self,
        env: &IndexMap<String, String>,
        command: Option<&str>,
        port: u16,
        dir: &Path,
        path_var: &str,
        templates: Option<&Path>,
    ) -> Result<Launch, String> {
        match self {
            HostImage::Postgres { tag } => postgres(tag, env, command, port, dir, templates),
            HostImage::Redis { tag } => redis(tag, command, port, dir, path_var),
        }
    }
}

/// The major version a tag asks for: `16` in `16.2-alpine`; `None` for
/// `latest` and other words.
fn requested_major(tag: &str) -> Option<u32> {
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Installed PostgreSQL servers: (major version, bin directory), newest first.
fn installed_postgres() -> Vec<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((major, bin))
        })
        .collect();
    found.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    found
}

fn postgres(
    tag: &str,
    env: &IndexMap<String, String>,
    command: Option<&str>,
    port: u16,
    dir: &Path,
    templates: Option<&Path>,
) -> Result<Launch, String> {
    let installed = installed_postgres();
    let wanted = requested_major(tag);
    let mut notices = Vec::new();
    let (major, bin) = match wanted.and_then(|w| installed.iter().find(|(m, _)| *m == w)) {
        Some(found) => found.clone(),
        None => {
            let Some(newest) = installed.first() else {
                return Err(format!(
                    "image postgres:{tag} runs on the host's PostgreSQL, and none is installed (looked in /usr/lib/postgresql/*/bin); install it (Debian: apt-get install postgresql) or run the service with a container engine"
                ));
            };
            if let Some(wanted) = wanted {
                notices.push(format!(
                    "postgres:{tag} asks for PostgreSQL {wanted}; this host has {}, which is used instead",
                    installed
                        .iter()
                        .map(|(m, _)| m.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            newest.clone()
        }
    };
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
    let user = var("POSTGRES_USER").unwrap_or_else(|| "postgres".into());
    let database = var("POSTGRES_DB").unwrap_or_else(|| user.clone());
    let password = var("POSTGRES_PASSWORD");
    let auth = match (var("POSTGRES_HOST_AUTH_METHOD"), &password) {
        (Some(method), _) => method,
        (None, Some(_)) => "scram-sha-256".to_string(),
        (None, None) => {
            return Err(
                "the postgres image does not start without POSTGRES_PASSWORD; set it in the service's `env:` (or POSTGRES_HOST_AUTH_METHOD: trust)"
                    .into(),
            );
        }
    };
    let data = dir.join("data");
    let mut initdb_args = vec![
        "-D".to_string(),
        data.display().to_string(),
        "-U".to_string(),
        user.clone(),
        "-E".to_string(),
        "UTF8".to_string(),
        "--locale=C".to_string(),
        "--no-sync".to_string(),
        "--auth-local=trust".to_string(),
        format!("--auth-host={auth}"),
    ];
    let extra_initdb = var("POSTGRES_INITDB_ARGS");
    if let Some(extra) = &extra_initdb {
        initdb_args.extend(split_words(extra).map_err(|e| format!("POSTGRES_INITDB_ARGS: {e}"))?);
    }
    // With a template, initdb runs without the password (a template holds
    // no secret); it is set after the copy, with the database created.
    // Not when that cannot work: values on several lines cannot go
    // through single-user mode, and initdb options that ask for password
    // authentication everywhere need the password at initdb.
    let one_line = |v: &str| !v.contains(['\n', '\r', '\0']);
    let templatable = password.as_deref().is_none_or(one_line)
        && one_line(&user)
        && one_line(&database)
        && !extra_initdb
            .as_deref()
            .is_some_and(|extra| extra.contains("-A") || extra.contains("--auth"));
    let run_as = unprivileged_user("postgres");
    let template = templates.filter(|_| templatable).map(|root| {
        let shaped_by = TemplateShape {
            bin: &bin,
            major,
            user: &user,
            auth: &auth,
            extra_initdb: extra_initdb.as_deref(),
            // initdb writes the time zone it runs in; the copy's owner is
            // the user the server runs as.
            time_zone: env
                .get("TZ")
                .cloned()
                .or_else(|| std::env::var("TZ").ok())
                .unwrap_or_default(),
            owner: run_as.as_ref().map(|r| (r.uid, r.gid)),
        };
        postgres_template(root, &shaped_by)
    });
    if password.is_some() && template.is_none() {
        initdb_args.push(format!("--pwfile={}", dir.join("pwfile").display()));
    }
    let mut setup = vec![Program {
        path: bin.join("initdb"),
        args: initdb_args,
        stdin: None,
    }];
    let mut statements = String::new();
    if let (Some(password), Some(_)) = (&password, &template) {
        statements.push_str(&format!(
            "ALTER USER \"{}\" PASSWORD '{}'\n",
            user.replace('"', "\"\""),
            password.replace('\'', "''")
        ));
    }
    if database != "postgres" {
        statements.push_str(&format!(
            "CREATE DATABASE \"{}\"\n",
            database.replace('"', "\"\"")
        ));
    }
    if !statements.is_empty() {
        setup.push(Program {
            path: bin.join("postgres"),
            args: vec![
                "--single".into(),
                // A failed statement fails the setup, and is not logged
                // with its text (which may hold the password).
                "-c".into(),
                "exit_on_error=on".into(),
                "-c".into(),
                "log_min_error_statement=panic".into(),
                "-D".into(),
                data.display().to_string(),
                "postgres".into(),
            ],
            stdin: Some(statements),
        });
    }
    let mut args = vec![
        "-D".to_string(),
        data.display().to_string(),
        "-p".to_string(),
        port.to_string(),
        "-k".to_string(),
        dir.display().to_string(),
        "-c".to_string(),
        "listen_addresses=localhost".to_string(),
        // The data is thrown away with the job: durability only costs time.
        "-c".to_string(),
        "fsync=off".to_string(),
    ];
    args.extend(image_arguments(command, "postgres")?);
    let mut health_env = vec![
        ("PGHOST".to_string(), "127.0.0.1".to_string()),
        ("PGPORT".to_string(), port.to_string()),
        ("PGUSER".to_string(), user.clone()),
        ("PGDATABASE".to_string(), database.clone()),
    ];
    if let Some(password) = &password {
        health_env.push(("PGPASSWORD".to_string(), password.clone()));
    }
    Ok(Launch {
        description: format!("PostgreSQL {major} from {}", bin.display()),
        setup,
        service: Program {
            path: bin.join("postgres"),
            args,
            stdin: None,
        },
        env: Vec::new(),
        run_as,
        default_health: Some(format!(
            "{} -h 127.0.0.1 -p {port} -U {}",
            shell_quote(&bin.join("pg_isready").display().to_string()),
            shell_quote(&user)
        )),
        // pg_isready and psql read PGHOST/PGPORT; the bin directory comes
        // first on PATH so the server's own client tools answer.
        health_env,
        health_path: Some(bin.clone()),
        adjust_health: None,
        notices,
        template,
    })
    .map(|mut launch| {
        if let Some(password) = password.filter(|_| launch.template.is_none()) {
            launch.setup.insert(
                0,
                Program {
                    path: PathBuf::from("/bin/sh"),
                    args: vec![
                        "-c".into(),
                        "umask 077 && printf '%s' \"$1\" > pwfile".into(),
                        "sh".into(),
                        password,
                    ],
                    stdin: None,
                },
            );
        }
        launch
    })
}

fn redis(
    tag: &str,
    command: Option<&str>,
    port: u16,
    dir: &Path,
    path_var: &str,
) -> Result<Launch, String> {
    let Some(server) = find_program("redis-server", path_var) else {
        return Err(format!(
            "image redis:{tag} runs on the host's Redis, and redis-server is not on PATH; install it (Debian: apt-get install redis-server) or run the service with a container engine"
        ));
    };
    let mut notices = Vec::new();
    if let Some(wanted) = requested_major(tag)
        && let Some(have) = redis_major(&server)
        && have != wanted
    {
        notices.push(format!(
            "redis:{tag} asks for Redis {wanted}; this host has Redis {have}, which is used instead"
        ));
    }
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
        "--dir",
        &dir.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(image_arguments(command, "redis-server")?);
    let cli = find_program("redis-cli", path_var)
        .map_or_else(|| "redis-cli".to_string(), |p| p.display().to_string());
    Ok(Launch {
        description: format!("Redis from {}", server.display()),
        setup: Vec::new(),
        service: Program {
            path: server,
            args,
            stdin: None,
        },
        env: Vec::new(),
        run_as: None,
        default_health: Some(format!(
            "{} -p {port} ping | grep -q PONG",
            shell_quote(&cli)
        )),
        health_env: Vec::new(),
        health_path: None,
        adjust_health: Some(redis_cli_port),
        notices,
        template: None,
    })
}

/// `redis-server --version` → its major version.
fn redis_major(server: &Path) -> Option<u32> {
    let output = std::process::Command::new(server)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split("v=").nth(1)?;
    requested_major(version)
}

/// The arguments a service's `command:` adds to the server: the image's
/// program name, when repeated, is dropped.
fn image_arguments(command: Option<&str>, program: &str) -> Result<Vec<String>, String> {
    let Some(command) = command else {
        return Ok(Vec::new());
    };
    let mut words = split_words(command).map_err(|e| format!("command: {e}"))?;
    if words.first().is_some_and(|w| w == program) {
        words.remove(0);
    }
    Ok(words)
}

/// `redis-cli ping` inside the container talks to port 6379; on the host
/// the server may be elsewhere, so the port is added when none is given.
fn redis_cli_port(cmd: &str, port: u16) -> String {
    let Ok(words) = split_words(cmd) else {
        return cmd.to_string();
    };
    let names_server = words
        .iter()
        .any(|w| matches!(w.as_str(), "-p" | "-h" | "-u" | "-s") || w.starts_with("redis://"));
    if words.first().map(String::as_str) != Some("redis-cli") || names_server {
        return cmd.to_string();
    }
    let mut out = vec!["redis-cli".to_string(), "-p".to_string(), port.to_string()];
    out.extend(words[1..].iter().map(|w| shell_quote(w)));
    out.join(" ")
}

/// Everything that shapes the cluster initdb makes.
struct TemplateShape<'a> {
    bin: &'a Path,
    major: u32,
    user: &'a str,
    auth: &'a str,
    extra_initdb: Option<&'a str>,
    time_zone: String,
    owner: Option<(u32, u32)>,
}

/// Where the template of a cluster of this shape lives.
fn postgres_template(root: &Path, shape: &TemplateShape) -> DataTemplate {
    use sha2::{Digest, Sha256};
    let owner = shape
        .owner
        .map_or(String::new(), |(uid, gid)| format!("{uid}:{gid}"));
    let mut hasher = Sha256::new();
    hasher.update(b"postgres template 2\0");
    hasher.update(shape.bin.as_os_str().as_encoded_bytes());
    for part in [
        shape.major.to_string().as_str(),
        shape.user,
        shape.auth,
        shape.extra_initdb.unwrap_or(""),
        shape.time_zone.as_str(),
        owner.as_str(),
    ] {
        hasher.update([0]);
        hasher.update(part.as_bytes());
    }
    let key: String = hasher.finalize()[..10]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    DataTemplate {
        dir: root.join(format!("postgres-{}-{key}", shape.major)),
        data: "data".into(),
        steps: 1,
        version: format!("postgres {}", shape.major),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_images() {
        assert_eq!(
            HostImage::recognise("postgres:16"),
            Some(HostImage::Postgres { tag: "16".into() })
        );
        assert_eq!(
            HostImage::recognise("docker.io/library/redis:7-alpine"),
            Some(HostImage::Redis {
                tag: "7-alpine".into()
            })
        );
        assert_eq!(
            HostImage::recognise("redis"),
            Some(HostImage::Redis {
                tag: "latest".into()
            })
        );
        assert_eq!(HostImage::recognise("mysql:8"), None);
        assert_eq!(HostImage::recognise("bitnami/postgresql:16"), None);
        assert_eq!(requested_major("16.2-alpine"), Some(16));
        assert_eq!(requested_major("latest"), None);
    }

    #[test]
    fn redis_cli_gets_the_port() {
        assert_eq!(
            redis_cli_port("redis-cli ping", 4000),
            "redis-cli -p 4000 ping"
        );
        assert_eq!(
            redis_cli_port("redis-cli -p 1 ping", 4000),
            "redis-cli -p 1 ping"
        );
        assert_eq!(redis_cli_port("pg_isready", 4000), "pg_isready");
    }

    #[test]
    fn postgres_needs_a_password() {
        if installed_postgres().is_empty() {
            return;
        }
        let dir = Path::new("/tmp/none");
        let error = postgres("16", &IndexMap::new(), None, 5432, dir, None).unwrap_err();
        assert!(error.contains("POSTGRES_PASSWORD"), "{error}");
        let mut env = IndexMap::new();
        env.insert("POSTGRES_PASSWORD".to_string(), "pw".to_string());
        env.insert("POSTGRES_DB".to_string(), "app".to_string());
        let launch = postgres(
            "16",
            &env,
            Some("postgres -c max_connections=50"),
            5999,
            dir,
            None,
        )
        .unwrap();
        assert_eq!(
            launch.setup.len(),
            3,
            "password file, initdb, create database"
        );
        // With a template, initdb gets no password: it is set after the copy.
        let templates = tempfile::tempdir().unwrap();
        let templated = postgres("16", &env, None, 5999, dir, Some(templates.path())).unwrap();
        assert_eq!(
            templated.setup.len(),
            2,
            "initdb, then password and database"
        );
        assert!(
            templated.setup[0]
                .args
                .iter()
                .all(|a| !a.contains("pwfile"))
        );
        let statements = templated.setup[1].stdin.as_deref().unwrap();
        assert!(
            statements.starts_with("ALTER USER \"postgres\" PASSWORD 'pw'\n"),
            "{statements}"
        );
        assert!(
            statements.contains("CREATE DATABASE \"app\""),
            "{statements}"
        );
        assert_eq!(templated.template.as_ref().map(|t| t.steps), Some(1));
        // initdb options that need the password at initdb: no template.
        env.insert(
            "POSTGRES_INITDB_ARGS".to_string(),
            "--auth=scram-sha-256".to_string(),
        );
        let direct = postgres("16", &env, None, 5999, dir, Some(templates.path())).unwrap();
        assert!(direct.template.is_none());
        assert!(
            direct
                .setup
                .iter()
                .any(|p| p.args.iter().any(|a| a.contains("pwfile")))
        );
        assert!(
            launch
                .service
                .args
                .ends_with(&["-c".into(), "max_connections=50".into()])
        );
    }
}
