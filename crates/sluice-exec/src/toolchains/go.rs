//! Go: on the host (PATH, `~/sdk`, Debian's `/usr/lib/go-*`, asdf, mise,
//! the tool cache), else from go.dev's distribution (the JSON list of
//! releases, which carries each archive's SHA-256) or a mirror of it.

use super::download::{fetch_text, install_archive};
use super::locate::{self, Place};
use super::{Installed, Release, ToolchainError, Toolchains, Version, VersionSpec, arch};

/// go.dev's downloads, unless a mirror is given.
pub const DEFAULT_MIRROR: &str = "https://go.dev/dl";

impl Toolchains {
    fn go_places(&self) -> Vec<Place> {
        let mut places = vec![Place::new("/usr/lib", "bin", "Debian (/usr/lib/go-*)")];
        if let Some(home) = &self.home {
            places.push(Place::new(
                home.join("sdk"),
                "bin",
                "go's own downloads (~/sdk)",
            ));
            places.push(Place::new(
                home.join(".asdf/installs/golang"),
                "go/bin",
                "asdf",
            ));
            places.push(Place::new(
                home.join(".local/share/mise/installs/go"),
                "bin",
                "mise",
            ));
        }
        places.push(Place::new(
            self.tool_cache.join("go"),
            if arch(true) == "x64" {
                "x64/bin"
            } else {
                "arm64/bin"
            },
            "tool cache",
        ));
        places.push(Place::new(self.root.join("go"), "bin", "Sluice"));
        places
    }

    /// Go for `spec`: the host's when it has one that fits, else
    /// downloaded from `mirror` (when `download` allows).
    pub fn go(
        &self,
        request: &str,
        path_var: &str,
        mirror: Option<&str>,
        download: bool,
    ) -> Result<Installed, ToolchainError> {
        let spec = &VersionSpec::parse(request)?;
        let places = self.go_places();
        let mut candidates: Vec<Installed> = locate::installs(&places, "go")
            .into_iter()
            // `/usr/lib` holds much besides go-1.xx.
            .filter(|c| !c.source.starts_with("Debian") || c.bin.to_string_lossy().contains("/go-"))
            .collect();
        candidates.extend(locate::on_path("go", path_var, &["version"], &|out| {
            out.split_whitespace()
                .find_map(|w| w.strip_prefix("go"))
                .map(str::to_string)
        }));
        if let Some(found) = locate::best(spec, candidates) {
            if let Some(own) = self.own_install("go", found.version) {
                self.touch(&own);
            }
            return Ok(found);
        }
        let looked = locate::describe(&places);
        if !download {
            return Err(ToolchainError::NotFound {
                tool: "Go",
                spec: request.to_string(),
                looked,
                why: "downloading is off".into(),
            });
        }
        let mirror = mirror
            .map(str::to_string)
            .or_else(|| {
                std::env::var("SLUICE_GO_MIRROR")
                    .ok()
                    .filter(|m| !m.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_MIRROR.to_string());
        self.download_go(spec, request, mirror.trim_end_matches('/'), &looked)
            .map_err(|e| match e {
                ToolchainError::Download { url, reason } => ToolchainError::NotFound {
                    tool: "Go",
                    spec: request.to_string(),
                    looked: looked.clone(),
                    why: format!("cannot download {url}: {reason}"),
                },
                other => other,
            })
    }

    fn download_go(
        &self,
        spec: &VersionSpec,
        request: &str,
        mirror: &str,
        looked: &str,
    ) -> Result<Installed, ToolchainError> {
        let scratch = tempfile::tempdir().map_err(|e| ToolchainError::Local {
            path: std::env::temp_dir(),
            reason: e.to_string(),
        })?;
        let index_url = format!("{mirror}/?mode=json&include=all");
        let index: serde_json::Value =
            serde_json::from_str(&fetch_text(&index_url, scratch.path())?).map_err(|e| {
                ToolchainError::Download {
                    url: index_url.clone(),
                    reason: format!("not a Go release list: {e}"),
                }
            })?;
        let entries: Vec<&serde_json::Value> = index.as_array().into_iter().flatten().collect();
        let releases: Vec<Release> = entries
            .iter()
            .filter(|e| e.get("stable").and_then(|s| s.as_bool()).unwrap_or(true))
            .filter_map(|e| {
                Some(Release {
                    version: Version::parse(e.get("version")?.as_str()?)?,
                    lts: None,
                })
            })
            .collect();
        let release = spec
            .best(&releases)
            .ok_or_else(|| ToolchainError::NotFound {
                tool: "Go",
                spec: request.to_string(),
                looked: looked.to_string(),
                why: format!("{index_url} lists no stable release that matches"),
            })?;
        let version = release.version;
        let file = entries
            .iter()
            .filter(|e| {
                e.get("version")
                    .and_then(|v| v.as_str())
                    .and_then(Version::parse)
                    == Some(version)
            })
            .flat_map(|e| {
                e.get("files")
                    .and_then(|f| f.as_array())
                    .into_iter()
                    .flatten()
            })
            .find(|f| {
                f.get("os").and_then(|o| o.as_str()) == Some("linux")
                    && f.get("arch").and_then(|a| a.as_str()) == Some(arch(false))
                    && f.get("kind").and_then(|k| k.as_str()) == Some("archive")
            })
            .ok_or_else(|| ToolchainError::Download {
                url: index_url.clone(),
                reason: format!("no linux-{} archive of Go {version}", arch(false)),
            })?;
        let name = file
            .get("filename")
            .and_then(|n| n.as_str())
            .unwrap_or_default();
        let sha256 = file
            .get("sha256")
            .and_then(|s| s.as_str())
            .unwrap_or_default();
        let target = self.root.join("go").join(version.to_string());
        install_archive(&format!("{mirror}/{name}"), sha256, &target)?;
        self.touch(&target);
        Ok(Installed {
            version,
            program: target.join("bin/go"),
            bin: target.join("bin"),
            source: format!("downloaded from {mirror}"),
        })
    }
}
