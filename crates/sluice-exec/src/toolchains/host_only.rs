//! Python and Java: looked for on the host only (PATH, pyenv, asdf, mise,
//! sdkman, `/usr/lib/jvm`, the tool cache). Their publishers' builds are
//! not plain archives to unpack (python.org ships sources; JDK vendors
//! differ), so a version that is nowhere is an error that says where it
//! was looked for.

use super::locate::{self, Place};
use super::{Installed, ToolchainError, Toolchains, VersionSpec, arch};

impl Toolchains {
    /// Python for `request` (`3.11`, `3.x`, `>=3.10`).
    pub fn python(&self, request: &str, path_var: &str) -> Result<Installed, ToolchainError> {
        let spec = VersionSpec::parse(request)?;
        let mut places = Vec::new();
        if let Some(home) = &self.home {
            let pyenv =
                std::env::var_os("PYENV_ROOT").map_or_else(|| home.join(".pyenv"), Into::into);
            places.push(Place::new(pyenv.join("versions"), "bin", "pyenv"));
            places.push(Place::new(
                home.join(".asdf/installs/python"),
                "bin",
                "asdf",
            ));
            places.push(Place::new(
                home.join(".local/share/mise/installs/python"),
                "bin",
                "mise",
            ));
        }
        let bin = if arch(true) == "x64" {
            "x64/bin"
        } else {
            "arm64/bin"
        };
        places.push(Place::new(
            self.tool_cache.join("Python"),
            bin,
            "tool cache",
        ));
        let mut candidates = locate::installs(&places, "python3");
        let version_of = |out: &str| out.split_whitespace().nth(1).map(str::to_string);
        candidates.extend(locate::on_path(
            "python3",
            path_var,
            &["--version"],
            &version_of,
        ));
        // Every `python3.N` on PATH (Debian's python3.11, deadsnakes...).
        for dir in std::env::split_paths(path_var) {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let minor = name.strip_prefix("python3.");
                if minor.is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())) {
                    candidates.extend(locate::on_path(
                        &name,
                        path_var,
                        &["--version"],
                        &version_of,
                    ));
                }
            }
        }
        locate::best(&spec, candidates).ok_or_else(|| ToolchainError::NotFound {
            tool: "Python",
            spec: request.to_string(),
            looked: locate::describe(&places),
            why: "Sluice does not download Python; install it (pyenv install, apt-get install python3.X) and run again".into(),
        })
    }

    /// Java for `request` (`17`, `21`, `17.0.2`).
    pub fn java(&self, request: &str, path_var: &str) -> Result<Installed, ToolchainError> {
        let spec = VersionSpec::parse(request)?;
        let mut places = vec![Place::new("/usr/lib/jvm", "bin", "/usr/lib/jvm")];
        if let Some(home) = &self.home {
            let sdkman =
                std::env::var_os("SDKMAN_DIR").map_or_else(|| home.join(".sdkman"), Into::into);
            places.push(Place::new(sdkman.join("candidates/java"), "bin", "sdkman"));
            places.push(Place::new(home.join(".asdf/installs/java"), "bin", "asdf"));
            places.push(Place::new(
                home.join(".local/share/mise/installs/java"),
                "bin",
                "mise",
            ));
        }
        let mut candidates = locate::installs(&places, "java");
        candidates.extend(locate::on_path("java", path_var, &["-version"], &|out| {
            out.split('"').nth(1).map(str::to_string)
        }));
        locate::best(&spec, candidates).ok_or_else(|| ToolchainError::NotFound {
            tool: "Java",
            spec: request.to_string(),
            looked: locate::describe(&places),
            why: "Sluice does not download JDKs; install one (apt-get install openjdk-N-jdk, sdk install java) and run again".into(),
        })
    }
}
