//! Node.js: on the host (PATH, nvm, fnm, volta, asdf, mise, the tool
//! cache), else from nodejs.org's distribution (`index.json`, the
//! `linux-<arch>` tarball and `SHASUMS256.txt`) or a mirror of it.

use super::download::{fetch_text, install_archive};
use super::locate::{self, Place};
use super::{Installed, Release, ToolchainError, Toolchains, Version, VersionSpec, arch};

/// nodejs.org's distribution, unless a mirror is given.
pub const DEFAULT_MIRROR: &str = "https://nodejs.org/dist";

impl Toolchains {
    fn node_places(&self) -> Vec<Place> {
        let mut places = Vec::new();
        if let Some(home) = &self.home {
            let nvm = std::env::var_os("NVM_DIR").map_or_else(|| home.join(".nvm"), Into::into);
            let fnm = std::env::var_os("FNM_DIR")
                .map_or_else(|| home.join(".local/share/fnm"), Into::into);
            places.push(Place::new(nvm.join("versions/node"), "bin", "nvm"));
            places.push(Place::new(
                fnm.join("node-versions"),
                "installation/bin",
                "fnm",
            ));
            places.push(Place::new(
                home.join(".volta/tools/image/node"),
                "bin",
                "volta",
            ));
            places.push(Place::new(
                home.join(".asdf/installs/nodejs"),
                "bin",
                "asdf",
            ));
            places.push(Place::new(
                home.join(".local/share/mise/installs/node"),
                "bin",
                "mise",
            ));
        }
        places.push(Place::new(
            self.tool_cache.join("node"),
            arch_bin(),
            "tool cache",
        ));
        places.push(Place::new(self.root.join("node"), "bin", "Sluice"));
        places
    }

    /// Node.js for `spec`: the host's when it has one that fits, else
    /// downloaded from `mirror` (when `download` allows).
    pub fn node(
        &self,
        request: &str,
        path_var: &str,
        mirror: Option<&str>,
        download: bool,
    ) -> Result<Installed, ToolchainError> {
        let spec = &VersionSpec::parse(request)?;
        let places = self.node_places();
        let mut candidates = locate::installs(&places, "node");
        candidates.extend(locate::on_path("node", path_var, &["--version"], &|out| {
            Some(out.trim().to_string())
        }));
        if let Some(found) = locate::best(spec, candidates) {
            if let Some(own) = self.own_install("node", found.version) {
                self.touch(&own);
            }
            return Ok(found);
        }
        let looked = locate::describe(&places);
        let spec_text = request.to_string();
        if !download {
            return Err(ToolchainError::NotFound {
                tool: "Node.js",
                spec: spec_text,
                looked,
                why: "downloading is off".into(),
            });
        }
        let mirror = mirror
            .map(str::to_string)
            .or_else(|| {
                std::env::var("NODEJS_ORG_MIRROR")
                    .ok()
                    .filter(|m| !m.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_MIRROR.to_string());
        self.download_node(spec, mirror.trim_end_matches('/'))
            .map_err(|e| match e {
                ToolchainError::NotFound { why, .. } => ToolchainError::NotFound {
                    tool: "Node.js",
                    spec: request.to_string(),
                    looked: looked.clone(),
                    why,
                },
                ToolchainError::Download { url, reason } => ToolchainError::NotFound {
                    tool: "Node.js",
                    spec: request.to_string(),
                    looked: looked.clone(),
                    why: format!("cannot download {url}: {reason}"),
                },
                other => other,
            })
    }

    fn download_node(&self, spec: &VersionSpec, mirror: &str) -> Result<Installed, ToolchainError> {
        let scratch = tempfile::tempdir().map_err(|e| ToolchainError::Local {
            path: std::env::temp_dir(),
            reason: e.to_string(),
        })?;
        let index_url = format!("{mirror}/index.json");
        let index: serde_json::Value =
            serde_json::from_str(&fetch_text(&index_url, scratch.path())?).map_err(|e| {
                ToolchainError::Download {
                    url: index_url.clone(),
                    reason: format!("not a Node.js release index: {e}"),
                }
            })?;
        let releases: Vec<Release> = index
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                Some(Release {
                    version: Version::parse(entry.get("version")?.as_str()?)?,
                    lts: entry
                        .get("lts")
                        .and_then(|l| l.as_str())
                        .map(str::to_string),
                })
            })
            .collect();
        let release = spec
            .best(&releases)
            .ok_or_else(|| ToolchainError::NotFound {
                tool: "Node.js",
                spec: String::new(),
                looked: String::new(),
                why: format!("{index_url} lists no release that matches"),
            })?;
        let version = release.version;
        let file = format!("node-v{version}-linux-{}.tar.gz", arch(true));
        let sums_url = format!("{mirror}/v{version}/SHASUMS256.txt");
        let sums = fetch_text(&sums_url, scratch.path())?;
        let sha256 = sums
            .lines()
            .find_map(|line| {
                let (sum, name) = line.split_once(char::is_whitespace)?;
                (name.trim() == file).then(|| sum.to_string())
            })
            .ok_or_else(|| ToolchainError::Download {
                url: sums_url.clone(),
                reason: format!("no checksum for {file}"),
            })?;
        let target = self.root.join("node").join(version.to_string());
        install_archive(&format!("{mirror}/v{version}/{file}"), &sha256, &target)?;
        self.touch(&target);
        Ok(Installed {
            version,
            program: target.join("bin/node"),
            bin: target.join("bin"),
            source: format!("downloaded from {mirror}"),
        })
    }
}

/// The tool cache's layout: `<version>/<arch>/bin`.
fn arch_bin() -> &'static str {
    if arch(true) == "x64" {
        "x64/bin"
    } else {
        "arm64/bin"
    }
}
