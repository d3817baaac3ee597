//! `DATABASE_URL`: which forms the store can use, checked before connecting
//! so that a bad one stops start-up with one line saying why.
//!
//! The URL may hold a password: messages name the variable, never the value.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use storeops_contract::env;

use super::ConfigError;
use crate::db::DbSystem;

const FORMS: &str = "expected sqlite:///PATH/store.db or postgres://USER:PASSWORD@HOST/DB";

fn refuse(why: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{}: {why}", env::DATABASE_URL))
}

/// Checks that `url` names a database the store can keep its data in: a
/// SQLite file (not an in-memory or read-only database) or a PostgreSQL
/// database whose URL sqlx can parse.
pub fn validate(url: &str) -> Result<(), ConfigError> {
    if url.trim().is_empty() {
        return Err(refuse(format_args!("is empty; {FORMS}")));
    }
    match DbSystem::from_url(url) {
        Some(DbSystem::Sqlite) => validate_sqlite(url),
        Some(DbSystem::Postgres) => PgConnectOptions::from_str(url)
            .map(drop)
            .map_err(|e| refuse(redact(&sqlx_reason(&e), url))),
        None => Err(refuse(format_args!(
            "unsupported scheme (only sqlite: and postgres:); {FORMS}"
        ))),
    }
}

fn validate_sqlite(url: &str) -> Result<(), ConfigError> {
    // The same split as sqlx's: scheme, then the file, then `?` parameters.
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (file, params) = rest.split_once('?').unwrap_or((rest, ""));
    let param = |key: &str| {
        form_urlencoded::parse(params.as_bytes())
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.to_ascii_lowercase())
            .last()
    };
    let in_memory = "is an in-memory SQLite database: each connection would get its own empty \
                     database; the store needs a file on its volume, e.g. sqlite:///data/store.db";
    if file == ":memory:" || param("mode").as_deref() == Some("memory") {
        return Err(refuse(in_memory));
    }
    if file.is_empty() {
        return Err(refuse(
            "names no SQLite file (SQLite would give each connection its own temporary \
             database); the store needs a file on its volume, e.g. sqlite:///data/store.db",
        ));
    }
    if param("mode").as_deref() == Some("ro")
        || matches!(param("immutable").as_deref(), Some("1" | "true"))
    {
        return Err(refuse(
            "opens SQLite read-only (mode=ro or immutable): the store writes to its database",
        ));
    }
    SqliteConnectOptions::from_str(url).map_err(|e| refuse(sqlx_reason(&e)))?;
    if std::path::Path::new(file).is_dir() {
        return Err(refuse("names a directory, not a SQLite file"));
    }
    Ok(())
}

/// sqlx's message without its generic prefix (which PostgreSQL's options
/// repeat inside the source).
fn sqlx_reason(e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::Configuration(source) => source.to_string(),
        other => other.to_string(),
    };
    text.trim_start_matches("error with configuration: ")
        .to_string()
}

/// Removes the URL's user information (user and password) from a message.
fn redact(message: &str, url: &str) -> String {
    let userinfo = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|authority| authority.rsplit_once('@'))
        .map(|(userinfo, _)| userinfo)
        .filter(|u| !u.is_empty());
    let mut out = message.to_string();
    if let Some(u) = userinfo {
        out = out.replace(u, "***");
        if let Some((_, password)) = u.split_once(':').filter(|(_, p)| !p.is_empty()) {
            out = out.replace(password, "***");
        }
    }
    format!("{out}; {FORMS}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_and_pathless_sqlite_is_refused_with_the_reason() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://data.db?mode=memory",
            "sqlite:data.db?cache=shared&mode=Memory",
        ] {
            let e = validate(url).unwrap_err().0;
            assert!(e.starts_with("DATABASE_URL: "), "{url}: {e}");
            assert!(
                e.contains("each connection would get its own empty database"),
                "{url}: {e}"
            );
            assert!(e.contains("file on its volume"), "{url}: {e}");
        }
        for url in ["sqlite:", "sqlite://", "sqlite://?mode=rwc"] {
            let e = validate(url).unwrap_err().0;
            assert!(e.contains("names no SQLite file"), "{url}: {e}");
        }
    }

    #[test]
    fn every_other_malformed_url_is_one_line_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let dir_url = format!("sqlite://{}", dir.path().display());
        for url in [
            "",
            "  ",
            "store.db",
            "mysql://root:hunter2@db/store",
            "sqlite://store.db?mode=ro",
            "sqlite://store.db?immutable=1",
            "sqlite://store.db?mode=fast",
            "sqlite://store.db?journal=wal",
            "sqlite://store%ff.db",
            &dir_url,
            "postgres://user:hunter2@db:99999/store",
            "postgres://user:hunter2@db/store?sslmode=sometimes",
        ] {
            let e = validate(url).unwrap_err().0;
            assert!(e.starts_with("DATABASE_URL"), "{url:?}: {e}");
            assert_eq!(e.lines().count(), 1, "{url:?}: {e}");
            assert!(!e.contains("hunter2"), "{url:?}: the password leaked: {e}");
        }
    }

    #[test]
    fn usable_urls_pass() {
        for url in [
            "sqlite://store.db",
            "sqlite:///data/store.db",
            "sqlite:store.db?mode=rwc",
            "sqlite://store.db?mode=rw&cache=shared",
            "postgres://user:pw@db:5432/store",
            "postgresql://user@db/store?sslmode=require",
        ] {
            validate(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }
}
