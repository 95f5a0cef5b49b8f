//! Where a registry's tables live: the SQLite file inside the registry
//! directory (the default), or a PostgreSQL database recorded in the
//! directory at `registry init --database`, so that several servers can
//! share one log (docs/postgres.md).
//!
//! The URL may carry a password: the record is written with mode 0600, the
//! URL is zeroized when dropped, and it only ever prints redacted.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize as _, Zeroizing};

/// The file in a registry directory that names its PostgreSQL database.
pub const DATABASE_FILE: &str = "database.toml";

/// Why a database URL or its record is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// Not a `postgres://` or `postgresql://` URL the client accepts.
    #[error("{shown}: not a PostgreSQL URL ({why})")]
    BadUrl {
        /// The URL, password redacted.
        shown: String,
        /// What is wrong with it.
        why: String,
    },
    /// The record file cannot be read or written, or does not parse.
    #[error("{path}: {why}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
}

/// A PostgreSQL connection URL. `Display` and `Debug` redact the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Zeroizing<String>);

impl DatabaseUrl {
    /// Checks the scheme and that the client can parse the URL.
    pub fn parse(url: &str) -> Result<Self, DatabaseError> {
        let bad = |why: String| DatabaseError::BadUrl {
            shown: redact(url),
            why,
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad(
                "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE".into()
            ));
        }
        url.parse::<postgres::Config>()
            .map_err(|e| bad(e.to_string()))?;
        Ok(DatabaseUrl(Zeroizing::new(url.to_owned())))
    }

    /// The URL with its password, for the client only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The URL with the password of its user-info part and any `password=`
/// query parameter replaced by `***`.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    match scheme {
        Some(s) => format!("{s}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    /// The connection URL.
    url: String,
}

impl Drop for Record {
    fn drop(&mut self) {
        self.url.zeroize();
    }
}

/// The record's path inside a registry directory.
pub fn record_path(dir: &Path) -> PathBuf {
    dir.join(DATABASE_FILE)
}

/// Writes the record (mode 0600, refusing to replace one) and fsyncs it.
pub fn write_record(dir: &Path, url: &DatabaseUrl) -> Result<(), DatabaseError> {
    let path = record_path(dir);
    let err = |why: String| DatabaseError::Record {
        path: path.clone(),
        why,
    };
    let text = Zeroizing::new(
        toml::to_string(&Record {
            url: url.expose().to_owned(),
        })
        .map_err(|e| err(e.to_string()))?,
    );
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| err(e.to_string()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| err(e.to_string()))
}

/// The database recorded in `dir`, if any.
pub fn read_record(dir: &Path) -> Result<Option<DatabaseUrl>, DatabaseError> {
    let path = record_path(dir);
    let text = match fs::read_to_string(&path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(DatabaseError::Record {
                path,
                why: e.to_string(),
            });
        }
    };
    let record: Record = toml::from_str(&text).map_err(|e| DatabaseError::Record {
        path: path.clone(),
        // The parser quotes the offending line, which may hold the password.
        why: format!(
            "does not parse (expected url = \"postgres://…\"): {}",
            e.message()
        ),
    })?;
    DatabaseUrl::parse(&record.url)
        .map(Some)
        .map_err(|e| DatabaseError::Record {
            path,
            why: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        for (url, shown) in [
            (
                "postgres://bp:s3cret@db.example:5432/registry",
                "postgres://bp:***@db.example:5432/registry",
            ),
            (
                "postgresql://bp:p%40ss@127.0.0.1/r?sslmode=disable&password=x",
                "postgresql://bp:***@127.0.0.1/r?sslmode=disable&password=***",
            ),
            ("postgres://bp@host/db", "postgres://bp@host/db"),
            ("postgres://host", "postgres://host"),
        ] {
            assert_eq!(redact(url), shown);
        }
        let u = DatabaseUrl::parse("postgres://bp:s3cret@db.example:5432/registry").unwrap();
        assert!(!u.to_string().contains("s3cret"));
        assert!(!format!("{u:?}").contains("s3cret"));
        assert_eq!(u.expose(), "postgres://bp:s3cret@db.example:5432/registry");
    }

    #[test]
    fn only_postgres_urls_are_accepted_and_errors_redact() {
        let e = DatabaseUrl::parse("mysql://u:s3cret@h/db").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = DatabaseUrl::parse("postgres://u:s3cret@h:notaport/db").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }

    #[test]
    fn the_record_is_private_and_round_trips() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        assert!(read_record(dir.path()).unwrap().is_none());
        let u = DatabaseUrl::parse("postgres://bp:s3cret@localhost:5432/registry").unwrap();
        write_record(dir.path(), &u).unwrap();
        let mode = fs::metadata(record_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read_record(dir.path()).unwrap(), Some(u.clone()));
        assert!(write_record(dir.path(), &u).is_err(), "never replaced");
        fs::write(record_path(dir.path()), "url = s3cret\n").unwrap();
        let e = read_record(dir.path()).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
