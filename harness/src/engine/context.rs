//! Build contexts into a dind: a host folder packed as tar and streamed
//! through the Docker API's archive upload.
//!
//! Packing goes to a temporary file, not memory, because a context may hold
//! a whole `target/` folder (the second seed's situation). Symlinks are kept
//! as links and modes as they are, as `docker build` would see them.

use std::path::Path;

use futures::stream;
use testcontainers::bollard::query_parameters::UploadToContainerOptionsBuilder;
use testcontainers::bollard::{body_try_stream, Docker};
use tokio::io::AsyncReadExt;

use super::error::Source;

/// Packs `dir` (its contents, not the folder itself) into a tar file.
pub(crate) fn pack(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"));
    }
    let file = tempfile::NamedTempFile::new()?;
    let mut builder = tar::Builder::new(file.reopen()?);
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.into_inner()?.sync_all()?;
    Ok(file)
}

/// Uploads `dir`'s contents to the existing folder `dest` of `container`.
pub(crate) async fn upload(docker: &Docker, container: &str, dir: &Path, dest: &str) -> Result<(), Source> {
    let owned = dir.to_path_buf();
    let packed = tokio::task::spawn_blocking(move || pack(&owned)).await??;
    let file = tokio::fs::File::open(packed.path()).await?;
    let chunks = stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 256 * 1024];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            Ok(None)
        } else {
            buf.truncate(n);
            Ok(Some((bytes::Bytes::from(buf), file)))
        }
    });
    let options = UploadToContainerOptionsBuilder::new().path(dest).build();
    docker.upload_to_container(container, Some(options), body_try_stream(chunks)).await?;
    drop(packed);
    Ok(())
}

/// Uploads `bytes` as the file `dest_dir/name` with `mode`, owned by root,
/// from memory: a secret never touches the host's disk on its way in.
pub(crate) async fn upload_bytes(
    docker: &Docker,
    container: &str,
    dest_dir: &str,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<(), Source> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_data(&mut header, name, bytes)?;
    let archive = builder.into_inner()?;
    let options = UploadToContainerOptionsBuilder::new().path(dest_dir).build();
    docker.upload_to_container(container, Some(options), testcontainers::bollard::body_full(archive.into())).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_keeps_relative_paths_symlinks_and_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}").unwrap();
        std::fs::write(dir.path().join("run.sh"), "#!/bin/sh").unwrap();
        std::fs::set_permissions(dir.path().join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("src/main.rs", dir.path().join("link")).unwrap();

        let packed = pack(dir.path()).unwrap();
        let mut archive = tar::Archive::new(std::fs::File::open(packed.path()).unwrap());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let kind = entry.header().entry_type();
            let mode = entry.header().mode().unwrap() & 0o777;
            seen.push((path, kind.is_symlink(), mode));
        }
        assert!(seen.iter().any(|(p, _, _)| p == "src/main.rs"), "{seen:?}");
        assert!(seen.iter().any(|(p, link, _)| p == "link" && *link), "{seen:?}");
        assert!(seen.iter().any(|(p, _, m)| p == "run.sh" && *m == 0o755), "{seen:?}");
        assert!(pack(&dir.path().join("run.sh")).is_err());
    }
}
