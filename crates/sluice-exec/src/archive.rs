//! Packing a directory as a tar archive (an artifact downloaded from
//! the server), with the system's `tar`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Writes the files under `dir` to `out` as a tar archive, paths
/// relative to `dir`.
pub fn tar_directory(dir: &Path, out: &mut dyn Write) -> std::io::Result<()> {
    let mut tar = Command::new("tar")
        .args(["-c", "-f", "-", "-C"])
        .arg(dir)
        .arg(".")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = tar
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("tar gave no output"))?;
    let mut buffer = [0u8; 64 * 1024];
    loop {
        let read = stdout.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        out.write_all(&buffer[..read])?;
    }
    let finished = tar.wait_with_output()?;
    if !finished.status.success() {
        return Err(std::io::Error::other(format!(
            "tar failed: {}",
            String::from_utf8_lossy(&finished.stderr).trim()
        )));
    }
    Ok(())
}
